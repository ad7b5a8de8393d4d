// models/word_lm/model.h — the word language model (Brown): Embedding(V, E) -> LSTM(E, H, layers) -> Linear(H, V),
// the same network as models/char_lm over words. V = 10,002 ids (models/data/brown.h brown_lm_vocab); <pad> and <bos>
// never occur as targets, so their logits are masked: the decoder's bias there is fixed at -1e4 and its weight rows
// at 0 (softmax gives them probability 0 in float, so their gradient is exactly 0 and Adam never moves them), and
// perplexity is over exactly DATA.md's 10,000 outcomes.
// Parameter names follow PyTorch's state_dict for the same model ("embedding.weight", "lstm.weight_ih_l0",
// "lstm.bias_hh_l1", "decoder.weight", …), so a checkpoint moves between the two.
// forward() runs a [B, T] chunk of ids through nn/recurrent.h's LSTM (which does each layer's input projection
// for all T steps in one product) and the decoder once over all T·B rows. Rows of the [T·B, V] logits are
// time-major: row t·B + b is (step t, batch row b).
// Not here: training and evaluation (train.h), the data (models/data/).
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

namespace unroll::word_lm {

struct WordLmConfig {
  int vocab_size = 0;     // V: 9,998 words + 4 reserved ids = 10,002
  int embed = 64;         // E, e.g. 64
  int hidden = 256;       // H, e.g. 256
  int layers = 2;         // stacked LSTM layers, e.g. 2
  double forget_bias = 1.0;  // initial forget-gate bias (0 = PyTorch's plain init), e.g. 1.0
  double dropout = 0.0;      // between LSTM layers, training only, e.g. 0.25

  std::string to_json() const;                      // {"arch":"word_lstm","vocab_size":…,…}
  static WordLmConfig from_json(const std::string& text);  // throws std::invalid_argument on a bad field
  std::string describe() const;                     // "WordLM(V=10002, E=128, LSTM 2x512)"
};

// Recurrent state of every layer: h[l], c[l] are [B, H].
template <class T>
struct LstmState {
  std::vector<Var<T>> h, c;
  std::size_t batch() const { return h.empty() ? 0 : h[0].rows(); }
};

template <class T>
class WordLm final : public Module<T> {
 public:
  WordLm(const WordLmConfig& config, Rng& rng);

  // x: [B, steps] row-major ids (x[b·steps + t]); returns logits [steps·B, V] time-major and carries state.
  Var<T> forward(const std::vector<std::int64_t>& x, std::size_t B, std::size_t steps, LstmState<T>& state);
  // One step for sampling: ids [B] -> logits [B, V].
  Var<T> step(const std::vector<std::int64_t>& ids, LstmState<T>& state) { return forward(ids, ids.size(), 1, state); }

  LstmState<T> zero_state(std::size_t batch) const;
  // Re-applies the <pad>/<bos> output mask (after loading weights from elsewhere).
  void mask_unused_outputs();
  void train(bool on = true) override;
  const WordLmConfig& config() const { return config_; }

  std::vector<NamedParam<T>> parameters() override;  // embedding.*, lstm.*, decoder.*
  std::string describe() const override;

 private:
  WordLmConfig config_;
  Embedding<T> embedding_;
  LSTM<T> lstm_;
  Linear<T> decoder_;
};

// The state cut from the graph (truncated BPTT carries it into the next chunk).
template <class T>
LstmState<T> detach_state(const LstmState<T>& s);

extern template class WordLm<float>;
extern template class WordLm<double>;

}  // namespace unroll::word_lm
