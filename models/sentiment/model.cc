// models/sentiment/model.cc — the sentiment classifier (see model.h).
// Pooling over time is one masked product: the top layer's outputs stacked time-major X [T·B, D]; a constant
// selection S [B, T·B] (S[b, t·B + b] = 1 for max, 1/len_b for mean) gives pooled = S · (X ⊙ M), where M is
// 1 at the arg-max step of every (row, feature) over the row's real steps (max) or all ones (mean). The gradient
// of the max goes to the arg-max entries only, as PyTorch's max does.
#include "models/sentiment/model.h"

#include "engine/check.h"
#include "engine/ops.h"

#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace unroll::sentiment {

std::string SentimentConfig::to_json() const {
  nlohmann::json j = {{"arch", "sentiment_lstm"}, {"vocab_size", vocab_size}, {"embed", embed},
                      {"hidden", hidden},          {"layers", layers},         {"bidirectional", bidirectional},
                      {"pooling", pooling},        {"dropout", dropout},       {"embed_dropout", embed_dropout}};
  return j.dump();
}

SentimentConfig SentimentConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("sentiment config: not JSON ({})", e.what()));
  }
  if (!j.is_object() || j.value("arch", std::string()) != "sentiment_lstm")
    throw std::invalid_argument(fmt::format("sentiment config: expected {{\"arch\":\"sentiment_lstm\",…}}, got {}",
                                            j.dump().substr(0, 120)));
  SentimentConfig c;
  const auto get_int = [&](const char* key, int& out) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<long long>() <= 0)
      throw std::invalid_argument(fmt::format("sentiment config: \"{}\" must be a positive integer, got {}", key,
                                              j.contains(key) ? j[key].dump() : std::string("nothing")));
    out = j[key].get<int>();
  };
  get_int("vocab_size", c.vocab_size);
  get_int("embed", c.embed);
  get_int("hidden", c.hidden);
  get_int("layers", c.layers);
  c.bidirectional = j.value("bidirectional", true);
  c.pooling = j.value("pooling", std::string("max"));
  if (c.pooling != "max" && c.pooling != "mean" && c.pooling != "last")
    throw std::invalid_argument(fmt::format("sentiment config: \"pooling\" must be max, mean or last, got '{}'",
                                            c.pooling));
  c.dropout = j.value("dropout", 0.0);
  c.embed_dropout = j.value("embed_dropout", 0.0);
  return c;
}

std::string SentimentConfig::describe() const {
  return fmt::format("Sentiment(V={}, E={}, {}LSTM {}x{}, {}-pool)", vocab_size, embed, bidirectional ? "Bi" : "",
                     layers, hidden, pooling);
}

namespace {
const SentimentConfig& checked(const SentimentConfig& c) {
  UNROLL_CHECK(c.vocab_size > 0 && c.embed > 0 && c.hidden > 0 && c.layers > 0,
               "Sentiment: config needs positive sizes, got vocab_size={}, embed={}, hidden={}, layers={}",
               c.vocab_size, c.embed, c.hidden, c.layers);
  UNROLL_CHECK(c.dropout >= 0 && c.dropout < 1 && c.embed_dropout >= 0 && c.embed_dropout < 1,
               "Sentiment: dropout and embed_dropout must be in [0, 1), got {} and {}", c.dropout, c.embed_dropout);
  UNROLL_CHECK(c.pooling == "max" || c.pooling == "mean" || c.pooling == "last",
               "Sentiment: pooling must be max, mean or last, got '{}'", c.pooling);
  return c;
}

RecurrentConfig lstm_config(const SentimentConfig& c) {
  RecurrentConfig r = recurrent_config(c.embed, c.hidden, c.layers, c.bidirectional);
  r.dropout = c.dropout;
  r.forget_bias = 1.0;
  return r;
}
}  // namespace

template <class T>
SentimentModel<T>::SentimentModel(const SentimentConfig& config, Rng& rng)
    : config_(checked(config)),
      embedding_(config.vocab_size, config.embed, rng, /*padding_idx=*/0),
      lstm_(lstm_config(config), rng),
      fc_(config.hidden * (config.bidirectional ? 2 : 1), 1, rng) {}

template <class T>
Var<T> SentimentModel<T>::forward(const std::vector<std::int64_t>& ids, const std::vector<int>& lengths,
                                  std::size_t steps, Rng* rng) {
  const std::size_t B = lengths.size();
  UNROLL_CHECK(B > 0 && steps > 0 && ids.size() == B * steps, "{}: {} ids for a [B, T] = [{}, {}] batch", describe(),
               ids.size(), B, steps);
  const bool training = this->training();
  UNROLL_CHECK(!training || rng != nullptr || (config_.dropout == 0 && config_.embed_dropout == 0),
               "{}: training mode with dropout needs an rng", describe());
  std::vector<Var<T>> xs(steps);
  std::vector<std::int64_t> col(B);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t b = 0; b < B; ++b) col[b] = ids[b * steps + t];
    xs[t] = embedding_(col);
    if (training && config_.embed_dropout > 0) xs[t] = dropout(xs[t], config_.embed_dropout, *rng, true);
  }
  RecurrentOutput<T> out = lstm_.forward(xs, lengths, {}, {}, rng);
  const std::size_t dirs = config_.bidirectional ? 2 : 1;
  const std::size_t D = std::size_t(config_.hidden) * dirs;
  Var<T> pooled;
  if (config_.pooling == "last") {
    std::vector<Var<T>> last;
    for (std::size_t d = 0; d < dirs; ++d) last.push_back(out.h_n[(std::size_t(config_.layers) - 1) * dirs + d]);
    pooled = dirs == 1 ? last[0] : concat_cols(last);
  } else {
    const Var<T> X = steps == 1 ? out.outputs[0] : concat_rows(out.outputs);  // [T·B, D] time-major
    Mat<T> S = zeros<T>(B, steps * B);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < std::size_t(lengths[b]); ++t)
        S(b, t * B + b) = config_.pooling == "mean" ? T(1) / T(lengths[b]) : T(1);
    if (config_.pooling == "max") {
      Mat<T> M = zeros<T>(steps * B, D);
      const Mat<T>& xv = X.value();
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t j = 0; j < D; ++j) {
          std::size_t best = b;
          for (std::size_t t = 1; t < std::size_t(lengths[b]); ++t)
            if (xv(t * B + b, j) > xv(best, j)) best = t * B + b;
          M(best, j) = T(1);
        }
      pooled = matmul(constant(std::move(S)), mask(X, M));
    } else {
      pooled = matmul(constant(std::move(S)), X);
    }
  }
  if (training && config_.dropout > 0) pooled = dropout(pooled, config_.dropout, *rng, true);
  return fc_(pooled);  // [B, 1]
}

template <class T>
void SentimentModel<T>::train(bool on) {
  Module<T>::train(on);
  embedding_.train(on);
  lstm_.train(on);
  fc_.train(on);
}

template <class T>
std::vector<NamedParam<T>> SentimentModel<T>::parameters() {
  std::vector<NamedParam<T>> p;
  this->add_child_params(p, "embedding", embedding_.parameters());
  this->add_child_params(p, "lstm", lstm_.parameters());
  this->add_child_params(p, "fc", fc_.parameters());
  return p;
}

template <class T>
std::string SentimentModel<T>::describe() const {
  return fmt::format("Sentiment({} -> {} -> {}-pool -> {})", embedding_.describe(), lstm_.describe(),
                     config_.pooling, fc_.describe());
}

template class SentimentModel<float>;
template class SentimentModel<double>;

}  // namespace unroll::sentiment
