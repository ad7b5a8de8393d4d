// tests/test_fused_deferred.cc — RecurrentProjection (engine/ops_rnn.h): the recurrent matmul with its weight
// gradients deferred to one GEMM after the backward loop. Held against linear_fused per step (values and
// gradients, float64 to 1e-12) on chained recurrences of several shapes (batch 1, length 1), gradient-checked
// in float64, with a step that does not reach the loss, two backward passes, no_grad, and varying batch
// sizes; the nn layers' fused path (which uses it) against their plain-op reference. Also the engine guards
// that came with it: project_steps' equal batch sizes, gemm's int range, backward on a graph without
// gradients, to_precision.
#include "engine/gemm.h"
#include "engine/ops_rnn.h"
#include "nn/recurrent.h"
#include "tests/op_test_helpers.h"

#include <limits>
#include <type_traits>

using namespace unroll;
using namespace unroll::test;

namespace {
// h_t = tanh(x_t + gh_t), gh_t = h_{t-1}·Wᵀ + b via hh; returns Σ_t Σ h_t ⊙ R_t. skip: step whose h is left
// out of the loss (its projection still runs).
template <class T, class HH>
Var<T> chain(const std::vector<Var<T>>& xs, const Var<T>& h0, HH&& hh, int skip = -1) {
  Var<T> h = h0, loss = constant(zeros<T>(1, 1));
  for (std::size_t t = 0; t < xs.size(); ++t) {
    Var<T> hn = tanh(xs[t] + hh(h));
    if (int(t) != skip) loss = loss + sum(mul(hn, constant(randn<T>(hn.rows(), hn.cols(), 500 + t))));
    h = hn;
  }
  return loss;
}

struct Case {
  std::size_t T, B, H;
  bool bias;
};
const std::vector<Case> kCases = {{1, 1, 1, true}, {1, 3, 2, false}, {3, 1, 2, true}, {4, 2, 3, true}, {5, 3, 4, false}};
}  // namespace

TEST_SUITE("ops.rnn.deferred") {

TEST_CASE("recurrent_projection: equals linear_fused per step, values and gradients in float64") {
  for (const Case& c : kCases)
    for (int skip : {-1, 0}) {
      if (skip >= 0 && c.T == 1) continue;  // the loss would reach no parameter
      CAPTURE(c.T);
      CAPTURE(c.B);
      CAPTURE(c.H);
      CAPTURE(c.bias);
      CAPTURE(skip);
      const std::size_t G = c.H;  // the chain adds gh to x: G = H here
      VarD W = parameter(randn(G, c.H, 1)), b = c.bias ? parameter(randn(1, G, 2)) : VarD();
      VarD h0 = parameter(randn(c.B, c.H, 3));
      std::vector<VarD> xs;
      for (std::size_t t = 0; t < c.T; ++t) xs.push_back(parameter(randn(c.B, c.H, 10 + t)));
      auto grads = [&] {
        std::vector<Mat<double>> g{W.grad(), h0.grad()};
        if (c.bias) g.push_back(b.grad());
        for (auto& x : xs) g.push_back(x.grad());
        W.zero_grad();
        h0.zero_grad();
        if (c.bias) b.zero_grad();
        for (auto& x : xs) x.zero_grad();
        return g;
      };
      RecurrentProjection<double> proj(W, b);
      VarD lf = chain(xs, h0, proj, skip);
      VarD lr = chain(xs, h0, [&](const VarD& h) { return linear_fused(h, W, b); }, skip);
      CHECK(std::abs(lf.item() - lr.item()) <= 1e-12);
      lf.backward();
      auto gf = grads();
      lr.backward();
      auto gr = grads();
      for (std::size_t k = 0; k < gf.size(); ++k) {
        CAPTURE(k);
        CHECK_MAT_NEAR(gf[k], gr[k], 1e-12);
      }
      // a second backward over the same graph files again and gives the same gradients
      lf.backward();
      auto gf2 = grads();
      for (std::size_t k = 0; k < gf.size(); ++k) CHECK_MAT_NEAR(gf2[k], gr[k], 1e-12);
    }
}

TEST_CASE("recurrent_projection: gradcheck in float64 (T = 1 and more, batch 1 and more, with and without bias)") {
  for (const Case& c : kCases) {
    CAPTURE(c.T);
    CAPTURE(c.B);
    CAPTURE(c.H);
    VarD W = parameter(randn(c.H, c.H, 21)), b = c.bias ? parameter(randn(1, c.H, 22)) : VarD();
    VarD h0 = parameter(randn(c.B, c.H, 23));
    std::vector<VarD> xs;
    for (std::size_t t = 0; t < c.T; ++t) xs.push_back(parameter(randn(c.B, c.H, 30 + t)));
    Inputs in{{"W_hh", W}, {"h0", h0}, {"x0", xs[0]}};
    if (c.bias) in.push_back({"b_hh", b});
    CHECK_GRADCHECK(
        [&] {
          RecurrentProjection<double> proj(W, b);
          return chain(xs, h0, proj);
        },
        in);
  }
  // a wide projection (G = 4H, as an LSTM's) on its own, batch 1 and 3
  for (std::size_t B : {1, 3}) {
    VarD W = parameter(randn(8, 2, 40)), b = parameter(randn(1, 8, 41)), h = parameter(randn(B, 2, 42));
    CHECK_GRADCHECK(
        [&] {
          RecurrentProjection<double> proj(W, b);
          return concat_rows(std::vector<VarD>{proj(h), proj(tanh(h))});
        },
        (Inputs{{"W_hh", W}, {"b_hh", b}, {"h", h}}));
  }
}

TEST_CASE("recurrent_projection: steps of different batch sizes, no_grad, constant weight, errors") {
  VarD W = parameter(randn(3, 2, 50)), b = parameter(randn(1, 3, 51));
  VarD h1 = parameter(randn(2, 2, 52)), h2 = parameter(randn(1, 2, 53));
  {
    RecurrentProjection<double> proj(W, b);
    VarD l = sum(mul(proj(h1), constant(randn(2, 3, 54)))) + sum(mul(proj(h2), constant(randn(1, 3, 55))));
    l.backward();
  }
  Mat<double> gW = W.grad(), gb = b.grad(), g1 = h1.grad(), g2 = h2.grad();
  W.zero_grad();
  b.zero_grad();
  h1.zero_grad();
  h2.zero_grad();
  VarD l = sum(mul(linear_fused(h1, W, b), constant(randn(2, 3, 54)))) +
           sum(mul(linear_fused(h2, W, b), constant(randn(1, 3, 55))));
  l.backward();
  CHECK_MAT_NEAR(gW, W.grad(), 1e-12);
  CHECK_MAT_NEAR(gb, b.grad(), 1e-12);
  CHECK_MAT_NEAR(g1, h1.grad(), 1e-12);
  CHECK_MAT_NEAR(g2, h2.grad(), 1e-12);
  {
    NoGradGuard ng;
    RecurrentProjection<double> proj(W, b);
    VarD y = proj(h1);
    CHECK_FALSE(y.requires_grad());
    CHECK_MAT_NEAR(y.value(), linear_fused(h1, W, b).value(), 1e-12);
  }
  {  // the weight takes no gradient: dh still flows
    VarD Wc = constant(W.value());
    h1.zero_grad();
    RecurrentProjection<double> proj(Wc, VarD());
    sum(proj(h1)).backward();
    Mat<double> want = h1.grad();
    h1.zero_grad();
    sum(linear_fused(h1, Wc, VarD())).backward();
    CHECK_MAT_NEAR(want, h1.grad(), 1e-12);
  }
  RecurrentProjection<double> proj(W, b);
  CHECK_THROWS_WITH_AS(proj(parameter(randn(2, 3, 1))), doctest::Contains("recurrent_projection: h is [2, 3], weight is [3, 2]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(RecurrentProjection<double>(W, parameter(randn(1, 2, 1))),
                       doctest::Contains("recurrent_projection: weight is [3, 2], bias is [1, 2]"), ShapeError);
}

TEST_CASE("recurrent layers: the fused path (deferred weight gradients) equals the plain-op reference in float64") {
  for (CellKind kind : {CellKind::LSTM, CellKind::GRU, CellKind::RNN})
    for (bool bidir : {false, true})
      for (std::size_t B : {1, 3}) {
        CAPTURE(int(kind));
        CAPTURE(bidir);
        CAPTURE(B);
        RecurrentConfig cfg = recurrent_config(3, 4, 2, bidir);
        Rng r1(5), r2(5);
        cfg.fused = true;
        Recurrent<double> fused(kind, cfg, r1);
        cfg.fused = false;
        Recurrent<double> plain(kind, cfg, r2);
        const std::size_t T = 4;
        std::vector<VarD> xs;
        for (std::size_t t = 0; t < T; ++t) xs.push_back(constant(randn(B, 3, 60 + t)));
        const std::vector<int> lengths = B == 1 ? std::vector<int>{} : std::vector<int>{4, 1, 3};
        auto loss_of = [&](Recurrent<double>& m) {
          auto out = m.forward(xs, lengths);
          VarD l = constant(zeros<double>(1, 1));
          for (std::size_t t = 0; t < T; ++t)
            l = l + sum(mul(out.outputs[t], constant(randn(B, out.outputs[t].cols(), 70 + t))));
          return l;
        };
        VarD lf = loss_of(fused), lp = loss_of(plain);
        CHECK(std::abs(lf.item() - lp.item()) <= 1e-12);
        lf.backward();
        lp.backward();
        auto pf = fused.parameters(), pp = plain.parameters();
        REQUIRE(pf.size() == pp.size());
        for (std::size_t i = 0; i < pf.size(); ++i) {
          CAPTURE(pf[i].name);
          CHECK_MAT_NEAR(pf[i].var.grad(), pp[i].var.grad(), 1e-12);
        }
      }
}

TEST_CASE("project_steps: steps of different batch sizes are refused, naming the op and the shapes") {
  VarD W = parameter(randn(4, 3, 1));
  std::vector<VarD> xs{constant(randn(2, 3, 2)), constant(randn(1, 3, 3))};
  CHECK_THROWS_WITH_AS(project_steps(xs, W, {}), doctest::Contains("project_steps: step 1 is [1, 3], step 0 is [2, 3]"),
                       ShapeError);
  std::vector<VarD> ys{constant(randn(2, 3, 2)), constant(randn(2, 2, 3))};
  CHECK_THROWS_WITH_AS(project_steps(ys, W, {}), doctest::Contains("project_steps: step 1 is [2, 2]"), ShapeError);
}

TEST_CASE("gemm: dimensions beyond int are refused before BLAS sees them") {
  const std::size_t big = std::size_t(std::numeric_limits<int>::max()) + 1;
  CHECK_THROWS_WITH_AS(gemm_raw<float>(Trans::N, Trans::N, big, 1, 1, 1.f, nullptr, 1, nullptr, 1, 0.f, nullptr, 1),
                       doctest::Contains("gemm: M = 2147483648, N = 1, K = 1"), ShapeError);
  CHECK_THROWS_WITH_AS(gemm_raw<double>(Trans::N, Trans::T, 1, 1, big, 1.0, nullptr, big, nullptr, big, 0.0, nullptr, 1),
                       doctest::Contains("K = 2147483648"), ShapeError);
  float a = 2, b = 3, c = 0;  // in range: still computes
  gemm_raw<float>(Trans::N, Trans::N, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1);
  CHECK(c == 6.f);
}

TEST_CASE("backward: an output that takes no gradient is an error, not a silent no-op") {
  VarD c = constant(randn(2, 2, 1));
  CHECK_THROWS_WITH_AS(sum(c).backward(), doctest::Contains("backward: the output (op 'sum', [1, 1]) does not require a gradient"),
                       ShapeError);
  VarD p = parameter(randn(2, 2, 2));
  VarD y;
  {
    NoGradGuard ng;
    y = sum(p);
  }
  CHECK_THROWS_AS(y.backward(), ShapeError);
  CHECK_THROWS_AS(sum(detach(p)).backward(), ShapeError);
  sum(p).backward();  // and the normal case still works
  CHECK(p.grad()(0, 0) == 1.0);
}

TEST_CASE("to_precision: an evaluated copy in the other precision, also from a non-const Mat") {
  Mat<double> m = randn(2, 3, 9);
  auto f = to_precision<float>(m);
  static_assert(std::is_same_v<decltype(f), Mat<float>>);
  const float first = f(0, 0);
  m.fill(7.0);  // a lazy expression would now read 7
  CHECK(f(0, 0) == first);
  CHECK(first == float(randn(2, 3, 9)(0, 0)));
}

}  // TEST_SUITE
