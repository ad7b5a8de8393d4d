// models/tagger/model.cc — the two-headed Brown tagger (see model.h).
#include "models/tagger/model.h"

#include "engine/check.h"
#include "engine/ops.h"
#include "models/data/batching.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace unroll::tagger {

std::string TaggerConfig::to_json() const {
  nlohmann::json j = {{"arch", "brown_tagger"},    {"word_vocab", word_vocab},   {"char_vocab", char_vocab},
                      {"num_tags", num_tags},      {"word_embed", word_embed},   {"char_embed", char_embed},
                      {"char_hidden", char_hidden}, {"hidden", hidden},          {"layers", layers},
                      {"dropout", dropout}};
  return j.dump();
}

TaggerConfig TaggerConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("tagger config: not JSON ({})", e.what()));
  }
  if (!j.is_object() || j.value("arch", std::string()) != "brown_tagger")
    throw std::invalid_argument(fmt::format("tagger config: expected {{\"arch\":\"brown_tagger\",…}}, got {}",
                                            j.dump().substr(0, 120)));
  TaggerConfig c;
  const auto get_int = [&](const char* key, int& out) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<long long>() <= 0)
      throw std::invalid_argument(fmt::format("tagger config: \"{}\" must be a positive integer, got {}", key,
                                              j.contains(key) ? j[key].dump() : std::string("nothing")));
    out = j[key].get<int>();
  };
  get_int("word_vocab", c.word_vocab);
  get_int("char_vocab", c.char_vocab);
  get_int("num_tags", c.num_tags);
  get_int("word_embed", c.word_embed);
  get_int("char_embed", c.char_embed);
  get_int("char_hidden", c.char_hidden);
  get_int("hidden", c.hidden);
  get_int("layers", c.layers);
  c.dropout = j.value("dropout", 0.0);
  return c;
}

std::string TaggerConfig::describe() const {
  return fmt::format("Tagger(words={}, chars={}, tags={}, emb {} + char BiLSTM {}, BiLSTM {}x{})", word_vocab,
                     char_vocab, num_tags, word_embed, char_hidden, layers, hidden);
}

namespace {
const TaggerConfig& checked(const TaggerConfig& c) {
  UNROLL_CHECK(c.word_vocab > 0 && c.char_vocab > 0 && c.num_tags > 0 && c.word_embed > 0 && c.char_embed > 0 &&
                   c.char_hidden > 0 && c.hidden > 0 && c.layers > 0,
               "Tagger: config needs positive sizes, got {}", c.to_json());
  UNROLL_CHECK(c.dropout >= 0 && c.dropout < 1, "Tagger: dropout must be in [0, 1), got {}", c.dropout);
  return c;
}
RecurrentConfig word_lstm_config(const TaggerConfig& c) {
  RecurrentConfig r = recurrent_config(c.word_embed + 2 * c.char_hidden, c.hidden, c.layers, true);
  r.dropout = c.dropout;
  r.forget_bias = 1.0;
  return r;
}
RecurrentConfig char_lstm_config(const TaggerConfig& c) {
  RecurrentConfig r = recurrent_config(c.char_embed, c.char_hidden, 1, true);
  r.forget_bias = 1.0;
  return r;
}
}  // namespace

template <class T>
TaggerModel<T>::TaggerModel(const TaggerConfig& config, Rng& rng)
    : config_(checked(config)),
      word_embedding_(config.word_vocab, config.word_embed, rng, /*padding_idx=*/0),
      char_embedding_(config.char_vocab, config.char_embed, rng, /*padding_idx=*/0),
      char_lstm_(char_lstm_config(config), rng),
      lstm_(word_lstm_config(config), rng),
      pos_head_(2 * config.hidden, config.num_tags, rng),
      ner_head_(2 * config.hidden, 2, rng) {}

template <class T>
Var<T> TaggerModel<T>::char_features(const TaggerInput& in, Rng* rng) {
  const data::Batch cb = data::pad_all(in.words);  // [U, Lc]
  std::vector<Var<T>> xs(cb.T);
  std::vector<std::int64_t> col(cb.B);
  for (std::size_t t = 0; t < cb.T; ++t) {
    for (std::size_t u = 0; u < cb.B; ++u) col[u] = cb.ids[u * cb.T + t];
    xs[t] = char_embedding_(col);
  }
  std::vector<int> lengths(cb.B);
  for (std::size_t u = 0; u < cb.B; ++u) lengths[u] = int(cb.lengths[u]);
  RecurrentOutput<T> out = char_lstm_.forward(xs, lengths, {}, {}, rng);
  return concat_cols(std::vector<Var<T>>{out.h_n[0], out.h_n[1]});  // [U, 2·H_c]: forward end | reverse end
}

template <class T>
std::pair<Var<T>, Var<T>> TaggerModel<T>::forward(const TaggerInput& in, Rng* rng) {
  const std::size_t B = in.B, steps = in.T;
  UNROLL_CHECK(B > 0 && steps > 0 && in.word_ids.size() == B * steps && in.token_word.size() == B * steps &&
                   in.lengths.size() == B && !in.words.empty(),
               "{}: inconsistent batch: B={}, T={}, {} word ids, {} token->word entries, {} lengths, {} distinct words",
               describe(), B, steps, in.word_ids.size(), in.token_word.size(), in.lengths.size(), in.words.size());
  const bool training = this->training();
  UNROLL_CHECK(!training || rng != nullptr || config_.dropout == 0, "{}: training mode with dropout needs an rng",
               describe());
  for (std::size_t i = 0; i < in.token_word.size(); ++i)
    UNROLL_CHECK(in.token_word[i] >= 0 && std::size_t(in.token_word[i]) < in.words.size(),
                 "{}: token {} points at word {} of {}", describe(), i, in.token_word[i], in.words.size());
  const Var<T> chars = char_features(in, rng);
  std::vector<Var<T>> xs(steps);
  std::vector<std::int64_t> wcol(B), ccol(B);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t b = 0; b < B; ++b) wcol[b] = in.word_ids[b * steps + t], ccol[b] = in.token_word[b * steps + t];
    xs[t] = concat_cols(std::vector<Var<T>>{word_embedding_(wcol), embedding(chars, ccol)});
    if (training && config_.dropout > 0) xs[t] = dropout(xs[t], config_.dropout, *rng, true);
  }
  RecurrentOutput<T> out = lstm_.forward(xs, in.lengths, {}, {}, rng);
  Var<T> hs = steps == 1 ? out.outputs[0] : concat_rows(out.outputs);  // [T·B, 2H]
  if (training && config_.dropout > 0) hs = dropout(hs, config_.dropout, *rng, true);
  return {pos_head_(hs), ner_head_(hs)};
}

template <class T>
void TaggerModel<T>::train(bool on) {
  Module<T>::train(on);
  word_embedding_.train(on);
  char_embedding_.train(on);
  char_lstm_.train(on);
  lstm_.train(on);
  pos_head_.train(on);
  ner_head_.train(on);
}

template <class T>
std::vector<NamedParam<T>> TaggerModel<T>::parameters() {
  std::vector<NamedParam<T>> p;
  this->add_child_params(p, "word_embedding", word_embedding_.parameters());
  this->add_child_params(p, "char_embedding", char_embedding_.parameters());
  this->add_child_params(p, "char_lstm", char_lstm_.parameters());
  this->add_child_params(p, "lstm", lstm_.parameters());
  this->add_child_params(p, "pos_head", pos_head_.parameters());
  this->add_child_params(p, "ner_head", ner_head_.parameters());
  return p;
}

template <class T>
std::string TaggerModel<T>::describe() const {
  return fmt::format("Tagger({} + char {} -> {} -> pos {}, ner {})", word_embedding_.describe(),
                     char_lstm_.describe(), lstm_.describe(), pos_head_.describe(), ner_head_.describe());
}

template class TaggerModel<float>;
template class TaggerModel<double>;

}  // namespace unroll::tagger
