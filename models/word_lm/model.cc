// models/word_lm/model.cc — the word LM's LSTM stack and the full model (see model.h).
#include "models/word_lm/model.h"

#include "engine/ops.h"
#include "models/data/vocab.h"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace unroll::word_lm {

// ---- config ------------------------------------------------------------------------------------------
std::string WordLmConfig::to_json() const {
  nlohmann::json j = {{"arch", "word_lstm"}, {"vocab_size", vocab_size}, {"embed", embed},
                      {"hidden", hidden},    {"layers", layers},         {"forget_bias", forget_bias},
                      {"dropout", dropout}};
  return j.dump();
}

WordLmConfig WordLmConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("word LM config: not JSON ({})", e.what()));
  }
  if (!j.is_object() || j.value("arch", std::string()) != "word_lstm")
    throw std::invalid_argument(fmt::format("word LM config: expected {{\"arch\":\"word_lstm\",…}}, got {}",
                                            j.dump().substr(0, 120)));
  WordLmConfig c;
  const auto get_int = [&](const char* key, int& out) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<long long>() <= 0)
      throw std::invalid_argument(fmt::format("word LM config: \"{}\" must be a positive integer, got {}", key,
                                              j.contains(key) ? j[key].dump() : std::string("nothing")));
    out = j[key].get<int>();
  };
  get_int("vocab_size", c.vocab_size);
  get_int("embed", c.embed);
  get_int("hidden", c.hidden);
  get_int("layers", c.layers);
  c.forget_bias = j.value("forget_bias", 0.0);
  c.dropout = j.value("dropout", 0.0);
  return c;
}

std::string WordLmConfig::describe() const {
  return fmt::format("WordLM(V={}, E={}, LSTM {}x{})", vocab_size, embed, layers, hidden);
}

template <class T>
LstmState<T> detach_state(const LstmState<T>& s) {
  LstmState<T> d;
  for (const auto& h : s.h) d.h.push_back(detach(h));
  for (const auto& c : s.c) d.c.push_back(detach(c));
  return d;
}

// ---- the model -----------------------------------------------------------------------------------------
namespace {
const WordLmConfig& checked(const WordLmConfig& c) {
  UNROLL_CHECK(c.vocab_size > 0 && c.embed > 0 && c.hidden > 0 && c.layers > 0,
               "WordLM: config needs positive sizes, got vocab_size={}, embed={}, hidden={}, layers={}",
               c.vocab_size, c.embed, c.hidden, c.layers);
  UNROLL_CHECK(c.dropout >= 0 && c.dropout < 1, "WordLM: dropout must be in [0, 1), got {}", c.dropout);
  return c;
}

RecurrentConfig lstm_config(const WordLmConfig& c) {
  RecurrentConfig r;
  r.input_size = c.embed;
  r.hidden_size = c.hidden;
  r.num_layers = c.layers;
  r.dropout = c.dropout;
  // A forget gate that starts open lets gradients through early in training (Jozefowicz et al. 2015).
  if (c.forget_bias != 0) r.forget_bias = c.forget_bias;
  return r;
}
}  // namespace

template <class T>
WordLm<T>::WordLm(const WordLmConfig& config, Rng& rng)
    : config_(checked(config)),
      embedding_(config.vocab_size, config.embed, rng),
      lstm_(lstm_config(config), rng),
      decoder_(config.hidden, config.vocab_size, rng) {
  mask_unused_outputs();
}

template <class T>
void WordLm<T>::mask_unused_outputs() {
  for (std::int64_t id : {data::Vocab::pad, data::Vocab::bos}) {
    if (id >= config_.vocab_size) continue;
    decoder_.bias().value()(0, std::size_t(id)) = T(-1e4);
    for (int j = 0; j < config_.hidden; ++j) decoder_.weight().value()(std::size_t(id), std::size_t(j)) = T(0);
  }
}

template <class T>
Var<T> WordLm<T>::forward(const std::vector<std::int64_t>& x, std::size_t B, std::size_t steps, LstmState<T>& state) {
  UNROLL_CHECK(B > 0 && steps > 0 && x.size() == B * steps, "{}: {} ids for a [B, T] = [{}, {}] chunk", describe(),
               x.size(), B, steps);
  UNROLL_CHECK(state.batch() == B && state.h.size() == std::size_t(config_.layers) &&
                   state.c.size() == std::size_t(config_.layers),
               "{}: state is for batch {} with {} layers, the chunk has B = {} and the model {} layers", describe(),
               state.batch(), state.h.size(), B, config_.layers);
  std::vector<Var<T>> xs(steps);  // T steps of [B, E]
  std::vector<std::int64_t> ids(B);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t b = 0; b < B; ++b) ids[b] = x[b * steps + t];
    xs[t] = embedding_(ids);
  }
  RecurrentOutput<T> out = lstm_.forward(xs, {}, state.h, state.c);
  state.h = std::move(out.h_n);
  state.c = std::move(out.c_n);
  const Var<T> hs = steps == 1 ? out.outputs[0] : concat_rows(out.outputs);  // [T·B, H] time-major
  return decoder_(hs);                                                       // [T·B, V]
}

template <class T>
LstmState<T> WordLm<T>::zero_state(std::size_t batch) const {
  LstmState<T> s;
  for (int l = 0; l < config_.layers; ++l) {
    s.h.push_back(constant(zeros<T>(batch, config_.hidden)));
    s.c.push_back(constant(zeros<T>(batch, config_.hidden)));
  }
  return s;
}

template <class T>
void WordLm<T>::train(bool on) {
  Module<T>::train(on);
  embedding_.train(on);
  lstm_.train(on);
  decoder_.train(on);
}

template <class T>
std::vector<NamedParam<T>> WordLm<T>::parameters() {
  std::vector<NamedParam<T>> p;
  this->add_child_params(p, "embedding", embedding_.parameters());
  this->add_child_params(p, "lstm", lstm_.parameters());
  this->add_child_params(p, "decoder", decoder_.parameters());
  return p;
}

template <class T>
std::string WordLm<T>::describe() const {
  return fmt::format("WordLM({} -> {} -> {})", embedding_.describe(), lstm_.describe(), decoder_.describe());
}

template class WordLm<float>;
template class WordLm<double>;
template LstmState<float> detach_state<float>(const LstmState<float>&);
template LstmState<double> detach_state<double>(const LstmState<double>&);

}  // namespace unroll::word_lm
