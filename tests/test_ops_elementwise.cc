// tests/test_ops_elementwise.cc — engine/ops_elementwise.cc: for every op a hand-computed forward value,
// a float64 gradcheck on [1, 1], [1, 5] and [3, 4], the input used twice (catches an assigning backward)
// and each argument error; saturating activations at ±1e4; dropout's seeding, identity cases and scaling.
#include "tests/op_test_helpers.h"

#include <cmath>

using namespace unroll;
using namespace unroll::test;

namespace {

// gradcheck of f(x) on every grad shape, x drawn from [lo, hi).
template <class F>
void gradcheck_unary(F f, double lo = -2, double hi = 2) {
  std::uint64_t seed = 1;
  for (auto [r, c] : grad_shapes()) {
    CAPTURE(r);
    CAPTURE(c);
    VarD x = parameter(randu(r, c, lo, hi, seed++));
    CHECK_GRADCHECK([&] { return f(x); }, (Inputs{{"x", x}}));
  }
}
// gradcheck of f(a, b) on every grad shape; b from [b_lo, b_hi).
template <class F>
void gradcheck_binary(F f, double b_lo = -2, double b_hi = 2) {
  std::uint64_t seed = 11;
  for (auto [r, c] : grad_shapes()) {
    CAPTURE(r);
    CAPTURE(c);
    VarD a = parameter(randn(r, c, seed++));
    VarD b = parameter(randu(r, c, b_lo, b_hi, seed++));
    CHECK_GRADCHECK([&] { return f(a, b); }, (Inputs{{"a", a}, {"b", b}}));
  }
}
// d sum(f(x, x)) / dx at x, by the tape.
template <class F>
Mat<double> grad_used_twice(F f, const Mat<double>& x0) {
  VarD x = parameter(x0);
  sum(f(x, x)).backward();
  return x.grad();
}
// The shape error every same-shape binary op raises, naming the op and both shapes.
template <class F>
void check_binary_shape_error(F f, const char* op) {
  VarD a = parameter(zeros<double>(2, 3)), b = parameter(zeros<double>(3, 2));
  std::string msg = std::string(op) + ": shapes differ: a is [2, 3], b is [3, 2]";
  CHECK_THROWS_WITH_AS(f(a, b), doctest::Contains(msg.c_str()), ShapeError);
  CHECK_THROWS_WITH_AS(f(b, a), doctest::Contains("a is [3, 2], b is [2, 3]"), ShapeError);
  CHECK_THROWS_WITH_AS(f(a, VarD{}), doctest::Contains(op), ShapeError);
}
template <class F>
void check_unary_undefined(F f, const char* op) {
  std::string msg = std::string(op) + ": input is an undefined Var";
  CHECK_THROWS_WITH_AS(f(VarD{}), doctest::Contains(msg.c_str()), ShapeError);
}

const Mat<double> A = mat<double>({{1, 2}, {3, 4}});
const Mat<double> B = mat<double>({{2, 4}, {5, 8}});

}  // namespace

TEST_SUITE("ops.elementwise") {

// ---- add, sub, mul, div ----------------------------------------------------------------------------
TEST_CASE("add: forward, gradcheck, used twice, shape errors") {
  CHECK_MAT_NEAR(add(constant(A), constant(B)).value(), mat<double>({{3, 6}, {8, 12}}), 0);
  CHECK_MAT_NEAR((constant(A) + constant(B)).value(), mat<double>({{3, 6}, {8, 12}}), 0);
  gradcheck_binary([](VarD a, VarD b) { return add(a, b); });
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return add(a, b); }, A), full<double>(2, 2, 2.0), 0);
  check_binary_shape_error([](VarD a, VarD b) { return add(a, b); }, "add");
}

TEST_CASE("sub: forward, gradcheck, used twice, shape errors") {
  CHECK_MAT_NEAR(sub(constant(A), constant(B)).value(), mat<double>({{-1, -2}, {-2, -4}}), 0);
  gradcheck_binary([](VarD a, VarD b) { return sub(a, b); });
  // x - x = 0 has gradient 0; a backward that assigned would leave -1 (the second write wins).
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return sub(a, b); }, A), zeros<double>(2, 2), 0);
  // sub(x, y) with y = 3x: gradient 1 - 3 = -2 checks both signs.
  VarD x = parameter(A);
  sum(sub(x, scale(x, 3.0))).backward();
  CHECK_MAT_NEAR(x.grad(), full<double>(2, 2, -2.0), 0);
  check_binary_shape_error([](VarD a, VarD b) { return sub(a, b); }, "sub");
}

TEST_CASE("mul: forward, gradcheck, used twice, shape errors") {
  CHECK_MAT_NEAR(mul(constant(A), constant(B)).value(), mat<double>({{2, 8}, {15, 32}}), 0);
  gradcheck_binary([](VarD a, VarD b) { return mul(a, b); });
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(a, b); }, A), 2.0 * A, 0);  // d x² = 2x
  VarD x = parameter(randn(3, 4, 5));
  CHECK_GRADCHECK([&] { return mul(x, x); }, (Inputs{{"x", x}}));
  check_binary_shape_error([](VarD a, VarD b) { return mul(a, b); }, "mul");
}

TEST_CASE("div: forward, gradcheck, used twice, shape errors") {
  CHECK_MAT_NEAR(div(constant(A), constant(B)).value(), mat<double>({{0.5, 0.5}, {0.6, 0.5}}), 1e-15);
  gradcheck_binary([](VarD a, VarD b) { return div(a, b); }, 0.5, 2.0);
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return div(a, b); }, A), zeros<double>(2, 2), 1e-15);
  // x / (x ⊙ x) = 1/x: gradient -1/x², exercising the b-side with a reused input.
  VarD x = parameter(randu(3, 4, 0.5, 2.0, 6));
  CHECK_GRADCHECK([&] { return div(x, mul(x, x)); }, (Inputs{{"x", x}}));
  check_binary_shape_error([](VarD a, VarD b) { return div(a, b); }, "div");
}

TEST_CASE("add/sub/mul/div: a constant operand gets no gradient, the other one the right gradient") {
  auto check = [](auto f, const char* op) {
    CAPTURE(op);
    VarD p = parameter(randu(3, 4, 0.5, 2.0, 30)), c = constant(randu(3, 4, 0.5, 2.0, 31));
    CHECK_GRADCHECK([&] { return f(p, c); }, (Inputs{{"a", p}}));
    CHECK_GRADCHECK([&] { return f(c, p); }, (Inputs{{"b", p}}));
    sum(f(p, c)).backward();
    CHECK(c.grad().size() == 0);
  };
  check([](VarD a, VarD b) { return add(a, b); }, "add");
  check([](VarD a, VarD b) { return sub(a, b); }, "sub");
  check([](VarD a, VarD b) { return mul(a, b); }, "mul");
  check([](VarD a, VarD b) { return div(a, b); }, "div");
}

// ---- neg, scale, add_scalar ------------------------------------------------------------------------
TEST_CASE("neg: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(neg(constant(A)).value(), mat<double>({{-1, -2}, {-3, -4}}), 0);
  CHECK_MAT_NEAR((-constant(A)).value(), mat<double>({{-1, -2}, {-3, -4}}), 0);
  gradcheck_unary([](VarD x) { return neg(x); });
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return add(neg(a), neg(b)); }, A), full<double>(2, 2, -2.0), 0);
  check_unary_undefined([](VarD x) { return neg(x); }, "neg");
}

TEST_CASE("scale: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(scale(constant(A), 2.5).value(), mat<double>({{2.5, 5}, {7.5, 10}}), 0);
  CHECK_MAT_NEAR((2.5 * constant(A)).value(), mat<double>({{2.5, 5}, {7.5, 10}}), 0);
  gradcheck_unary([](VarD x) { return scale(x, -1.5); });
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(scale(a, 2.0), b); }, A), 4.0 * A, 1e-15);
  check_unary_undefined([](VarD x) { return scale(x, 2.0); }, "scale");
}

TEST_CASE("add_scalar: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(add_scalar(constant(A), -0.5).value(), mat<double>({{0.5, 1.5}, {2.5, 3.5}}), 0);
  gradcheck_unary([](VarD x) { return add_scalar(x, 3.0); });
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(add_scalar(a, 1.0), b); }, A), 2.0 * A + 1.0, 1e-15);
  check_unary_undefined([](VarD x) { return add_scalar(x, 1.0); }, "add_scalar");
}

// ---- activations -----------------------------------------------------------------------------------
TEST_CASE("tanh: forward, gradcheck, used twice, undefined input") {
  const double l2 = std::log(2.0);  // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6
  CHECK_MAT_NEAR(tanh(constant(mat<double>({{0, l2, -l2}}))).value(), mat<double>({{0, 0.6, -0.6}}), 1e-15);
  gradcheck_unary([](VarD x) { return tanh(x); });
  // d tanh(x)² = 2 tanh(x) (1 - tanh²(x)); at ln 2: 2 · 0.6 · 0.64 = 0.768
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(tanh(a), tanh(b)); }, mat<double>({{l2}})),
                 mat<double>({{0.768}}), 1e-14);
  VarD x = parameter(randn(3, 4, 8));
  CHECK_GRADCHECK([&] { return mul(tanh(x), x); }, (Inputs{{"x", x}}));
  check_unary_undefined([](VarD x) { return tanh(x); }, "tanh");
}

TEST_CASE("sigmoid: forward, gradcheck, used twice, undefined input") {
  const double l3 = std::log(3.0);  // σ(ln 3) = 3/4, σ(-ln 3) = 1/4
  CHECK_MAT_NEAR(sigmoid(constant(mat<double>({{0, l3, -l3}}))).value(), mat<double>({{0.5, 0.75, 0.25}}), 1e-15);
  gradcheck_unary([](VarD x) { return sigmoid(x); }, -4, 4);
  // d σ(x)² = 2 σ (σ (1 - σ)); at ln 3: 2 · 0.75 · 0.1875 = 0.28125
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(sigmoid(a), sigmoid(b)); }, mat<double>({{l3}})),
                 mat<double>({{0.28125}}), 1e-14);
  check_unary_undefined([](VarD x) { return sigmoid(x); }, "sigmoid");
}

TEST_CASE("relu: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(relu(constant(mat<double>({{-1, 0}, {2, -3}}))).value(), mat<double>({{0, 0}, {2, 0}}), 0);
  gradcheck_unary([](VarD x) { return relu(x); });  // random entries are never within eps of the kink
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return add(relu(a), relu(b)); }, mat<double>({{-1, 0, 2}})),
                 mat<double>({{0, 0, 2}}), 0);  // subgradient 0 at 0, as in PyTorch
  check_unary_undefined([](VarD x) { return relu(x); }, "relu");
}

TEST_CASE("exp: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(exp(constant(mat<double>({{0, std::log(2.0)}}))).value(), mat<double>({{1, 2}}), 1e-15);
  gradcheck_unary([](VarD x) { return exp(x); });
  // d e^x e^x = 2 e^{2x}; at ln 2: 8
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return mul(exp(a), exp(b)); }, mat<double>({{std::log(2.0)}})),
                 mat<double>({{8}}), 1e-14);
  check_unary_undefined([](VarD x) { return exp(x); }, "exp");
}

TEST_CASE("log: forward, gradcheck, used twice, undefined input") {
  CHECK_MAT_NEAR(log(constant(mat<double>({{1, std::exp(1.0), 0.25}}))).value(),
                 mat<double>({{0, 1, -2 * std::log(2.0)}}), 1e-15);
  gradcheck_unary([](VarD x) { return log(x); }, 0.5, 2.0);
  // d log(x) + log(x) = 2/x
  CHECK_MAT_NEAR(grad_used_twice([](VarD a, VarD b) { return add(log(a), log(b)); }, mat<double>({{0.5, 4}})),
                 mat<double>({{4, 0.5}}), 1e-15);
  check_unary_undefined([](VarD x) { return log(x); }, "log");
}

TEST_CASE_TEMPLATE("sigmoid/tanh: finite and saturated at logits of ±1e4", T, float, double) {
  Var<T> x = parameter(mat<T>({{T(-1e4), T(-50), T(0), T(50), T(1e4)}}));
  Var<T> s = sigmoid(x), t = tanh(x);
  CHECK(all_finite(s.value()));
  CHECK(all_finite(t.value()));
  CHECK(s.value()(0, 0) == T(0));
  CHECK(s.value()(0, 2) == T(0.5));
  CHECK(s.value()(0, 4) == T(1));
  CHECK(t.value()(0, 0) == T(-1));
  CHECK(t.value()(0, 4) == T(1));
  sum(add(s, t)).backward();
  CHECK(all_finite(x.grad()));
  CHECK(x.grad()(0, 0) == T(0));
  CHECK(x.grad()(0, 2) == doctest::Approx(1.25));  // σ'(0) + tanh'(0) = 1/4 + 1
  CHECK(x.grad()(0, 4) == T(0));
}

// ---- mask ------------------------------------------------------------------------------------------
TEST_CASE("mask: forward, gradcheck, used twice, shape error") {
  const Mat<double> m = mat<double>({{1, 0}, {0, 2}});
  CHECK_MAT_NEAR(mask(constant(A), m).value(), mat<double>({{1, 0}, {0, 8}}), 0);
  std::uint64_t seed = 40;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    Mat<double> mm = randu(r, c, 0, 1, seed++);
    CHECK_GRADCHECK([&] { return mask(x, mm); }, (Inputs{{"x", x}}));
  }
  CHECK_MAT_NEAR(grad_used_twice([&](VarD a, VarD b) { return add(mask(a, m), mask(b, m)); }, A), 2.0 * m, 0);
  CHECK_THROWS_WITH_AS(mask(constant(zeros<double>(2, 3)), zeros<double>(3, 2)),
                       doctest::Contains("mask: x is [2, 3], mask is [3, 2]"), ShapeError);
  check_unary_undefined([&](VarD x) { return mask(x, m); }, "mask");
}

// ---- dropout ---------------------------------------------------------------------------------------
TEST_CASE("dropout: the same seed gives the same mask, another seed another") {
  VarD x = constant(randn(8, 16, 3));
  Rng r1(99), r2(99), r3(100);
  Mat<double> y1 = dropout(x, 0.5, r1).value(), y2 = dropout(x, 0.5, r2).value(), y3 = dropout(x, 0.5, r3).value();
  CHECK(y1 == y2);
  CHECK_FALSE(y1 == y3);
  CHECK_FALSE(dropout(x, 0.5, r1).value() == y1);  // the stream moves on: the next call draws a new mask
}

TEST_CASE("dropout: p = 0 and eval mode are the identity and draw nothing") {
  VarD x = parameter(randn(3, 4, 4));
  Rng rng(1), fresh(1);
  CHECK(dropout(x, 0.0, rng).value() == x.value());
  CHECK(dropout(x, 0.7, rng, /*train=*/false).value() == x.value());
  CHECK(rng.next() == fresh.next());  // no random numbers were consumed
  VarD y = dropout(x, 0.7, rng, false);
  sum(y).backward();
  CHECK_MAT_NEAR(x.grad(), full<double>(3, 4, 1.0), 0);
}

TEST_CASE_TEMPLATE("dropout: kept entries are scaled by 1/(1-p), about p are dropped", T, float, double) {
  const double p = 0.3;
  Var<T> x = parameter(full<T>(100, 100, T(2)));
  Rng rng(5);
  Var<T> y = dropout(x, p, rng);
  std::size_t zeros_n = 0;
  const T kept = T(2) * T(1.0 / (1.0 - p));
  bool scaled = true;
  for (T v : y.value()) {
    if (v == T(0)) ++zeros_n;
    else scaled = scaled && v == kept;
  }
  CHECK(scaled);
  CHECK(double(zeros_n) / 1e4 == doctest::Approx(p).epsilon(0.1));  // 3000 ± 300 of 10,000
  sum(y).backward();  // the gradient is the mask: 0 where dropped, 1/(1-p) where kept
  for (std::size_t i = 0; i < y.value().size(); ++i)
    REQUIRE(x.grad().data()[i] == (y.value().data()[i] == T(0) ? T(0) : T(1.0 / (1.0 - p))));
}

TEST_CASE("dropout: gradcheck with the Rng re-seeded inside f, used twice, bad p") {
  std::uint64_t seed = 60;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK(([&] { Rng rng(17); return dropout(x, 0.4, rng); }), (Inputs{{"x", x}}));
  }
  VarD x = parameter(randn(3, 4, 70));
  // Two independent masks on the same input: both contributions reach x.
  CHECK_GRADCHECK(([&] {
                    Rng rng(18);
                    VarD a = dropout(x, 0.5, rng);
                    return mul(a, dropout(x, 0.5, rng));
                  }),
                  (Inputs{{"x", x}}));
  Rng rng(1);
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, rng), doctest::Contains("dropout: p must be in [0, 1), got 1"), ShapeError);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, rng), doctest::Contains("dropout: p must be in [0, 1)"), ShapeError);
  CHECK_THROWS_WITH_AS(dropout(VarD{}, 0.1, rng), doctest::Contains("dropout: input is an undefined Var"), ShapeError);
}

}  // TEST_SUITE
