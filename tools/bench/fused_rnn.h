// tools/bench/fused_rnn.h — the library's Recurrent layer (nn/recurrent.h) run through the fused ops of
// engine/ops_rnn.h: the same parameters, the same computation (the bench checks the loss agrees with the
// library's forward), fewer nodes: per step one GEMM node (h·W_hhᵀ) and one gate node (two for LSTM);
// the input projection of all steps, b_ih and b_hh folded in, is one GEMM before the loop.
// It is what nn/recurrent.cc would do with the fused ops swapped in; it lives here until nn adopts them.
#pragma once

#include "nn/recurrent.h"

#include <vector>

namespace unroll::bench {

// x_all [T·B, in] time-major; lengths: B entries (empty: all T). Returns the top layer's outputs as one
// [T·B, H·dirs] Var (time-major, zero rows at padding), ready for one big output projection.
Var<float> fused_forward(Recurrent<float>& rnn, const Var<float>& x_all, std::size_t steps,
                         const std::vector<int>& lengths = {});

// One step of every layer (unidirectional), batch B: the sampling loop. state: per layer {h, c}.
Var<float> fused_step(Recurrent<float>& rnn, const Var<float>& x, std::vector<CellState<float>>& state);

}  // namespace unroll::bench
