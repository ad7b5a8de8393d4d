// nn/rnn_cell.h — the recurrent cell interface (RecurrentCell, CellState) and the Elman cell RNNCell.
// A cell is one time step: state' = step(x, state). Parameters have PyTorch's RNNCell/LSTMCell/GRUCell
// names and layout (the layers in nn/recurrent.h rename them weight_ih_l{k}[_reverse], …):
//   weight_ih [gates·H, in], weight_hh [gates·H, H], bias_ih [1, gates·H], bias_hh [1, gates·H]
// Biases are [1, N] here and [N] in PyTorch; nn/checkpoint.h maps one to the other.
// Every step is split in two: the projections gi = x·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh (matmul_nt), and a
// small pointwise "cell math" function of (gi, gh, state). Two implementations of each half:
//   fused (default): engine/ops_rnn.h — linear_fused (one node per projection) and lstm_gates / gru_gates /
//                    rnn_gates (one node per step's pointwise math; LSTM: two, h and c)
//   plain (set_fused(false)): the reference made of gradient-checked ops — linear() and *_cell_math below.
// Both give the same numbers up to rounding (tests hold them together and each against PyTorch).
//   RNNCell:  h' = f(gi + gh), f = tanh or relu
#pragma once

#include "engine/rng.h"
#include "nn/module.h"

#include <string>

namespace unroll {

// A cell's state: h [B, H]; c [B, H] for LSTM only (undefined otherwise).
template <class T>
struct CellState {
  Var<T> h;
  Var<T> c;
};

enum class Nonlinearity { Tanh, Relu };

template <class T>
class RecurrentCell : public Module<T> {
 public:
  // Runs one step: x [B, in], s.h [B, H] (s.c [B, H] for LSTM) -> the next state. Checks shapes.
  CellState<T> step(const Var<T>& x, const CellState<T>& s) const;
  CellState<T> operator()(const Var<T>& x, const CellState<T>& s) const { return step(x, s); }
  // The same step from precomputed input projections gi = x·W_ihᵀ + b_ih [B, gates·H] (layers compute
  // them for every time step with one matrix product).
  virtual CellState<T> step_from_gates(const Var<T>& gi, const CellState<T>& s) const = 0;
  Var<T> input_gates(const Var<T>& x) const;            // x [N, in] -> [N, gates·H]  (x·W_ihᵀ + b_ih)
  Var<T> hidden_gates(const Var<T>& h) const;           // h [B, H]  -> [B, gates·H]  (h·W_hhᵀ + b_hh)

  CellState<T> zero_state(std::size_t batch) const;     // constant zeros (c too for LSTM)
  virtual bool has_cell_state() const { return false; }
  virtual const char* gate_name(int g) const = 0;       // "i", "f", … for reports (row / H of a weight)

  std::vector<NamedParam<T>> parameters() override;     // weight_ih, weight_hh[, bias_ih, bias_hh]
  std::string describe() const override;                // "LSTMCell(3, 4)", "RNNCell(3, 4, bias=False)"

  const char* type_name() const { return type_name_; }
  int input_size() const { return input_size_; }
  int hidden_size() const { return hidden_size_; }
  int gates() const { return gates_; }
  bool bias() const { return bias_ih_.defined(); }
  bool fused() const { return fused_; }                 // engine/ops_rnn.h ops (true) or the plain-op reference
  void set_fused(bool on) { fused_ = on; }
  Var<T>& weight_ih() { return weight_ih_; }
  Var<T>& weight_hh() { return weight_hh_; }
  Var<T>& bias_ih() { return bias_ih_; }                // undefined without bias
  Var<T>& bias_hh() { return bias_hh_; }

 protected:
  // PyTorch's default init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
  RecurrentCell(const char* type_name, int input_size, int hidden_size, int gates, bool bias, Rng& rng);
  virtual std::string extra_describe() const { return {}; }
  void check_state(const CellState<T>& s, std::size_t batch, const char* what) const;

  const char* type_name_;
  int input_size_, hidden_size_, gates_;
  Var<T> weight_ih_, weight_hh_, bias_ih_, bias_hh_;    // [G·H, in], [G·H, H], [1, G·H], [1, G·H]
  bool fused_ = true;
};

// The pointwise part of an Elman step from plain ops: h' = f(gi + gh). gi, gh: [B, H]. (Fused: rnn_gates.)
template <class T> Var<T> rnn_cell_math(const Var<T>& gi, const Var<T>& gh, Nonlinearity f);

template <class T>
class RNNCell final : public RecurrentCell<T> {
 public:
  RNNCell(int input_size, int hidden_size, Rng& rng, bool bias = true, Nonlinearity f = Nonlinearity::Tanh);
  CellState<T> step_from_gates(const Var<T>& gi, const CellState<T>& s) const override;
  const char* gate_name(int) const override { return "h"; }
  Nonlinearity nonlinearity() const { return f_; }

 private:
  std::string extra_describe() const override;
  Nonlinearity f_;
};

extern template class RecurrentCell<float>;
extern template class RecurrentCell<double>;
extern template class RNNCell<float>;
extern template class RNNCell<double>;

}  // namespace unroll
