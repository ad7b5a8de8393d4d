// models/seq2seq/model.h — character-level encoder–decoder LSTM with dot-product (Luong) attention for the dates
// task (../shared/DATA.md section 4). One character vocabulary (models/data/vocab.h CharVocab) for source and
// target. Encoder: Embedding(V, E) -> bidirectional LSTM(E, H/2) over the padded source (variable lengths), so
// its outputs are [B, H] = [forward | reverse]. Decoder: LSTM(E, H) whose initial state is the encoder's final
// state, concatenated [h_fwd | h_rev] and [c_fwd | c_rev]; at each step h_t attends over the encoder outputs
// (score_s = h_t · enc_s, padding masked), then logits = out(tanh(combine([h_t | context]))). Without
// attention, logits = out(h_t).
// Training is teacher-forced (forward_teacher); decoding is step by step (decode_step) — greedy and beam search
// are in train.h. Not here: training, decoding loops, the data.
#pragma once

#include "engine/rng.h"
#include "engine/tensor.h"
#include "engine/var.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/recurrent.h"

#include <cstdint>
#include <string>
#include <vector>

namespace unroll::seq2seq {

struct Seq2SeqConfig {
  int vocab_size = 0;      // V: characters of train sources and targets + the 4 reserved ids, e.g. 60
  int embed = 32;          // E, e.g. 32
  int hidden = 128;        // H of the decoder (even; the encoder runs H/2 per direction), e.g. 128
  bool attention = true;   // dot-product attention over the encoder outputs

  std::string to_json() const;                               // {"arch":"seq2seq_lstm",…}
  // Throws std::invalid_argument naming source (a file, "" = none) and the bad field.
  static Seq2SeqConfig from_json(const std::string& text, const std::string& source = "");
  std::string describe() const;                              // "Seq2Seq(V=60, E=32, H=128, attention)"
};

// The encoded source of a batch: what every decoder step reads.
template <class T>
struct Encoded {
  std::vector<Var<T>> outputs;   // S steps of [B, H] (zero rows at padding)
  Mat<T> score_mask;             // [B, S]: 0 at real positions, -1e9 at padding
  std::vector<CellState<T>> init;  // decoder initial state (one layer)
  std::size_t batch = 0, steps = 0;
};

template <class T>
class Seq2Seq final : public Module<T> {
 public:
  Seq2Seq(const Seq2SeqConfig& config, Rng& rng);

  // sources: B id sequences (no <bos>/<eos>), each non-empty; padded to the longest.
  Encoded<T> encode(const std::vector<std::vector<std::int64_t>>& sources);
  // One decoder step: prev ids [B] -> logits [B, V]; state is updated.
  Var<T> decode_step(const std::vector<std::int64_t>& prev, std::vector<CellState<T>>& state, const Encoded<T>& enc);
  // Teacher forcing: targets (without <bos>, ending with <eos>) -> per-step logits, time-major
  // (max target length) × [B, V]; the decoder reads <bos>, y_1, …, y_{n-1}.
  std::vector<Var<T>> forward_teacher(const std::vector<std::vector<std::int64_t>>& sources,
                                      const std::vector<std::vector<std::int64_t>>& targets);

  void train(bool on = true) override;
  const Seq2SeqConfig& config() const { return config_; }
  std::vector<NamedParam<T>> parameters() override;  // embedding.*, encoder.*, decoder.*, combine.*, out.*
  std::string describe() const override;

 private:
  Seq2SeqConfig config_;
  Embedding<T> embedding_;
  LSTM<T> encoder_, decoder_;
  Linear<T> combine_, out_;
};

extern template class Seq2Seq<float>;
extern template class Seq2Seq<double>;
extern template struct Encoded<float>;
extern template struct Encoded<double>;

}  // namespace unroll::seq2seq
