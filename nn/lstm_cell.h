// nn/lstm_cell.h — the LSTM cell, PyTorch's formulation and gate order [i, f, g, o] along 4H
// (DyNet uses i, f, o, g; ours matches torch.nn.LSTMCell so weights move between the two):
//   z  = gi + gh = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh                  z [B, 4H]
//   i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
//   c' = f ⊙ c + i ⊙ g ;  h' = o ⊙ tanh(c')
// No peepholes, no projection (proj_size) on purpose.
#pragma once

#include "nn/rnn_cell.h"

namespace unroll {

// The pointwise part of an LSTM step from plain ops: gi, gh [B, 4H], c [B, H] -> {h', c'}. (Fused: lstm_gates.)
template <class T> CellState<T> lstm_cell_math(const Var<T>& gi, const Var<T>& gh, const Var<T>& c);

template <class T>
class LSTMCell final : public RecurrentCell<T> {
 public:
  LSTMCell(int input_size, int hidden_size, Rng& rng, bool bias = true);
  CellState<T> step_from_gates(const Var<T>& gi, const CellState<T>& s) const override;
  bool has_cell_state() const override { return true; }
  const char* gate_name(int g) const override;  // 0..3 -> "i", "f", "g", "o"
  // Sets the forget-gate slice of bias_ih to v and of bias_hh to 0 (so the gate's total bias is v).
  void set_forget_bias(T v);
};

extern template class LSTMCell<float>;
extern template class LSTMCell<double>;

}  // namespace unroll
