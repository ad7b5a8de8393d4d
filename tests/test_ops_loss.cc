// tests/test_ops_loss.cc — engine/ops_loss.cc: softmax, log_softmax, cross_entropy (ignore_index, the three
// reductions), bce_with_logits, mse. Hand forward values, float64 gradchecks on [1, 1], [1, 5], [3, 4], the
// input used twice, the argument errors, and finite, correct results for logits of ±1e4 in float and double.
#include "tests/op_test_helpers.h"

#include <cmath>
#include <type_traits>

using namespace unroll;
using namespace unroll::test;

namespace {
const double L2 = std::log(2.0), L3 = std::log(3.0);
// Rows [0, ln 3] and [ln 2, 0]: softmax [1/4, 3/4] and [2/3, 1/3].
const Mat<double> Z = mat<double>({{0, L3}, {L2, 0}});
const Reduction kReductions[] = {Reduction::Mean, Reduction::Sum, Reduction::None};

std::vector<std::int64_t> targets_for(std::size_t B, std::size_t K, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::int64_t> t(B);
  for (auto& v : t) v = std::int64_t(rng.below(K));
  return t;
}
}  // namespace

TEST_SUITE("ops.loss") {

// ---- softmax / log_softmax -------------------------------------------------------------------------
TEST_CASE("softmax: forward, gradcheck, used twice, no-column error") {
  CHECK_MAT_NEAR(softmax(constant(Z)).value(), mat<double>({{0.25, 0.75}, {2.0 / 3, 1.0 / 3}}), 1e-15);
  CHECK_MAT_NEAR(softmax(constant(mat<double>({{7}}))).value(), mat<double>({{1}}), 0);
  std::uint64_t seed = 400;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK([&] { return softmax(x); }, (Inputs{{"x", x}}));
    CHECK_GRADCHECK([&] { return mul(softmax(x), x); }, (Inputs{{"x", x}}));  // x reaches the output twice
  }
  CHECK_THROWS_WITH_AS(softmax(constant(zeros<double>(2, 0))), doctest::Contains("softmax: input has no columns ([2, 0])"),
                       ShapeError);
}

TEST_CASE("log_softmax: forward, gradcheck, used twice, no-column error") {
  CHECK_MAT_NEAR(log_softmax(constant(Z)).value(),
                 mat<double>({{-2 * L2, L3 - 2 * L2}, {L2 - L3, -L3}}), 1e-15);
  std::uint64_t seed = 410;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK([&] { return log_softmax(x); }, (Inputs{{"x", x}}));
    CHECK_GRADCHECK([&] { return add(log_softmax(x), softmax(x)); }, (Inputs{{"x", x}}));
  }
  CHECK_THROWS_WITH_AS(log_softmax(constant(zeros<double>(1, 0))),
                       doctest::Contains("log_softmax: input has no columns ([1, 0])"), ShapeError);
}

// ---- cross_entropy ---------------------------------------------------------------------------------
TEST_CASE("cross_entropy: forward by hand for Mean, Sum and None") {
  const double l0 = -std::log(0.75), l1 = L3;  // targets 1 and 1: -log(3/4), -log(1/3)
  VarD x = constant(Z);
  CHECK(cross_entropy(x, {1, 1}).item() == doctest::Approx((l0 + l1) / 2).epsilon(1e-14));
  CHECK(cross_entropy(x, {1, 1}, -100, Reduction::Sum).item() == doctest::Approx(l0 + l1).epsilon(1e-14));
  CHECK_MAT_NEAR(cross_entropy(x, {1, 1}, -100, Reduction::None).value(), mat<double>({{l0}, {l1}}), 1e-15);
  CHECK(cross_entropy(constant(mat<double>({{3.5}})), {0}).item() == 0.0);  // one class: always right
}

TEST_CASE("cross_entropy: ignore_index with Mean, Sum and None") {
  const double l0 = -std::log(0.75);
  const std::vector<std::int64_t> t = {1, -100};
  VarD x = parameter(Z);
  // Mean is over the rows that count: one here.
  CHECK(cross_entropy(x, t).item() == doctest::Approx(l0).epsilon(1e-14));
  CHECK(cross_entropy(x, t, -100, Reduction::Sum).item() == doctest::Approx(l0).epsilon(1e-14));
  CHECK_MAT_NEAR(cross_entropy(x, t, -100, Reduction::None).value(), mat<double>({{l0}, {0}}), 1e-15);
  for (Reduction red : kReductions) {
    CAPTURE(int(red));
    x.zero_grad();
    VarD l = cross_entropy(x, t, -100, red);
    l.backward(full<double>(l.rows(), 1, 1.0));
    CHECK_MAT_NEAR(x.grad(), mat<double>({{0.25, -0.25}, {0, 0}}), 1e-15);  // softmax - onehot; ignored row 0
  }
  // another ignore value; and every row ignored gives 0 and no gradient, not 0/0
  CHECK(cross_entropy(x, {0, 1}, /*ignore_index=*/0).item() == doctest::Approx(L3).epsilon(1e-14));
  x.zero_grad();
  VarD none = cross_entropy(x, {-100, -100});
  CHECK(none.item() == 0.0);
  none.backward();
  CHECK_MAT_NEAR(x.grad(), zeros<double>(2, 2), 0);
}

TEST_CASE("cross_entropy: gradcheck for every reduction, with an ignored row, used twice") {
  std::uint64_t seed = 420;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    std::vector<std::int64_t> t = targets_for(r, c, seed++);
    std::vector<std::int64_t> t_ign = t;
    t_ign[r - 1] = -100;
    for (Reduction red : kReductions) {
      CAPTURE(int(red));
      CHECK_GRADCHECK([&] { return cross_entropy(x, t, -100, red); }, (Inputs{{"x", x}}));
      CHECK_GRADCHECK([&] { return cross_entropy(x, t_ign, -100, red); }, (Inputs{{"x", x}}));
    }
    // Two losses on the same logits (e.g. two heads' targets): both gradients reach x.
    std::vector<std::int64_t> t2 = targets_for(r, c, seed++);
    CHECK_GRADCHECK([&] { return add(cross_entropy(x, t), cross_entropy(x, t2)); }, (Inputs{{"x", x}}));
  }
}

TEST_CASE("cross_entropy: errors name the op and the shapes") {
  VarD x = constant(zeros<double>(2, 4));
  CHECK_THROWS_WITH_AS(cross_entropy(x, {0, 1, 2}),
                       doctest::Contains("cross_entropy: 3 targets for logits of shape [2, 4]"), ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(x, {0, 4}),
                       doctest::Contains("cross_entropy: target 4 at row 1 is out of range [0, 4) (logits are [2, 4])"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(x, {-1, 0}), doctest::Contains("cross_entropy: target -1 at row 0"), ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(constant(zeros<double>(2, 0)), {0, 0}),
                       doctest::Contains("cross_entropy: input has no columns ([2, 0])"), ShapeError);
}

// ---- bce_with_logits -------------------------------------------------------------------------------
TEST_CASE("bce_with_logits: forward by hand for Mean, Sum and None") {
  // x = 0: log 2 whatever y; x = ln 3, y = 1: -log σ(ln 3) = log(4/3); x = -ln 3, y = 0: -log(1 - 1/4) = log(4/3)
  VarD x = constant(mat<double>({{0, L3, -L3}}));
  const Mat<double> y = mat<double>({{0.3, 1, 0}});
  const double l43 = std::log(4.0 / 3.0);
  CHECK_MAT_NEAR(bce_with_logits(x, y, Reduction::None).value(), mat<double>({{L2, l43, l43}}), 1e-15);
  CHECK(bce_with_logits(x, y, Reduction::Sum).item() == doctest::Approx(L2 + 2 * l43).epsilon(1e-14));
  CHECK(bce_with_logits(x, y).item() == doctest::Approx((L2 + 2 * l43) / 3).epsilon(1e-14));
}

TEST_CASE("bce_with_logits: gradcheck for every reduction, used twice, errors") {
  std::uint64_t seed = 440;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    const Mat<double> y = randu(r, c, 0, 1, seed++), y2 = randu(r, c, 0, 1, seed++);
    for (Reduction red : kReductions)
      CHECK_GRADCHECK([&] { return bce_with_logits(x, y, red); }, (Inputs{{"x", x}}));
    CHECK_GRADCHECK([&] { return add(bce_with_logits(x, y), bce_with_logits(x, y2)); }, (Inputs{{"x", x}}));
  }
  VarD x = constant(zeros<double>(2, 3));
  CHECK_THROWS_WITH_AS(bce_with_logits(x, zeros<double>(3, 2)),
                       doctest::Contains("bce_with_logits: logits are [2, 3], targets are [3, 2]"), ShapeError);
  CHECK_THROWS_WITH_AS(bce_with_logits(x, full<double>(2, 3, 1.5)),
                       doctest::Contains("bce_with_logits: target 1.5 is outside [0, 1]"), ShapeError);
}

// ---- mse -------------------------------------------------------------------------------------------
TEST_CASE("mse: forward, gradcheck (target a Var and a constant), used twice, shape error") {
  VarD a = constant(mat<double>({{1, 2}})), b = constant(mat<double>({{3, 5}}));
  CHECK(mse(a, b).item() == 6.5);
  CHECK(mse(a, b, Reduction::Sum).item() == 13.0);
  CHECK_MAT_NEAR(mse(a, b, Reduction::None).value(), mat<double>({{4, 9}}), 0);
  std::uint64_t seed = 460;
  for (auto [r, c] : grad_shapes()) {
    VarD p = parameter(randn(r, c, seed++)), q = parameter(randn(r, c, seed++));
    VarD k = constant(randn(r, c, seed++));
    for (Reduction red : kReductions) {
      CHECK_GRADCHECK([&] { return mse(p, q, red); }, (Inputs{{"a", p}, {"b", q}}));
      CHECK_GRADCHECK([&] { return mse(p, k, red); }, (Inputs{{"a", p}}));
    }
  }
  VarD x = parameter(mat<double>({{1, 2, 3}}));
  mse(x, scale(x, 3.0)).backward();  // mean((-2x)²) = 4 mean(x²): d = 8x / 3
  CHECK_MAT_NEAR(x.grad(), mat<double>({{8.0 / 3, 16.0 / 3, 8}}), 1e-14);
  CHECK_THROWS_WITH_AS(mse(constant(zeros<double>(2, 3)), constant(zeros<double>(3, 2))),
                       doctest::Contains("mse: prediction is [2, 3], target is [3, 2]"), ShapeError);
}

// ---- extreme logits --------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("softmax/log_softmax/cross_entropy/bce: finite and correct at logits of ±1e4", T, float, double) {
  const T big = T(1e4);
  Var<T> x = parameter(mat<T>({{-big, T(0), big}, {big, big, -big}}));
  Mat<T> sm = softmax(x).value(), lsm = log_softmax(x).value();
  CHECK(all_finite(sm));
  CHECK(all_finite(lsm));
  CHECK_MAT_NEAR(sm, mat<T>({{0, 0, 1}, {0.5, 0.5, 0}}), 1e-6);
  const double tol_big = std::is_same_v<T, float> ? 4e-3 : 1e-10;  // float spacing at 2e4 is 2e-3
  CHECK_MAT_NEAR(lsm, mat<T>({{-2 * big, -big, 0}, {-T(L2), -T(L2), -2 * big - T(L2)}}), tol_big);

  // Row 0, target 0: loss 2e4 and gradient softmax - onehot = [-1, 0, 1]; row 1, target 0: log 2.
  Var<T> ce = cross_entropy(x, {0, 0}, -100, Reduction::Sum);
  CHECK(std::isfinite(ce.item()));
  CHECK(double(ce.item()) == doctest::Approx(2e4 + L2).epsilon(1e-6));
  ce.backward();
  CHECK(all_finite(x.grad()));
  CHECK_MAT_NEAR(x.grad(), mat<T>({{-1, 0, 1}, {-0.5, 0.5, 0}}), 1e-6);

  Var<T> z = parameter(mat<T>({{big, -big, big, -big}}));
  const Mat<T> y = mat<T>({{0, 1, 1, 0}});
  Var<T> bce = bce_with_logits(z, y, Reduction::None);
  CHECK(all_finite(bce.value()));
  CHECK_MAT_NEAR(bce.value(), mat<T>({{big, big, 0, 0}}), tol_big);
  sum(bce).backward();
  CHECK_MAT_NEAR(z.grad(), mat<T>({{1, -1, 0, 0}}), 1e-6);  // σ(x) - y

  Var<T> s = parameter(mat<T>({{-big, big}}));
  sum(mul(softmax(s), log_softmax(s))).backward();
  CHECK(all_finite(s.grad()));
}

}  // TEST_SUITE
