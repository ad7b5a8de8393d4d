// engine/bptt_reference.cc — the vanilla RNN's forward and BPTT by hand, its tape twin, the three-way check.
#include "engine/bptt_reference.h"

#include "engine/gradcheck.h"
#include "engine/ops.h"

#include <algorithm>
#include <cmath>

namespace unroll {

namespace {

// y = A v + y0   (A [m, n], v [n, 1]); plain loops on purpose: this is the reference.
Mat<double> matvec(const Mat<double>& A, const Mat<double>& v, const Mat<double>& y0) {
  Mat<double> y = y0;
  for (std::size_t i = 0; i < A.shape(0); ++i)
    for (std::size_t j = 0; j < A.shape(1); ++j) y(i, 0) += A(i, j) * v(j, 0);
  return y;
}
// y = Aᵀ v   (A [m, n], v [m, 1] -> [n, 1])
Mat<double> matTvec(const Mat<double>& A, const Mat<double>& v) {
  Mat<double> y = zeros<double>(A.shape(1), 1);
  for (std::size_t i = 0; i < A.shape(0); ++i)
    for (std::size_t j = 0; j < A.shape(1); ++j) y(j, 0) += A(i, j) * v(i, 0);
  return y;
}
// G += u vᵀ   (outer product accumulation)
void add_outer(Mat<double>& G, const Mat<double>& u, const Mat<double>& v) {
  for (std::size_t i = 0; i < G.shape(0); ++i)
    for (std::size_t j = 0; j < G.shape(1); ++j) G(i, j) += u(i, 0) * v(j, 0);
}
Mat<double> column(const Mat<double>& X, std::size_t row) {
  Mat<double> x = zeros<double>(X.shape(1), 1);
  for (std::size_t j = 0; j < X.shape(1); ++j) x(j, 0) = X(row, j);
  return x;
}
// softmax of a column, max-shifted
Mat<double> softmax_col(const Mat<double>& o) {
  double m = o(0, 0);
  for (std::size_t k = 1; k < o.shape(0); ++k) m = std::max(m, o(k, 0));
  Mat<double> p = zeros<double>(o.shape(0), 1);
  double s = 0;
  for (std::size_t k = 0; k < o.shape(0); ++k) s += p(k, 0) = std::exp(o(k, 0) - m);
  for (std::size_t k = 0; k < o.shape(0); ++k) p(k, 0) /= s;
  return p;
}

void check_sequence(const VanillaRnn& p, const RnnSequence& seq) {
  const std::size_t H = p.W.shape(0), I = p.U.shape(1), K = p.V.shape(0);
  UNROLL_CHECK(p.U.shape(0) == H && p.W.shape(1) == H && p.V.shape(1) == H && p.b.shape(0) == H &&
                   p.b.shape(1) == 1 && p.c.shape(0) == K && p.c.shape(1) == 1,
               "vanilla_rnn: inconsistent parameters U {}, W {}, V {}, b {}, c {} (want [H, I], [H, H], [K, H], "
               "[H, 1], [K, 1])",
               shape_str(p.U), shape_str(p.W), shape_str(p.V), shape_str(p.b), shape_str(p.c));
  UNROLL_CHECK(seq.X.shape(1) == I && seq.X.shape(0) == seq.y.size(),
               "vanilla_rnn: X is {} with {} targets, U is {} (want X [T, I] and T targets)", shape_str(seq.X),
               seq.y.size(), shape_str(p.U));
  UNROLL_CHECK(seq.s0.shape(0) == H && seq.s0.shape(1) == 1, "vanilla_rnn: s0 is {}, expected {}", shape_str(seq.s0),
               shape_str(H, 1));
  for (std::size_t t = 0; t < seq.y.size(); ++t)
    UNROLL_CHECK(seq.y[t] >= 0 && std::size_t(seq.y[t]) < K, "vanilla_rnn: target {} at step {} is out of [0, {})",
                 seq.y[t], t, K);
}

// The forward pass, keeping what BPTT needs: s[0..T] (s[0] = s_0) and ŷ[1..T] (index 0 unused).
double forward(const VanillaRnn& p, const RnnSequence& seq, std::vector<Mat<double>>& s, std::vector<Mat<double>>& yhat) {
  check_sequence(p, seq);
  const std::size_t T = seq.y.size();
  s.assign(T + 1, Mat<double>());
  yhat.assign(T + 1, Mat<double>());
  s[0] = seq.s0;
  double L = 0;
  for (std::size_t t = 1; t <= T; ++t) {
    Mat<double> net = matvec(p.W, s[t - 1], matvec(p.U, column(seq.X, t - 1), p.b));  // U x_t + W s_{t-1} + b
    s[t] = xt::tanh(net);
    yhat[t] = softmax_col(matvec(p.V, s[t], p.c));                                      // softmax(V s_t + c)
    L -= std::log(yhat[t](std::size_t(seq.y[t - 1]), 0));
  }
  return L;
}

}  // namespace

VanillaRnn vanilla_rnn_random(std::size_t I, std::size_t H, std::size_t K, Rng& rng) {
  VanillaRnn p;
  p.U = rng.normal_mat<double>(H, I, 0.0, 0.6);
  p.W = rng.normal_mat<double>(H, H, 0.0, 0.5);  // big enough that gradients travel many steps
  p.V = rng.normal_mat<double>(K, H, 0.0, 0.6);
  p.b = rng.normal_mat<double>(H, 1, 0.0, 0.1);
  p.c = rng.normal_mat<double>(K, 1, 0.0, 0.1);
  return p;
}

RnnSequence rnn_sequence_random(const VanillaRnn& p, std::size_t T, Rng& rng) {
  RnnSequence seq;
  seq.X = rng.normal_mat<double>(T, p.U.shape(1));
  seq.y.resize(T);
  for (auto& y : seq.y) y = std::int64_t(rng.below(p.V.shape(0)));
  seq.s0 = rng.normal_mat<double>(p.W.shape(0), 1, 0.0, 0.5);
  return seq;
}

double vanilla_rnn_loss(const VanillaRnn& p, const RnnSequence& seq) {
  std::vector<Mat<double>> s, yhat;
  return forward(p, seq, s, yhat);
}

// BPTT, with the indexing used here (t = 1..T; s_0 is the initial state, x_t is row t-1 of X):
//   e_t = ŷ_t − onehot(y_t)                          = ∂L/∂o_t   (softmax + cross-entropy)
//   δ_t = diag(1 − s_t²) (Wᵀ δ_{t+1} + Vᵀ e_t)        = ∂L/∂net_t, net_t = U x_t + W s_{t−1} + b;  δ_{T+1} = 0
//   ∇W = Σ_t δ_t s_{t−1}ᵀ    ∇U = Σ_t δ_t x_tᵀ    ∇b = Σ_t δ_t    ∇V = Σ_t e_t s_tᵀ    ∇c = Σ_t e_t
//   ∇s_0 = Wᵀ δ_1
// The issue writes δ_t = diag(f'(net_t)) (Wᵀ δ_{t+1} + Vᵀ(ŷ_{t+1} − y_{t+1})): there the output read from s_t is
// labelled t+1 (the prediction of the next symbol). Renaming ŷ_{t+1} -> ŷ_t gives the recurrence above.
double vanilla_rnn_bptt(const VanillaRnn& p, const RnnSequence& seq, VanillaRnnGrads& g) {
  std::vector<Mat<double>> s, yhat;
  const double L = forward(p, seq, s, yhat);
  const std::size_t T = seq.y.size(), H = p.W.shape(0);
  g.dU = zeros<double>(p.U.shape(0), p.U.shape(1));
  g.dW = zeros<double>(H, H);
  g.dV = zeros<double>(p.V.shape(0), H);
  g.db = zeros<double>(H, 1);
  g.dc = zeros<double>(p.c.shape(0), 1);
  Mat<double> delta_next = zeros<double>(H, 1);  // δ_{T+1} = 0
  for (std::size_t t = T; t >= 1; --t) {
    Mat<double> e = yhat[t];
    e(std::size_t(seq.y[t - 1]), 0) -= 1.0;                                  // e_t = ŷ_t − y_t
    add_outer(g.dV, e, s[t]);                                                // ∇V += e_t s_tᵀ
    g.dc += e;                                                               // ∇c += e_t
    Mat<double> ds = matTvec(p.W, delta_next) + matTvec(p.V, e);             // Wᵀ δ_{t+1} + Vᵀ e_t
    Mat<double> delta = (1.0 - s[t] * s[t]) * ds;                            // δ_t
    add_outer(g.dW, delta, s[t - 1]);                                        // ∇W += δ_t s_{t−1}ᵀ
    add_outer(g.dU, delta, column(seq.X, t - 1));                            // ∇U += δ_t x_tᵀ
    g.db += delta;                                                           // ∇b += δ_t
    delta_next = delta;
  }
  g.ds0 = matTvec(p.W, delta_next);                                          // ∇s_0 = Wᵀ δ_1
  return L;
}

Var<double> vanilla_rnn_tape_loss(const VanillaRnnVars& p, const Mat<double>& X, const std::vector<std::int64_t>& y) {
  UNROLL_CHECK(X.shape(0) == y.size() && !y.empty(), "vanilla_rnn_tape_loss: X is {} with {} targets", shape_str(X),
               y.size());
  Var<double> s = p.s0, L;
  for (std::size_t t = 0; t < y.size(); ++t) {
    Var<double> x = constant(Mat<double>(xt::view(X, xt::range(t, t + 1), xt::all())));  // [1, I]
    s = tanh(add(add(matmul_nt(p.U, x), matmul(p.W, s)), p.b));                         // U x_t + W s_{t-1} + b
    Var<double> o = add(matmul(p.V, s), p.c);                                            // [K, 1]
    Var<double> l = cross_entropy(transpose(o), {y[t]}, -100, Reduction::Sum);
    L = L.defined() ? add(L, l) : l;
  }
  return L;
}

BpttThreeWay bptt_three_way_check(int steps, std::uint64_t seed) {
  UNROLL_CHECK(steps >= 1, "bptt_three_way_check: steps must be >= 1, got {}", steps);
  Rng rng(seed);
  VanillaRnn p = vanilla_rnn_random(3, 5, 4, rng);
  RnnSequence seq = rnn_sequence_random(p, std::size_t(steps), rng);
  BpttThreeWay out;
  out.steps = steps;

  VanillaRnnGrads hand;
  out.loss_hand = vanilla_rnn_bptt(p, seq, hand);

  VanillaRnnVars v{parameter(p.U, "U"), parameter(p.W, "W"), parameter(p.V, "V"),
                   parameter(p.b, "b"), parameter(p.c, "c"), parameter(seq.s0, "s0")};
  Var<double> L = vanilla_rnn_tape_loss(v, seq.X, seq.y);
  out.loss_tape = L.item();
  L.backward();

  const std::vector<std::pair<const Mat<double>*, Var<double>>> pairs = {
      {&hand.dU, v.U}, {&hand.dW, v.W}, {&hand.dV, v.V}, {&hand.db, v.b}, {&hand.dc, v.c}, {&hand.ds0, v.s0}};
  for (const auto& [h, var] : pairs) {
    UNROLL_CHECK(h->shape() == var.grad().shape(), "bptt_three_way_check: hand gradient is {}, tape's is {}",
                 shape_str(*h), shape_str(var.grad()));
    for (std::size_t i = 0; i < h->size(); ++i)
      out.hand_vs_tape = std::max(out.hand_vs_tape, std::abs(h->data()[i] - var.grad().data()[i]));
  }

  // Central differences of the loss, every entry of every parameter (a few hundred forwards of 20 steps).
  const double eps = 1e-6;
  auto numeric = [&](Mat<double>& x, std::size_t i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + eps;
    const double lp = vanilla_rnn_loss(p, seq);
    x.data()[i] = saved - eps;
    const double lm = vanilla_rnn_loss(p, seq);
    x.data()[i] = saved;
    return (lp - lm) / (2 * eps);
  };
  std::vector<std::pair<Mat<double>*, Var<double>>> params = {{&p.U, v.U}, {&p.W, v.W}, {&p.V, v.V},
                                                              {&p.b, v.b}, {&p.c, v.c}, {&seq.s0, v.s0}};
  for (auto& [m, var] : params)
    for (std::size_t i = 0; i < m->size(); ++i)
      out.tape_vs_numeric = std::max(out.tape_vs_numeric, std::abs(var.grad().data()[i] - numeric(*m, i)));

  // And the library's checker on the tape model itself.
  GradCheckResult r = gradcheck([&] { return vanilla_rnn_tape_loss(v, seq.X, seq.y); },
                                {{"U", v.U}, {"W", v.W}, {"V", v.V}, {"b", v.b}, {"c", v.c}, {"s0", v.s0}});
  out.gradcheck_ok = r.ok;
  out.report = r.report;
  return out;
}

}  // namespace unroll
