// models/common/lstm_lm.cc — the LSTM LM's config, its output mask and the model (see lstm_lm.h).
#include "models/common/lstm_lm.h"

#include "engine/ops.h"
#include "models/common/config_json.h"
#include "models/data/vocab.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace unroll::common {

namespace {
const char* model_name(LstmLmArch a) { return a == LstmLmArch::words ? "WordLM" : "CharLM"; }
const char* config_name(LstmLmArch a) { return a == LstmLmArch::words ? "word LM config" : "char LM config"; }
}  // namespace

// ---- config ------------------------------------------------------------------------------------------
const char* arch_name(LstmLmArch a) { return a == LstmLmArch::words ? "word_lstm" : "char_lstm"; }

LstmLmConfig LstmLmConfig::sized(LstmLmArch arch, int vocab_size, int embed, int hidden, int layers) {
  LstmLmConfig c;
  c.arch = arch;
  c.vocab_size = vocab_size;
  c.embed = embed;
  c.hidden = hidden;
  c.layers = layers;
  return c;
}

std::string LstmLmConfig::to_json() const {
  nlohmann::json j = {{"arch", arch_name(arch)}, {"vocab_size", vocab_size}, {"embed", embed},
                      {"hidden", hidden},        {"layers", layers},         {"forget_bias", forget_bias},
                      {"dropout", dropout}};
  if (io_dropout > 0) j["io_dropout"] = io_dropout;  // files without it stay byte-identical
  return j.dump();
}

LstmLmConfig LstmLmConfig::from_json(const std::string& text, LstmLmArch arch, const std::string& source) {
  const ConfigJson j(text, config_name(arch), arch_name(arch), source);
  LstmLmConfig c;
  c.arch = arch;
  c.vocab_size = j.positive_int("vocab_size");
  c.embed = j.positive_int("embed");
  c.hidden = j.positive_int("hidden");
  c.layers = j.positive_int("layers");
  c.forget_bias = j.number("forget_bias", 0.0);  // files from before the field: PyTorch's plain init
  c.dropout = j.number("dropout", 0.0);
  c.io_dropout = j.number("io_dropout", 0.0);
  return c;
}

std::string LstmLmConfig::describe() const {
  return fmt::format("{}(V={}, E={}, LSTM {}x{})", model_name(arch), vocab_size, embed, layers, hidden);
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
const LstmLmConfig& checked(const LstmLmConfig& c) {
  UNROLL_CHECK(c.vocab_size > 0 && c.embed > 0 && c.hidden > 0 && c.layers > 0,
               "{}: config needs positive sizes, got vocab_size={}, embed={}, hidden={}, layers={}",
               model_name(c.arch), c.vocab_size, c.embed, c.hidden, c.layers);
  UNROLL_CHECK(c.dropout >= 0 && c.dropout < 1, "{}: dropout must be in [0, 1), got {}", model_name(c.arch),
               c.dropout);
  UNROLL_CHECK(c.io_dropout >= 0 && c.io_dropout < 1, "{}: io_dropout must be in [0, 1), got {}",
               model_name(c.arch), c.io_dropout);
  return c;
}

RecurrentConfig lstm_config(const LstmLmConfig& c) {
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
LstmLm<T>::LstmLm(const LstmLmConfig& config, Rng& rng)
    : config_(checked(config)),
      embedding_(config.vocab_size, config.embed, rng),
      lstm_(lstm_config(config), rng),
      decoder_(config.hidden, config.vocab_size, rng),
      rng_(config.io_dropout > 0 ? rng.next() : 0) {  // models without it draw exactly what they drew before
  mask_unused_outputs();
}

template <class T>
void LstmLm<T>::mask_unused_outputs() {
  if (config_.arch != LstmLmArch::words) return;
  for (std::int64_t id : {data::Vocab::pad, data::Vocab::bos}) {
    if (id >= config_.vocab_size) continue;
    decoder_.bias().value()(0, std::size_t(id)) = T(-1e4);
    for (int j = 0; j < config_.hidden; ++j) decoder_.weight().value()(std::size_t(id), std::size_t(j)) = T(0);
  }
}

template <class T>
Var<T> LstmLm<T>::forward(const std::vector<std::int64_t>& x, std::size_t B, std::size_t steps, LstmState<T>& state,
                          Rng* rng) {
  UNROLL_CHECK(B > 0 && steps > 0 && x.size() == B * steps, "{}: {} ids for a [B, T] = [{}, {}] chunk", describe(),
               x.size(), B, steps);
  UNROLL_CHECK(state.batch() == B && state.h.size() == std::size_t(config_.layers) &&
                   state.c.size() == std::size_t(config_.layers),
               "{}: state is for batch {} with {} layers, the chunk has B = {} and the model {} layers", describe(),
               state.batch(), state.h.size(), B, config_.layers);
  Rng& masks = rng ? *rng : rng_;
  const bool io_drop = config_.io_dropout > 0 && this->training();
  std::vector<Var<T>> xs(steps);  // T steps of [B, E]
  std::vector<std::int64_t> ids(B);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t b = 0; b < B; ++b) ids[b] = x[b * steps + t];
    xs[t] = embedding_(ids);
    if (io_drop) xs[t] = dropout(xs[t], config_.io_dropout, masks, true);
  }
  RecurrentOutput<T> out = lstm_.forward(xs, {}, state.h, state.c, rng);
  state.h = std::move(out.h_n);
  state.c = std::move(out.c_n);
  Var<T> hs = steps == 1 ? out.outputs[0] : concat_rows(out.outputs);  // [T·B, H] time-major
  if (io_drop) hs = dropout(hs, config_.io_dropout, masks, true);
  return decoder_(hs);  // [T·B, V]
}

template <class T>
LstmState<T> LstmLm<T>::zero_state(std::size_t batch) const {
  LstmState<T> s;
  for (int l = 0; l < config_.layers; ++l) {
    s.h.push_back(constant(zeros<T>(batch, config_.hidden)));
    s.c.push_back(constant(zeros<T>(batch, config_.hidden)));
  }
  return s;
}

template <class T>
void LstmLm<T>::train(bool on) {
  Module<T>::train(on);
  embedding_.train(on);
  lstm_.train(on);
  decoder_.train(on);
}

template <class T>
std::vector<NamedParam<T>> LstmLm<T>::parameters() {
  std::vector<NamedParam<T>> p;
  this->add_child_params(p, "embedding", embedding_.parameters());
  this->add_child_params(p, "lstm", lstm_.parameters());
  this->add_child_params(p, "decoder", decoder_.parameters());
  return p;
}

template <class T>
std::string LstmLm<T>::describe() const {
  return fmt::format("{}({} -> {} -> {})", model_name(config_.arch), embedding_.describe(), lstm_.describe(),
                     decoder_.describe());
}

template class LstmLm<float>;
template class LstmLm<double>;
template LstmState<float> detach_state<float>(const LstmState<float>&);
template LstmState<double> detach_state<double>(const LstmState<double>&);

}  // namespace unroll::common
