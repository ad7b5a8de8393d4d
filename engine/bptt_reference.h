// engine/bptt_reference.h — the vanilla RNN of the seeds with its back-propagation through time written out
// by hand (textbook column vectors, explicit loops over Mat<double>), the same model on the tape, and the
// three-way check hand-derived == tape == numerical that the tests and `unroll gradcheck` report.
// Double only: this is a reference, not a training path (nn/ has the real cells).
//
//   s_t = tanh(U x_t + W s_{t-1} + b)      x_t [I], s_t [H], s_0 given
//   o_t = V s_t + c                        o_t [K]
//   L   = Σ_{t=1..T} -log softmax(o_t)[y_t]
#pragma once

#include "engine/rng.h"
#include "engine/var.h"

#include <cstdint>
#include <string>
#include <vector>

namespace unroll {

// Parameters in the textbook layout (matrices act on column vectors; biases are columns).
struct VanillaRnn {
  Mat<double> U;  // [H, I]  input -> hidden
  Mat<double> W;  // [H, H]  hidden -> hidden
  Mat<double> V;  // [K, H]  hidden -> output
  Mat<double> b;  // [H, 1]
  Mat<double> c;  // [K, 1]
};

// One sequence: inputs, targets and the initial state.
struct RnnSequence {
  Mat<double> X;                 // [T, I]   row t-1 is x_t
  std::vector<std::int64_t> y;   // T class indices in [0, K)
  Mat<double> s0;                // [H, 1]
};

// dL/d(every parameter) and dL/ds_0, each of its parameter's shape.
struct VanillaRnnGrads {
  Mat<double> dU, dW, dV, db, dc, ds0;
};

// Seeded parameters (I inputs, H hidden, K classes) and a random sequence of T steps for them.
VanillaRnn vanilla_rnn_random(std::size_t I, std::size_t H, std::size_t K, Rng& rng);
RnnSequence rnn_sequence_random(const VanillaRnn& p, std::size_t T, Rng& rng);

// Forward by hand: the loss L.
double vanilla_rnn_loss(const VanillaRnn& p, const RnnSequence& seq);
// Forward and the textbook BPTT by hand; returns L and fills g.
double vanilla_rnn_bptt(const VanillaRnn& p, const RnnSequence& seq, VanillaRnnGrads& g);

// The same model on the tape, from ops only (matmul, add, tanh, transpose, cross_entropy).
struct VanillaRnnVars {
  Var<double> U, W, V, b, c, s0;  // parameters, same shapes as VanillaRnn and RnnSequence::s0
};
Var<double> vanilla_rnn_tape_loss(const VanillaRnnVars& p, const Mat<double>& X, const std::vector<std::int64_t>& y);

// hand-derived vs tape vs numerical on a random model (I = 3, H = 5, K = 4) and a sequence of `steps` steps.
struct BpttThreeWay {
  int steps = 0;
  double loss_hand = 0, loss_tape = 0;
  double hand_vs_tape = 0;      // max |hand - tape| over every entry of dU, dW, dV, db, dc, ds0
  double tape_vs_numeric = 0;   // max |tape - central difference (eps 1e-6) of the loss| over the same entries
  bool gradcheck_ok = false;    // engine/gradcheck.h on the tape model, default tolerances
  std::string report;           // its per-parameter report
};
BpttThreeWay bptt_three_way_check(int steps, std::uint64_t seed);

}  // namespace unroll
