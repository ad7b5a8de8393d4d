// tests/test_gradcheck.cc — verify the verifier (engine/gradcheck.{h,cc}). Each case plants one wrong
// backward function through make_op, next to correct inputs, and asserts that gradcheck fails (r.ok false)
// and names the culprit: the culprit's entry fails, it comes first in the report, the bystanders pass.
// The correct version of every op must pass. Planted: a sign flip, an assignment instead of += on a
// reused input, an un-transposed matmul gradient, a dropped bias gradient, a factor of 2, two off-by-one
// time steps in a tiny unrolled RNN, a stateful (non-repeatable) backward, a bug in one entry of a large input.
#include "tests/op_test_helpers.h"

#include "engine/gemm.h"

#include <memory>
#include <set>

using namespace unroll;
using namespace unroll::test;

namespace {

enum class Bug { None, Planted };

// Asserts gradcheck fails, names `culprits` as the failing inputs (first in the report), and passes the rest.
void check_caught(const GradCheckResult& r, const std::set<std::string>& culprits) {
  INFO(r.report);
  CHECK_FALSE(r.ok);
  const GradCheckEntry* w = r.worst();
  REQUIRE(w != nullptr);
  CHECK(culprits.count(w->name) == 1);
  for (const auto& e : r.entries) {
    CAPTURE(e.name);
    CHECK(e.ok == (culprits.count(e.name) == 0));
    if (!e.ok) CHECK(r.report.find("FAIL " + e.name + " ") != std::string::npos);
  }
  CHECK(r.report.rfind("FAIL " + w->name + " ", 0) == 0);  // the culprit's line comes first
}

// ---- the planted ops (each with its correct version) -----------------------------------------------
// tanh; planted: sign flip  dx -= (1 - y²) dy
VarD tanh_op(const VarD& x, Bug bug) {
  Mat<double> y = xt::tanh(x.value());
  return make_op<double>("tanh_op", std::move(y), {x}, [bug](Node<double>& out) {
    const double sign = bug == Bug::Planted ? -1.0 : 1.0;
    out.parent(0).grad += sign * (1.0 - out.value * out.value) * out.grad;
  });
}
// a ⊙ b; planted: assigns instead of accumulating (wrong as soon as an input is used twice)
VarD mul_op(const VarD& a, const VarD& b, Bug bug) {
  Mat<double> y = a.value() * b.value();
  return make_op<double>("mul_op", std::move(y), {a, b}, [bug](Node<double>& out) {
    Node<double>& a = out.parent(0);
    Node<double>& b = out.parent(1);
    if (bug == Bug::Planted) {
      a.grad = out.grad * b.value;
      b.grad = out.grad * a.value;
    } else {
      a.grad += out.grad * b.value;
      b.grad += out.grad * a.value;
    }
  });
}
// A · W; planted in dW: A · dY instead of Aᵀ · dY (shapes fit when everything is square)
VarD matmul_op(const VarD& a, const VarD& w, Bug bug) {
  Mat<double> y = zeros<double>(a.rows(), w.cols());
  gemm(Trans::N, Trans::N, 1.0, a.value(), w.value(), 0.0, y);
  return make_op<double>("matmul_op", std::move(y), {a, w}, [bug](Node<double>& out) {
    Node<double>& a = out.parent(0);
    Node<double>& w = out.parent(1);
    gemm(Trans::N, Trans::T, 1.0, out.grad, w.value, 1.0, a.grad);
    gemm(bug == Bug::Planted ? Trans::N : Trans::T, Trans::N, 1.0, a.value, out.grad, 1.0, w.grad);
  });
}
// X · W + 1·b; planted: db never written
VarD affine_op(const VarD& x, const VarD& w, const VarD& b, Bug bug) {
  Mat<double> y = zeros<double>(x.rows(), w.cols());
  gemm(Trans::N, Trans::N, 1.0, x.value(), w.value(), 0.0, y);
  for (std::size_t r = 0; r < y.shape(0); ++r) xt::view(y, r, xt::all()) += xt::view(b.value(), 0, xt::all());
  return make_op<double>("affine_op", std::move(y), {x, w, b}, [bug](Node<double>& out) {
    gemm(Trans::N, Trans::T, 1.0, out.grad, out.parent(1).value, 1.0, out.parent(0).grad);
    gemm(Trans::T, Trans::N, 1.0, out.parent(0).value, out.grad, 1.0, out.parent(1).grad);
    if (bug == Bug::None)
      for (std::size_t r = 0; r < out.grad.shape(0); ++r)
        xt::view(out.parent(2).grad, 0, xt::all()) += xt::view(out.grad, r, xt::all());
  });
}
// σ(x); planted: a factor of 2
VarD sigmoid_op(const VarD& x, Bug bug) {
  Mat<double> y = 1.0 / (1.0 + xt::exp(-x.value()));
  return make_op<double>("sigmoid_op", std::move(y), {x}, [bug](Node<double>& out) {
    const double k = bug == Bug::Planted ? 2.0 : 1.0;
    out.parent(0).grad += k * out.value * (1.0 - out.value) * out.grad;
  });
}
// One RNN step h_t = tanh(h_{t-1} · W + x_t), h [1, H], W [H, H]. The op also receives h_{t-2} (as an RNN
// with a skip connection would) so that a bug can send the state gradient one step too far back.
// Planted (Misroute): dh goes to h_{t-2} instead of h_{t-1}. Planted (StaleState): dW uses h_t instead of h_{t-1}.
enum class StepBug { None, Misroute, StaleState };
VarD rnn_step_op(const VarD& h_prev, const VarD& h_prev2, const VarD& W, const VarD& x, StepBug bug) {
  Mat<double> z = x.value();
  gemm(Trans::N, Trans::N, 1.0, h_prev.value(), W.value(), 1.0, z);
  Mat<double> y = xt::tanh(z);
  return make_op<double>("rnn_step_op", std::move(y), {h_prev, h_prev2, W, x}, [bug](Node<double>& out) {
    Mat<double> dz = (1.0 - out.value * out.value) * out.grad;
    Node<double>& h_to = bug == StepBug::Misroute ? out.parent(1) : out.parent(0);
    if (h_to.requires_grad) gemm(Trans::N, Trans::T, 1.0, dz, out.parent(2).value, 1.0, h_to.grad);
    const Mat<double>& h_used = bug == StepBug::StaleState ? out.value : out.parent(0).value;
    gemm(Trans::T, Trans::N, 1.0, h_used, dz, 1.0, out.parent(2).grad);
    out.parent(3).grad += dz;
  });
}
// Σ_t h_t · V over T steps from h0; every input is a parameter.
VarD tiny_rnn(const VarD& h0, const VarD& W, const VarD& V, const std::vector<VarD>& xs, StepBug bug) {
  VarD prev2 = h0, prev = h0, loss;
  for (const VarD& x : xs) {
    VarD h = rnn_step_op(prev, prev2, W, x, bug);
    VarD o = matmul(h, V);
    loss = loss.defined() ? add(loss, o) : o;
    prev2 = prev;
    prev = h;
  }
  return loss;
}

}  // namespace

TEST_SUITE("gradcheck") {

TEST_CASE("gradcheck: catches a sign flip and names the input") {
  VarD x = parameter(randn(3, 4, 900)), y = parameter(randn(3, 4, 901));
  auto f = [&](Bug bug) { return [&, bug] { return add(tanh_op(x, bug), mul(y, y)); }; };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"x", x}, {"y", y}}));
  GradCheckResult r = gradcheck(f(Bug::Planted), {{"x", x}, {"y", y}});
  check_caught(r, {"x"});
  // The report gives the worst index, analytic vs numeric, absolute and relative error.
  const GradCheckEntry* w = r.worst();
  CHECK(w->analytic == doctest::Approx(-w->numeric).epsilon(1e-6));
  CHECK(w->rel_err == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(w->checked == 12);
  CHECK(r.report.find(fmt::format("FAIL x [3, 4]: worst at ({}, {}): analytic ", w->worst_row, w->worst_col)) == 0);
  CHECK(r.report.find("abs err") != std::string::npos);
  CHECK(r.report.find("rel err 2 ") != std::string::npos);
}

TEST_CASE("gradcheck: catches a backward that is right only for a constant dy (a plain sum would hide it)") {
  // scale-by-2 whose backward sends mean(dy) everywhere: with L = Σ y (dy = 1) it is exact; the random
  // projection L = Σ y ⊙ R gives a varying dy and exposes it.
  VarD x = parameter(randn(3, 4, 905));
  auto f = [&](Bug bug) {
    return [&, bug] {
      Mat<double> y = 2.0 * x.value();
      return make_op<double>("scale2_op", std::move(y), {x}, [bug](Node<double>& out) {
        if (bug == Bug::Planted)
          out.parent(0).grad += 2.0 * xt::mean(out.grad)();
        else
          out.parent(0).grad += 2.0 * out.grad;
      });
    };
  };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"x", x}}));
  check_caught(gradcheck(f(Bug::Planted), {{"x", x}}), {"x"});
  GradCheckResult summed = gradcheck([&] { return sum(f(Bug::Planted)()); }, {{"x", x}});
  CHECK(summed.ok);  // what a checker on Σ y would have concluded
}

TEST_CASE("gradcheck: catches an assignment instead of += when the input is used twice") {
  VarD x = parameter(randn(3, 4, 910)), y = parameter(randn(3, 4, 911)), z = parameter(randn(3, 4, 912));
  auto f = [&](Bug bug) { return [&, bug] { return add(mul_op(x, x, bug), mul_op(y, z, bug)); }; };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"x", x}, {"y", y}, {"z", z}}));
  // y and z are used once each: there the assignment happens to be right, so only x is named.
  check_caught(gradcheck(f(Bug::Planted), {{"x", x}, {"y", y}, {"z", z}}), {"x"});
}

TEST_CASE("gradcheck: catches an un-transposed matmul gradient (square matrices)") {
  VarD a = parameter(randn(4, 4, 920)), w = parameter(randn(4, 4, 921));
  auto f = [&](Bug bug) { return [&, bug] { return matmul_op(a, w, bug); }; };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"a", a}, {"W", w}}));
  check_caught(gradcheck(f(Bug::Planted), {{"a", a}, {"W", w}}), {"W"});
}

TEST_CASE("gradcheck: catches a dropped bias gradient") {
  VarD x = parameter(randn(3, 4, 930)), w = parameter(randn(4, 2, 931)), b = parameter(randn(1, 2, 932));
  auto f = [&](Bug bug) { return [&, bug] { return tanh(affine_op(x, w, b, bug)); }; };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"x", x}, {"W", w}, {"b", b}}));
  check_caught(gradcheck(f(Bug::Planted), {{"x", x}, {"W", w}, {"b", b}}), {"b"});
}

TEST_CASE("gradcheck: catches a factor of 2") {
  VarD x = parameter(randn(1, 5, 940)), y = parameter(randn(1, 5, 941));
  auto f = [&](Bug bug) { return [&, bug] { return mul(sigmoid_op(x, bug), y); }; };
  CHECK_GRADCHECK(f(Bug::None), (Inputs{{"x", x}, {"y", y}}));
  check_caught(gradcheck(f(Bug::Planted), {{"x", x}, {"y", y}}), {"x"});
}

TEST_CASE("gradcheck: catches an off-by-one time step in a tiny unrolled RNN") {
  // T = 4, H = 3. V only sees forward values, so its gradient stays right and it must not be named.
  VarD h0 = parameter(randn(1, 3, 950), "h0"), W = parameter(scale(constant(randn(3, 3, 951)), 0.6).value(), "W");
  VarD V = parameter(randn(3, 2, 952), "V");
  std::vector<VarD> xs;
  for (int t = 0; t < 4; ++t) xs.push_back(parameter(randn(1, 3, 960 + t)));
  Inputs all = {{"h0", h0}, {"W", W}, {"V", V}, {"x0", xs[0]}, {"x1", xs[1]}, {"x2", xs[2]}, {"x3", xs[3]}};
  auto f = [&](StepBug bug) { return [&, bug] { return tiny_rnn(h0, W, V, xs, bug); }; };
  CHECK_GRADCHECK(f(StepBug::None), all);
  SUBCASE("the state gradient goes to h_{t-2} instead of h_{t-1}") {
    // Every state gradient lands one step early: W, h0 and all but the last input are wrong.
    check_caught(gradcheck(f(StepBug::Misroute), all), {"h0", "W", "x0", "x1", "x2"});
  }
  SUBCASE("dW uses h_t instead of h_{t-1}") {
    check_caught(gradcheck(f(StepBug::StaleState), all), {"W"});
  }
}

TEST_CASE("gradcheck: catches a stateful backward (not repeatable) and names the input") {
  // The first pass is right, the second scales by 1.5: only the backward-twice check can see it.
  VarD x = parameter(randn(2, 3, 970)), y = parameter(randn(2, 3, 971));
  auto calls = std::make_shared<int>(0);
  auto drifting_tanh = [calls](const VarD& v) {
    Mat<double> out_v = xt::tanh(v.value());
    return make_op<double>("drifting_tanh", std::move(out_v), {v}, [calls](Node<double>& out) {
      const double k = 1.0 + 0.5 * (*calls)++;
      out.parent(0).grad += k * (1.0 - out.value * out.value) * out.grad;
    });
  };
  GradCheckResult r = gradcheck([&] { return add(drifting_tanh(x), mul(y, y)); }, {{"x", x}, {"y", y}});
  check_caught(r, {"x"});
  CHECK_FALSE(r.repeatable);
  CHECK(r.entries[0].repeat_diff > 0);
  CHECK(r.report.find("backward twice gave different gradients") != std::string::npos);
  CHECK(*calls == 2);  // gradcheck runs backward exactly twice; the numerical side never does
}

TEST_CASE("gradcheck: a large input is checked on a subset plus a random direction, which finds a one-entry bug") {
  // 30 × 30 = 900 entries > full_limit: 128 sampled entries may miss entry (17, 23); the direction cannot.
  VarD x = parameter(randn(30, 30, 980));
  auto f = [&](bool planted) {
    return [&, planted] {
      Mat<double> y = xt::tanh(x.value());
      return make_op<double>("tanh_one_bug", std::move(y), {x}, [planted](Node<double>& out) {
        Mat<double> g = (1.0 - out.value * out.value) * out.grad;
        if (planted) g(17, 23) += 1.0;
        out.parent(0).grad += g;
      });
    };
  };
  GradCheckResult good = gradcheck(f(false), {{"x", x}});
  CHECK_MESSAGE(good.ok, good.report);
  CHECK(good.entries[0].direction_checked);
  CHECK(good.entries[0].checked == 129);
  check_caught(gradcheck(f(true), {{"x", x}}), {"x"});
}

// Every op of engine/ops.h in one graph, built in T from the same float64 values; returns the leaves' gradients.
template <class T>
std::vector<Mat<double>> every_op_grads() {
  Var<T> a = parameter(unroll::to_precision<T>(randn(3, 4, 990))), b = parameter(unroll::to_precision<T>(randu(3, 4, 0.5, 2.0, 991)));
  Var<T> W = parameter(unroll::to_precision<T>(scale(constant(randn(4, 4, 992)), 0.5).value()));
  Var<T> bias = parameter(unroll::to_precision<T>(randn(1, 4, 993))), E = parameter(unroll::to_precision<T>(randn(5, 4, 994)));
  const Mat<T> m = unroll::to_precision<T>(randu(3, 4, 0.0, 1.0, 995)), y01 = unroll::to_precision<T>(randu(3, 4, 0.0, 1.0, 996));
  Rng rng(997);
  Var<T> x = add(mul(a, b), div(a, b));
  x = sub(x, neg(scale(x, T(0.5))));
  x = add(tanh(add_scalar(x, T(0.1))), sigmoid(x));
  x = add(relu(x), exp(scale(x, T(0.3))));
  x = add(log(add_scalar(mul(x, x), T(1))), mask(x, m));
  x = dropout(x, 0.25, rng);
  x = tanh(add_bias(matmul(x, W), bias));
  x = tanh(linear(x, W, bias));
  x = matmul_nt(x, W);
  x = concat_cols<T>({cols(x, 2, 4), cols(x, 0, 2)});
  x = concat_rows<T>({rows(x, 1, 3), rows(x, 0, 1)});
  x = add(x, transpose(transpose(x)));
  x = add(x, embedding(E, {0, 4, 0}));
  Var<T> loss = add(sum(softmax(x)), mean(log_softmax(x)));
  loss = add(loss, cross_entropy(x, {1, -100, 3}));
  loss = add(loss, bce_with_logits(x, y01, Reduction::Sum));
  loss = add(loss, mse(x, constant(unroll::to_precision<T>(randn(3, 4, 998)))));
  loss = add(loss, add(sum(mul(sum_rows(x), sum_rows(x))), mean(sum_cols(x))));
  loss.backward();
  std::vector<Mat<double>> g;
  for (const Var<T>& v : {a, b, W, bias, E}) g.push_back(unroll::to_precision<double>(v.grad()));
  return g;
}

TEST_CASE("precision: float32 gradients of every op agree with the float64 ones") {
  std::vector<Mat<double>> f = every_op_grads<float>(), d = every_op_grads<double>();
  for (std::size_t i = 0; i < d.size(); ++i) {
    CAPTURE(i);
    double scale_d = 1;
    for (double v : d[i]) scale_d = std::max(scale_d, std::abs(v));
    CHECK(all_finite(d[i]));
    CHECK(max_abs_diff(f[i], d[i]) <= 1e-4 * scale_d);
  }
}

TEST_CASE("gradcheck: scores and verdicts use the options' tolerances") {
  // With eps = 5e-3 the central difference of exp is off by eps²/6 · e^x ≈ 3e-5: inside the default
  // tolerances, far outside atol = rtol = 1e-9.
  VarD x = parameter(randu(2, 3, 1.0, 2.0, 999));
  GradCheckOptions o;
  o.eps = 5e-3;
  GradCheckResult loose = gradcheck([&] { return exp(x); }, {{"x", x}}, o);
  o.atol = o.rtol = 1e-9;
  GradCheckResult strict = gradcheck([&] { return exp(x); }, {{"x", x}}, o);
  CHECK_MESSAGE(loose.ok, loose.report);
  CHECK_FALSE(strict.ok);
  CHECK(loose.entries[0].score <= 1.0);
  CHECK(strict.entries[0].score > 1.0);
  CHECK(strict.worst()->abs_err == doctest::Approx(loose.worst()->abs_err));
}

TEST_CASE("gradcheck: argument errors") {
  VarD c = constant(zeros<double>(1, 1));
  CHECK_THROWS_WITH_AS(gradcheck([&] { return c; }, {{"c", c}}),
                       doctest::Contains("gradcheck: input 'c' must be a parameter"), ShapeError);
  CHECK_THROWS_WITH_AS(gradcheck([&] { return c; }, {}), doctest::Contains("gradcheck: no inputs"), ShapeError);
}

}  // TEST_SUITE
