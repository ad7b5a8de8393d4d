// models/sentiment/model.h — the many-to-one sentiment classifier: Embedding(V, E) -> (Bi)LSTM(E, H) over the
// words of a sentence (variable lengths, padded batches) -> pooling over time (max, mean, or the final states)
// -> dropout -> Linear(H·dirs, 1) = the logit of "positive" (trained with BCE with logits).
// Parameter names follow PyTorch's state_dict ("embedding.weight", "lstm.weight_ih_l0_reverse", "fc.weight").
// Not here: training, evaluation, model files (train.h), the data (models/data/sentiment.h).
#pragma once

#include "engine/rng.h"
#include "engine/var.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/recurrent.h"

#include <cstdint>
#include <string>
#include <vector>

namespace unroll::sentiment {

struct SentimentConfig {
  int vocab_size = 0;          // V: train words + the 4 reserved ids, e.g. 4,500
  int embed = 100;             // E, e.g. 100
  int hidden = 128;            // H per direction, e.g. 128
  int layers = 1;              // e.g. 1
  bool bidirectional = true;
  std::string pooling = "max"; // "max" (over the real steps), "mean", or "last" (final states of both directions)
  double dropout = 0.5;        // on the pooled features (and between LSTM layers), training only
  double embed_dropout = 0.25; // on the word embeddings, training only

  std::string to_json() const;                                // {"arch":"sentiment_lstm",…}
  static SentimentConfig from_json(const std::string& text);  // throws std::invalid_argument on a bad field
  std::string describe() const;                               // "Sentiment(V=…, E=100, BiLSTM 1x128, max-pool)"
};

template <class T>
class SentimentModel final : public Module<T> {
 public:
  SentimentModel(const SentimentConfig& config, Rng& rng);

  // ids: [B, steps] row-major word ids (pad = 0 after each row's length); lengths: B entries in [1, steps].
  // rng: dropout masks in training mode (may be nullptr in eval mode). Returns logits [B, 1].
  Var<T> forward(const std::vector<std::int64_t>& ids, const std::vector<int>& lengths, std::size_t steps,
                 Rng* rng = nullptr);

  void train(bool on = true) override;
  const SentimentConfig& config() const { return config_; }
  std::vector<NamedParam<T>> parameters() override;  // embedding.*, lstm.*, fc.*
  std::string describe() const override;

 private:
  SentimentConfig config_;
  Embedding<T> embedding_;
  LSTM<T> lstm_;
  Linear<T> fc_;
};

extern template class SentimentModel<float>;
extern template class SentimentModel<double>;

}  // namespace unroll::sentiment
