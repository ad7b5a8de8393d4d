// nn/recurrent.h — whole-sequence recurrent layers RNN, LSTM, GRU shaped like torch.nn.RNN/LSTM/GRU:
// multi-layer, bidirectional, dropout between layers, bias on/off, initial state (zeros, given, or learned),
// LSTM forget-gate bias, and variable-length batches. Values are rank 2 and time-major: a sequence is a
// std::vector of T steps, each [B, in].
//
// Parameters, in PyTorch's order and with its state_dict names and layouts (G = gates: RNN 1, LSTM 4, GRU 3):
//   for layer k, direction d (suffix "" or "_reverse"):
//     weight_ih_l{k}{sfx} [G·H, in_k]   in_0 = input_size, in_k = H·dirs
//     weight_hh_l{k}{sfx} [G·H, H]
//     bias_ih_l{k}{sfx}   [1, G·H]      PyTorch: [G·H] — nn/checkpoint.h maps [1, N] <-> [N]
//     bias_hh_l{k}{sfx}   [1, G·H]
//   then, with learn_initial_state (no PyTorch equivalent): initial_h_l{k}{sfx} [1, H], initial_c_l{k}{sfx} (LSTM)
//
// Variable lengths: lengths[b] = number of real steps of row b (any order, 1 <= len <= T). Steps at or after
// a row's length are padding: the outputs there are zero, the state stays frozen (h_n/c_n are taken at the
// row's own last step), the reverse direction starts at the row's own last token, and padded inputs get zero
// gradient. Padded input entries must be finite (they are multiplied by a zero mask).
//
// Gradient flow: RecurrentOutput::hidden[k·dirs + d][t] is h_t of that layer/direction, the Var the
// recurrence itself uses, so after backward its grad() is the total ∂L/∂h_t; gradient_norms() reads them
// (or pass out.hidden[i] to nn/gradflow.h's grad_norms / GradFlowStats).
#pragma once

#include "nn/gru_cell.h"
#include "nn/lstm_cell.h"
#include "nn/rnn_cell.h"
#include "engine/ops_rnn.h"

#include <memory>
#include <optional>
#include <vector>

namespace unroll {

enum class CellKind { RNN, LSTM, GRU };
enum class RecurrentInit {
  PyTorchDefault,    // every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
  XavierOrthogonal,  // weight_ih: Xavier per gate block; weight_hh: orthogonal per gate block; biases 0
};

struct RecurrentConfig {
  int input_size = 0;                 // features per step, e.g. 64
  int hidden_size = 0;                // H, e.g. 256
  int num_layers = 1;                 // e.g. 2
  bool bias = true;                   // false: no bias_ih / bias_hh
  bool bidirectional = false;         // true: outputs are [B, 2H] = [forward | reverse]
  double dropout = 0.0;               // on every layer's output but the last, training mode only, e.g. 0.3
  bool learn_initial_state = false;   // the zero initial state becomes a parameter (used when no h0 is given)
  std::optional<double> forget_bias;  // LSTM: initial total forget-gate bias, e.g. 1.0 (bias_ih_f = v, bias_hh_f = 0)
  Nonlinearity nonlinearity = Nonlinearity::Tanh;  // RNN only
  RecurrentInit init = RecurrentInit::PyTorchDefault;
  bool fused = true;                  // engine/ops_rnn.h's fused ops; false: the plain-op reference (same numbers)
};

// The common four fields (the rest at their defaults).
inline RecurrentConfig recurrent_config(int input_size, int hidden_size, int num_layers = 1, bool bidirectional = false) {
  RecurrentConfig c;
  c.input_size = input_size;
  c.hidden_size = hidden_size;
  c.num_layers = num_layers;
  c.bidirectional = bidirectional;
  return c;
}

template <class T>
struct RecurrentOutput {
  std::vector<Var<T>> outputs;               // T steps, each [B, H·dirs] (top layer; zero rows at padding)
  std::vector<Var<T>> h_n;                   // num_layers·dirs, each [B, H]; index k·dirs + d (PyTorch's order)
  std::vector<Var<T>> c_n;                   // LSTM only, same layout
  std::vector<std::vector<Var<T>>> hidden;   // [k·dirs + d][t]: h_t, [B, H] (zero rows at padding)
  std::vector<int> lengths;                  // per row (T for every row when none were given)
  int directions = 1;                        // 1 or 2
};

template <class T>
class Recurrent : public Module<T> {
 public:
  Recurrent(CellKind kind, const RecurrentConfig& config, Rng& rng);

  // xs: T steps of [B, input_size]. lengths: B entries in [1, T], or empty (all T). h0 (c0 for LSTM):
  // num_layers·dirs tensors [B, H] in h_n's order, or empty (zeros, or the learned initial state).
  // rng: dropout masks; nullptr uses the layer's own generator (seeded from the constructor's rng).
  RecurrentOutput<T> forward(const std::vector<Var<T>>& xs, const std::vector<int>& lengths = {},
                             const std::vector<Var<T>>& h0 = {}, const std::vector<Var<T>>& c0 = {},
                             Rng* rng = nullptr);

  // Step-level API (decoders, sampling; unidirectional only): one step through every layer. state has
  // num_layers entries (start from initial_state(B)); it is advanced in place; returns the top layer's h [B, H].
  Var<T> step(const Var<T>& x, std::vector<CellState<T>>& state, Rng* rng = nullptr);
  std::vector<CellState<T>> initial_state(std::size_t batch) const;   // zeros or the learned state, per layer·dir

  RecurrentCell<T>& cell(int layer, int direction = 0) { return *cells_.at(layer * dirs() + direction); }
  const RecurrentConfig& config() const { return cfg_; }
  CellKind kind() const { return kind_; }
  int dirs() const { return cfg_.bidirectional ? 2 : 1; }

  std::vector<NamedParam<T>> parameters() override;
  std::string describe() const override;    // "LSTM(3, 4, num_layers=2, bidirectional=True)"

 private:
  void check_inputs(const std::vector<Var<T>>& xs, const std::vector<int>& lengths, const std::vector<Var<T>>& h0,
                    const std::vector<Var<T>>& c0) const;
  CellState<T> initial(std::size_t idx, std::size_t batch, const std::vector<Var<T>>& h0,
                       const std::vector<Var<T>>& c0) const;
  CellState<T> fused_step(const Var<T>& gi, const CellState<T>& s, RecurrentProjection<T>& proj) const;

  CellKind kind_;
  RecurrentConfig cfg_;
  std::vector<std::unique_ptr<RecurrentCell<T>>> cells_;   // [k·dirs + d]
  std::vector<Var<T>> init_h_, init_c_;                    // learned initial states [1, H] (optional)
  Rng rng_;                                                // dropout when forward gets no rng
};

template <class T>
class RNN final : public Recurrent<T> {
 public:
  RNN(const RecurrentConfig& c, Rng& rng) : Recurrent<T>(CellKind::RNN, c, rng) {}
  RNN(int input_size, int hidden_size, Rng& rng, int num_layers = 1, bool bidirectional = false)
      : RNN(recurrent_config(input_size, hidden_size, num_layers, bidirectional), rng) {}
};
template <class T>
class LSTM final : public Recurrent<T> {
 public:
  LSTM(const RecurrentConfig& c, Rng& rng) : Recurrent<T>(CellKind::LSTM, c, rng) {}
  LSTM(int input_size, int hidden_size, Rng& rng, int num_layers = 1, bool bidirectional = false)
      : LSTM(recurrent_config(input_size, hidden_size, num_layers, bidirectional), rng) {}
};
template <class T>
class GRU final : public Recurrent<T> {
 public:
  GRU(const RecurrentConfig& c, Rng& rng) : Recurrent<T>(CellKind::GRU, c, rng) {}
  GRU(int input_size, int hidden_size, Rng& rng, int num_layers = 1, bool bidirectional = false)
      : GRU(recurrent_config(input_size, hidden_size, num_layers, bidirectional), rng) {}
};

// ---- gradient flow ---------------------------------------------------------------------------------
// ‖∂L/∂h_t‖ for t = 0..T-1 of one layer/direction (layer -1: the top one), over the rows where t is a
// real step (padding rows are left out). Call after backward on a loss built from out.
template <class T>
std::vector<double> gradient_norms(const RecurrentOutput<T>& out, int layer = -1, int direction = 0);

extern template class Recurrent<float>;
extern template class Recurrent<double>;

}  // namespace unroll
