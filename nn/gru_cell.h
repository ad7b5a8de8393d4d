// nn/gru_cell.h — the GRU cell, PyTorch's formulation and gate order [r, z, n] along 3H:
//   r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z)
//   n = tanh(gi_n + r ⊙ gh_n)          (r multiplies W_hn·h + b_hn, as in PyTorch/cuDNN, not Cho et al.'s h)
//   h' = (1 - z) ⊙ n + z ⊙ h
// with gi = x·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh, both [B, 3H]; that is why the two biases are kept apart.
#pragma once

#include "nn/rnn_cell.h"

namespace unroll {

// The pointwise part of a GRU step from plain ops: gi, gh [B, 3H], h [B, H] -> h'. (Fused: gru_gates.)
template <class T> Var<T> gru_cell_math(const Var<T>& gi, const Var<T>& gh, const Var<T>& h);

template <class T>
class GRUCell final : public RecurrentCell<T> {
 public:
  GRUCell(int input_size, int hidden_size, Rng& rng, bool bias = true);
  CellState<T> step_from_gates(const Var<T>& gi, const CellState<T>& s) const override;
  const char* gate_name(int g) const override;  // 0..2 -> "r", "z", "n"
};

extern template class GRUCell<float>;
extern template class GRUCell<double>;

}  // namespace unroll
