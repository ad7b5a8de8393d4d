// models/common/lstm_lm.h — the LSTM language model both LMs of the zoo use: Embedding(V, E) -> LSTM(E, H, layers)
// -> Linear(H, V). models/char_lm runs it over characters (arch "char_lstm"), models/word_lm over Brown words
// (arch "word_lstm"), whose <pad> and <bos> never occur as targets: their logits are masked (decoder bias fixed at
// -1e4, weight rows at 0, so softmax gives them probability 0 in float, their gradient is exactly 0 and Adam never
// moves them) and perplexity is over exactly the real outcomes.
// Parameter names follow PyTorch's state_dict for the same model ("embedding.weight", "lstm.weight_ih_l0",
// "lstm.bias_hh_l1", "decoder.weight", …), so a checkpoint moves between the two. The config JSON
// ({"arch":…,"vocab_size":…,"embed":…,"hidden":…,"layers":…,"forget_bias":…,"dropout":…[,"io_dropout":…]}) is what
// model files hold:
// both are a file format, keep them as they are.
// forward() runs a [B, T] chunk of ids through nn/recurrent.h's LSTM (which does each layer's input projection
// for all T steps in one product) and the decoder once over all T·B rows. Rows of the [T·B, V] logits are
// time-major: row t·B + b is (step t, batch row b).
// Not here: training and evaluation on a token stream (lstm_lm_stream.h), each LM's data and entry points.
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

namespace unroll::common {

enum class LstmLmArch {
  chars,  // "char_lstm": every id but the reserved ones can be predicted
  words,  // "word_lstm": <pad> and <bos> outputs masked
};

struct LstmLmConfig {
  LstmLmArch arch = LstmLmArch::chars;
  int vocab_size = 0;        // V: the tokens + the reserved ids, e.g. 105 characters or 10,002 words
  int embed = 64;            // E, e.g. 64
  int hidden = 256;          // H, e.g. 256
  int layers = 2;            // stacked LSTM layers, e.g. 2
  double forget_bias = 1.0;  // initial forget-gate bias (0 = PyTorch's plain init), e.g. 1.0
  double dropout = 0.0;      // between LSTM layers, training only, e.g. 0.25
  // On the embeddings (the LSTM's input) and on the last layer's outputs (the decoder's input), training only, as
  // in PyTorch's word_language_model example and Zaremba et al. 2014; e.g. 0.4. Written to the JSON only when > 0.
  double io_dropout = 0.0;

  // The sizes of a run (forget_bias 1, no dropout), e.g. sized(LstmLmArch::words, 10002, 128, 512, 2).
  static LstmLmConfig sized(LstmLmArch arch, int vocab_size, int embed, int hidden, int layers);
  std::string to_json() const;  // {"arch":"char_lstm","vocab_size":…,…}
  // Throws std::invalid_argument naming source (a file, "" = none) and the bad field; the arch must be `arch`.
  static LstmLmConfig from_json(const std::string& text, LstmLmArch arch, const std::string& source = "");
  std::string describe() const;  // "CharLM(V=105, E=64, LSTM 2x256)", "WordLM(V=10002, E=128, LSTM 2x512)"
};

const char* arch_name(LstmLmArch arch);  // "char_lstm" | "word_lstm"

// Recurrent state of every layer: h[l], c[l] are [B, H].
template <class T>
struct LstmState {
  std::vector<Var<T>> h, c;
  std::size_t batch() const { return h.empty() ? 0 : h[0].rows(); }
};

// The state cut from the graph (truncated BPTT carries it into the next chunk).
template <class T>
LstmState<T> detach_state(const LstmState<T>& s);

template <class T>
class LstmLm final : public Module<T> {
 public:
  LstmLm(const LstmLmConfig& config, Rng& rng);

  // x: [B, steps] row-major ids (x[b·steps + t]); returns logits [steps·B, V] time-major and carries state.
  // rng: the dropout masks in training (nullptr: the model's own generator, seeded from the constructor's rng).
  Var<T> forward(const std::vector<std::int64_t>& x, std::size_t B, std::size_t steps, LstmState<T>& state,
                 Rng* rng = nullptr);
  // One step for sampling: ids [B] -> logits [B, V].
  Var<T> step(const std::vector<std::int64_t>& ids, LstmState<T>& state) { return forward(ids, ids.size(), 1, state); }

  LstmState<T> zero_state(std::size_t batch) const;
  // Re-applies the arch's output mask (words: <pad>, <bos>) after loading weights from elsewhere.
  void mask_unused_outputs();
  void train(bool on = true) override;
  const LstmLmConfig& config() const { return config_; }

  std::vector<NamedParam<T>> parameters() override;  // embedding.*, lstm.*, decoder.*
  std::string describe() const override;

 private:
  LstmLmConfig config_;
  Embedding<T> embedding_;
  LSTM<T> lstm_;
  Linear<T> decoder_;
  Rng rng_;  // dropout masks when forward gets no rng (drawn from the constructor's rng only if io_dropout > 0)
};

extern template class LstmLm<float>;
extern template class LstmLm<double>;

}  // namespace unroll::common
