// engine/ops_rnn.h — fused recurrent ops: the pointwise part of an LSTM/GRU/RNN step as ONE node each
// (one pass computes the gates and the new state and saves what backward needs), a one-node affine map,
// and the hoisted input projection (all T steps' x·W_ihᵀ + b as one GEMM, then per-step row slices).
// Each is numerically the same computation as its composition of plain ops (tests/test_ops_rnn.cc holds
// fused == unfused and gradchecks every op in float64). Gate orders are PyTorch's: LSTM [i, f, g, o],
// GRU [r, z, n]. Not here: the modules (nn/), the plain ops (engine/ops.h).
#pragma once

#include "engine/ops.h"

#include <memory>
#include <vector>

namespace unroll {

// The two outputs of an LSTM step. Both are ordinary Vars (two nodes made by one pass).
template <class T>
struct LSTMGates {
  Var<T> h;
  Var<T> c;
};

// lstm_gates   z = gi + gh [B, 4H] (gates i, f, g, o), c_prev [B, H]
//   i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o);  c = f⊙c_prev + i⊙g;  h = o⊙tanh(c)
// The two-input form fuses the sum z = gi + gh (gi from the hoisted projection, gh = h·W_hhᵀ + b_hh);
// it is a drop-in for nn's lstm_cell_math(gi, gh, c).
template <class T> LSTMGates<T> lstm_gates(const Var<T>& z, const Var<T>& c_prev);
template <class T> LSTMGates<T> lstm_gates(const Var<T>& gi, const Var<T>& gh, const Var<T>& c_prev);

// gru_gates    gi = x·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh   [B, 3H] (gates r, z, n), h_prev [B, H]
//   r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r⊙gh_n);  h' = (1 - z)⊙n + z⊙h_prev
// A drop-in for nn's gru_cell_math(gi, gh, h).
template <class T> Var<T> gru_gates(const Var<T>& gi, const Var<T>& gh, const Var<T>& h_prev);

// rnn_gates    h' = tanh(gi + gh)  (relu = true: max(gi + gh, 0))   gi, gh [B, H]
template <class T> Var<T> rnn_gates(const Var<T>& gi, const Var<T>& gh, bool relu = false);

// linear_fused Y = X·Wᵀ + b as one node (linear() makes two: matmul_nt then add_bias)
//   X [N, in], W [out, in], b [1, out] or undefined;  backward dX += dY·W, dW += dYᵀ·X, db += Σ_rows dY
template <class T> Var<T> linear_fused(const Var<T>& x, const Var<T>& W, const Var<T>& b);

// RecurrentProjection  gh_t = h_{t-1}·W_hhᵀ + b_hh for every step of one layer and direction, with the
// weight gradients DEFERRED: a step's backward computes only dh_{t-1} += dgh_t·W_hh (the one GEMM the
// recurrence needs per step) and files dgh_t and h_{t-1}; after the backward loop has passed every step,
// ONE GEMM dW_hh += Σ_t dgh_tᵀ·h_{t-1} (K = Σ batch rows) and one column sum db_hh += Σ dgh_t run.
// Numerically linear_fused(h, W_hh, b_hh) per step (tests/test_ops_rnn.cc holds the two to 1e-12 in
// float64; the sum over steps is just ordered differently). Make one per layer and direction per forward
// pass; steps may have different batch sizes. How: a "recurrent_weight_grad" node whose parents are W_hh
// and b_hh is a parent of every step node, so backward reaches it after all of them.
// float: from the second step on, the products run against W_hh packed once (engine/packed_gemm.h: forward at
// the second step, backward at the first backward step), so W_hh must not change while the projection is in use
// (between its forward and backward, as PyTorch's version counter enforces). A one-step projection (sampling)
// and one-row steps (batch 1: a gemv) never pack; double always goes through gemm.
template <class T>
class RecurrentProjection {
 public:
  RecurrentProjection(const Var<T>& W_hh, const Var<T>& b_hh);   // W_hh [G, H]; b_hh [1, G] or undefined
  Var<T> operator()(const Var<T>& h);                            // h [B, H] -> [B, G]
  struct Deferred;                                               // the filed steps (ops_rnn.cc)

 private:
  Var<T> W_, b_, sink_;
  std::shared_ptr<Deferred> acc_;
};

// split_rows   X [S·B, N] -> S Vars [B, N] (step s = rows s·B .. (s+1)·B); backward copies rows back
template <class T> std::vector<Var<T>> split_rows(const Var<T>& x, std::size_t steps);

// project_steps  the hoisted input projection of a recurrent layer:
//   G_all = X_all·W_ihᵀ + Σ biases  as ONE GEMM, X_all [T·B, in] time-major, W_ih [G, in], biases [1, G] each
//   (undefined ones skipped; passing b_hh too folds it out of the recurrence), then T slices [B, G].
// Backward: one GEMM for dW_ih over all steps, one for dX_all.
template <class T>
std::vector<Var<T>> project_steps(const Var<T>& x_all, const Var<T>& W_ih, const std::vector<Var<T>>& biases,
                                  std::size_t steps);
// The same from T per-step inputs [B, in] (concatenated with concat_rows first); every step must have the
// same batch size B (ShapeError naming the first step that differs).
template <class T>
std::vector<Var<T>> project_steps(const std::vector<Var<T>>& xs, const Var<T>& W_ih, const std::vector<Var<T>>& biases);

}  // namespace unroll
