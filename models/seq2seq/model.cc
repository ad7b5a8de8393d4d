// models/seq2seq/model.cc — the encoder–decoder with attention (see model.h).
#include "models/seq2seq/model.h"

#include "engine/check.h"
#include "engine/ops.h"
#include "models/common/config_json.h"
#include "models/data/vocab.h"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace unroll::seq2seq {

std::string Seq2SeqConfig::to_json() const {
  nlohmann::json j = {{"arch", "seq2seq_lstm"}, {"vocab_size", vocab_size}, {"embed", embed},
                      {"hidden", hidden},       {"attention", attention}};
  return j.dump();
}

Seq2SeqConfig Seq2SeqConfig::from_json(const std::string& text, const std::string& source) {
  const common::ConfigJson j(text, "seq2seq config", "seq2seq_lstm", source);
  Seq2SeqConfig c;
  c.vocab_size = j.positive_int("vocab_size");
  c.embed = j.positive_int("embed");
  c.hidden = j.positive_int("hidden");
  c.attention = j.boolean("attention");
  return c;
}

std::string Seq2SeqConfig::describe() const {
  return fmt::format("Seq2Seq(V={}, E={}, H={}{})", vocab_size, embed, hidden, attention ? ", attention" : "");
}

namespace {
const Seq2SeqConfig& checked(const Seq2SeqConfig& c) {
  UNROLL_CHECK(c.vocab_size > int(data::Vocab::num_reserved) && c.embed > 0 && c.hidden > 0 && c.hidden % 2 == 0,
               "Seq2Seq: config needs vocab_size > 4, embed > 0 and an even hidden > 0, got vocab_size={}, embed={}, "
               "hidden={}",
               c.vocab_size, c.embed, c.hidden);
  return c;
}
RecurrentConfig enc_config(const Seq2SeqConfig& c) {
  RecurrentConfig r = recurrent_config(c.embed, c.hidden / 2, 1, true);
  r.forget_bias = 1.0;
  return r;
}
RecurrentConfig dec_config(const Seq2SeqConfig& c) {
  RecurrentConfig r = recurrent_config(c.embed, c.hidden, 1, false);
  r.forget_bias = 1.0;
  return r;
}
}  // namespace

template <class T>
Seq2Seq<T>::Seq2Seq(const Seq2SeqConfig& config, Rng& rng)
    : config_(checked(config)),
      embedding_(config.vocab_size, config.embed, rng, data::Vocab::pad),
      encoder_(enc_config(config), rng),
      decoder_(dec_config(config), rng),
      combine_(2 * config.hidden, config.hidden, rng),
      out_(config.hidden, config.vocab_size, rng) {}

template <class T>
Encoded<T> Seq2Seq<T>::encode(const std::vector<std::vector<std::int64_t>>& sources) {
  const std::size_t B = sources.size();
  UNROLL_CHECK(B > 0, "{}: encode needs at least one source", config_.describe());
  std::size_t S = 0;
  for (std::size_t b = 0; b < B; ++b) {
    UNROLL_CHECK(!sources[b].empty(), "{}: source {} is empty", config_.describe(), b);
    for (auto id : sources[b])
      UNROLL_CHECK(id >= 0 && id < config_.vocab_size, "{}: source {} holds id {}, expected [0, {})",
                   config_.describe(), b, id, config_.vocab_size);
    S = std::max(S, sources[b].size());
  }
  std::vector<Var<T>> xs(S);
  std::vector<std::int64_t> ids(B);
  std::vector<int> lengths(B);
  Encoded<T> enc;
  enc.batch = B;
  enc.steps = S;
  enc.score_mask = zeros<T>(B, S);
  for (std::size_t b = 0; b < B; ++b) {
    lengths[b] = int(sources[b].size());
    for (std::size_t s = sources[b].size(); s < S; ++s) enc.score_mask(b, s) = T(-1e9);
  }
  for (std::size_t s = 0; s < S; ++s) {
    for (std::size_t b = 0; b < B; ++b) ids[b] = s < sources[b].size() ? sources[b][s] : data::Vocab::pad;
    xs[s] = embedding_(ids);
  }
  RecurrentOutput<T> out = encoder_.forward(xs, lengths);
  enc.outputs = std::move(out.outputs);
  enc.init = {CellState<T>{concat_cols(std::vector<Var<T>>{out.h_n[0], out.h_n[1]}),
                           concat_cols(std::vector<Var<T>>{out.c_n[0], out.c_n[1]})}};
  return enc;
}

template <class T>
Var<T> Seq2Seq<T>::decode_step(const std::vector<std::int64_t>& prev, std::vector<CellState<T>>& state,
                               const Encoded<T>& enc) {
  UNROLL_CHECK(prev.size() == enc.batch, "{}: decode_step got {} ids for an encoded batch of {}", config_.describe(),
               prev.size(), enc.batch);
  const Var<T> h = decoder_.step(embedding_(prev), state);  // [B, H]
  if (!config_.attention) return out_(h);
  const std::size_t S = enc.steps, H = std::size_t(config_.hidden);
  std::vector<Var<T>> scores(S);
  for (std::size_t s = 0; s < S; ++s) scores[s] = sum_cols(mul(h, enc.outputs[s]));  // [B, 1]
  const Var<T> alpha = softmax(add(concat_cols(scores), constant(Mat<T>(enc.score_mask))));  // [B, S]
  const Var<T> ones_row = constant(Mat<T>(xt::ones<T>({std::size_t(1), H})));
  Var<T> context;
  for (std::size_t s = 0; s < S; ++s) {
    const Var<T> term = mul(matmul(cols(alpha, s, s + 1), ones_row), enc.outputs[s]);
    context = s == 0 ? term : add(context, term);
  }
  return out_(tanh(combine_(concat_cols(std::vector<Var<T>>{h, context}))));
}

template <class T>
std::vector<Var<T>> Seq2Seq<T>::forward_teacher(const std::vector<std::vector<std::int64_t>>& sources,
                                                const std::vector<std::vector<std::int64_t>>& targets) {
  UNROLL_CHECK(sources.size() == targets.size(), "{}: {} sources but {} targets", config_.describe(), sources.size(),
               targets.size());
  const Encoded<T> enc = encode(sources);
  std::size_t L = 0;
  for (const auto& t : targets) L = std::max(L, t.size());
  std::vector<CellState<T>> state = enc.init;
  std::vector<std::int64_t> prev(sources.size(), data::Vocab::bos);
  std::vector<Var<T>> logits;
  for (std::size_t t = 0; t < L; ++t) {
    logits.push_back(decode_step(prev, state, enc));
    for (std::size_t b = 0; b < targets.size(); ++b) prev[b] = t < targets[b].size() ? targets[b][t] : data::Vocab::pad;
  }
  return logits;
}

template <class T>
void Seq2Seq<T>::train(bool on) {
  Module<T>::train(on);
  embedding_.train(on);
  encoder_.train(on);
  decoder_.train(on);
  combine_.train(on);
  out_.train(on);
}

template <class T>
std::vector<NamedParam<T>> Seq2Seq<T>::parameters() {
  std::vector<NamedParam<T>> p;
  this->add_child_params(p, "embedding", embedding_.parameters());
  this->add_child_params(p, "encoder", encoder_.parameters());
  this->add_child_params(p, "decoder", decoder_.parameters());
  if (config_.attention) this->add_child_params(p, "combine", combine_.parameters());
  this->add_child_params(p, "out", out_.parameters());
  return p;
}

template <class T>
std::string Seq2Seq<T>::describe() const {
  return config_.describe();
}

template class Seq2Seq<float>;
template class Seq2Seq<double>;
template struct Encoded<float>;
template struct Encoded<double>;

}  // namespace unroll::seq2seq
