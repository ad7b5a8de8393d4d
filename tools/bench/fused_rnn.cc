// tools/bench/fused_rnn.cc — see fused_rnn.h. Mirrors nn/recurrent.cc's forward (layers, directions,
// padding masks) with engine/ops_rnn.h's fused ops in place of the per-gate plain ops.
#include "tools/bench/fused_rnn.h"

#include "engine/ops_rnn.h"

namespace unroll::bench {

namespace {
using V = Var<float>;

// One step of cell kind k: gi [B, G·H] (b_hh already folded in when folded = true), state s.
// hh: h·W_hhᵀ (+ b_hh when not folded) — the deferred-weight-gradient projection in a forward pass,
// linear_fused in the sampling step.
template <class HH>
CellState<float> step_gates(CellKind k, RecurrentCell<float>& cell, const V& gi, const CellState<float>& s,
                            bool h_is_zero, bool folded, HH&& hh) {
  const bool relu = k == CellKind::RNN && static_cast<RNNCell<float>&>(cell).nonlinearity() == Nonlinearity::Relu;
  if (k == CellKind::LSTM) {
    if (h_is_zero && folded) {  // h = 0: h·W_hhᵀ + b_hh is just b_hh, which is already in gi
      auto r = lstm_gates(gi, s.c);
      return {r.h, r.c};
    }
    auto r = lstm_gates(gi, hh(s.h), s.c);
    return {r.h, r.c};
  }
  if (k == CellKind::GRU)  // GRU: b_hn sits inside r⊙(…), so b_hh is never folded
    return {gru_gates(gi, hh(s.h), s.h), {}};
  if (h_is_zero && folded) return {relu ? unroll::relu(gi) : unroll::tanh(gi), {}};
  return {rnn_gates(gi, hh(s.h), relu), {}};
}
}  // namespace

V fused_forward(Recurrent<float>& rnn, const V& x_all, std::size_t T, const std::vector<int>& lengths_in) {
  const auto& cfg = rnn.config();
  const std::size_t B = x_all.rows() / T, H = std::size_t(cfg.hidden_size);
  const int L = cfg.num_layers, D = rnn.dirs();
  const CellKind kind = rnn.kind();
  const bool lstm = kind == CellKind::LSTM;
  std::vector<int> lengths = lengths_in.empty() ? std::vector<int>(B, int(T)) : lengths_in;
  std::vector<std::size_t> live(T, 0);
  std::vector<Mat<float>> keep(T), hold(T);
  for (std::size_t t = 0; t < T; ++t) {
    for (int len : lengths) live[t] += std::size_t(len) > t;
    if (live[t] == B || live[t] == 0) continue;
    keep[t] = zeros<float>(B, H);
    hold[t] = full<float>(B, H, 1.f);
    for (std::size_t b = 0; b < B; ++b)
      if (std::size_t(lengths[b]) > t) {
        xt::view(keep[t], b, xt::all()) = 1.f;
        xt::view(hold[t], b, xt::all()) = 0.f;
      }
  }
  V layer_in = x_all;
  for (int k = 0; k < L; ++k) {
    std::vector<std::vector<V>> hs(static_cast<std::size_t>(D), std::vector<V>(T));
    for (int d = 0; d < D; ++d) {
      RecurrentCell<float>& cell = rnn.cell(k, d);
      const bool fold = kind != CellKind::GRU && cfg.bias;
      std::vector<V> gis = project_steps(layer_in, cell.weight_ih(),
                                         {cell.bias_ih(), fold ? cell.bias_hh() : V()}, T);
      RecurrentProjection<float> proj(cell.weight_hh(), fold ? V() : cell.bias_hh());
      CellState<float> s = cell.zero_state(B);
      bool h_zero = true;
      for (std::size_t n = 0; n < T; ++n) {
        const std::size_t t = d == 0 ? n : T - 1 - n;
        if (live[t] == 0) {
          hs[std::size_t(d)][t] = constant(zeros<float>(B, H));
          continue;
        }
        CellState<float> next = step_gates(kind, cell, gis[t], s, h_zero, fold, proj);
        h_zero = false;
        if (live[t] == B) {
          s = next;
          hs[std::size_t(d)][t] = s.h;
        } else {
          V h_t = mask(next.h, keep[t]);
          hs[std::size_t(d)][t] = h_t;
          s.h = h_t + mask(s.h, hold[t]);
          if (lstm) s.c = mask(next.c, keep[t]) + mask(s.c, hold[t]);
        }
      }
    }
    std::vector<V> steps(T);
    for (std::size_t t = 0; t < T; ++t)
      steps[t] = D == 1 ? hs[0][t] : concat_cols(std::vector<V>{hs[0][t], hs[1][t]});
    layer_in = T == 1 ? steps[0] : concat_rows(steps);
  }
  return layer_in;
}

V fused_step(Recurrent<float>& rnn, const V& x, std::vector<CellState<float>>& state) {
  V in = x;
  for (int k = 0; k < rnn.config().num_layers; ++k) {
    RecurrentCell<float>& cell = rnn.cell(k, 0);
    V gi = linear_fused(in, cell.weight_ih(), cell.bias_ih());
    auto hh = [&cell](const V& h) { return linear_fused(h, cell.weight_hh(), cell.bias_hh()); };
    state[std::size_t(k)] = step_gates(rnn.kind(), cell, gi, state[std::size_t(k)], false, false, hh);
    in = state[std::size_t(k)].h;
  }
  return in;
}

}  // namespace unroll::bench
