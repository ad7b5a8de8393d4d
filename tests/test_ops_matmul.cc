// tests/test_ops_matmul.cc — engine/ops_matmul.cc: matmul, matmul_nt, add_bias, linear. Hand forward values,
// float64 gradchecks on (B, K, N) = (1, 1, 1), (1, 5, 3), (3, 4, 2), the input used twice (x·x, x·xᵀ,
// add_bias(x, x)) and shape errors naming the op and both shapes.
#include "tests/op_test_helpers.h"

using namespace unroll;
using namespace unroll::test;

namespace {
struct Bkn {
  std::size_t B, K, N;
};
const std::vector<Bkn> kShapes = {{1, 1, 1}, {1, 5, 3}, {3, 4, 2}};
const Mat<double> A = mat<double>({{1, 2}, {3, 4}});
const Mat<double> W = mat<double>({{5, 6}, {7, 8}});
}  // namespace

TEST_SUITE("ops.matmul") {

TEST_CASE_TEMPLATE("matmul: forward by hand", T, float, double) {
  Var<T> y = matmul(constant(to_precision<T>(A)), constant(to_precision<T>(W)));
  CHECK_MAT_NEAR(y.value(), to_precision<T>(mat<double>({{19, 22}, {43, 50}})), 0);
  // [1, 3] · [3, 1]: a dot product
  Var<T> d = matmul(constant(mat<T>({{1, 2, 3}})), constant(mat<T>({{4}, {5}, {6}})));
  CHECK(d.item() == T(32));
}

TEST_CASE("matmul: gradcheck on three shapes") {
  std::uint64_t seed = 100;
  for (auto s : kShapes) {
    CAPTURE(s.B);
    CAPTURE(s.K);
    CAPTURE(s.N);
    VarD a = parameter(randn(s.B, s.K, seed++)), w = parameter(randn(s.K, s.N, seed++));
    CHECK_GRADCHECK([&] { return matmul(a, w); }, (Inputs{{"a", a}, {"w", w}}));
  }
}

TEST_CASE("matmul: the input used twice (x · x, square)") {
  VarD x = parameter(randn(3, 3, 110));
  CHECK_GRADCHECK([&] { return matmul(x, x); }, (Inputs{{"x", x}}));
  // d Σ (x·x) / dx = 1 · xᵀ + xᵀ · 1   (1 = all-ones): both factors' contributions
  VarD y = parameter(A);
  sum(matmul(y, y)).backward();
  // 1 · yᵀ = [[3, 7], [3, 7]], yᵀ · 1 = [[4, 4], [6, 6]]
  CHECK_MAT_NEAR(y.grad(), mat<double>({{7, 11}, {9, 13}}), 0);
}

TEST_CASE("matmul: shape error names both shapes") {
  CHECK_THROWS_WITH_AS(matmul(constant(zeros<double>(2, 3)), constant(zeros<double>(4, 5))),
                       doctest::Contains("matmul: inner dims differ: a is [2, 3], w is [4, 5]"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(constant(zeros<double>(1, 1)), constant(zeros<double>(2, 1))),
                       doctest::Contains("matmul: inner dims differ: a is [1, 1], w is [2, 1]"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(VarD{}, constant(zeros<double>(2, 1))), doctest::Contains("matmul: "), ShapeError);
}

// ---- matmul_nt -------------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("matmul_nt: forward by hand (a · wᵀ)", T, float, double) {
  Var<T> y = matmul_nt(constant(to_precision<T>(A)), constant(to_precision<T>(W)));
  CHECK_MAT_NEAR(y.value(), to_precision<T>(mat<double>({{17, 23}, {39, 53}})), 0);
}

TEST_CASE("matmul_nt: gradcheck on three shapes, used twice (x · xᵀ), shape error") {
  std::uint64_t seed = 120;
  for (auto s : kShapes) {
    VarD a = parameter(randn(s.B, s.K, seed++)), w = parameter(randn(s.N, s.K, seed++));
    CHECK_GRADCHECK([&] { return matmul_nt(a, w); }, (Inputs{{"a", a}, {"w", w}}));
  }
  VarD x = parameter(randn(3, 2, 130));
  CHECK_GRADCHECK([&] { return matmul_nt(x, x); }, (Inputs{{"x", x}}));
  VarD y = parameter(A);  // d Σ (y·yᵀ) / dy = (1 + 1ᵀ) · y = 2 · 1 · y
  sum(matmul_nt(y, y)).backward();
  CHECK_MAT_NEAR(y.grad(), mat<double>({{8, 12}, {8, 12}}), 0);
  CHECK_THROWS_WITH_AS(matmul_nt(constant(zeros<double>(2, 3)), constant(zeros<double>(3, 2))),
                       doctest::Contains("matmul_nt: inner dims differ: a is [2, 3], w is [3, 2]"), ShapeError);
}

// ---- add_bias --------------------------------------------------------------------------------------
TEST_CASE("add_bias: forward by hand, gradcheck, used twice, shape errors") {
  CHECK_MAT_NEAR(add_bias(constant(A), constant(mat<double>({{10, 20}}))).value(),
                 mat<double>({{11, 22}, {13, 24}}), 0);
  std::uint64_t seed = 140;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++)), b = parameter(randn(1, c, seed++));
    CHECK_GRADCHECK([&] { return add_bias(x, b); }, (Inputs{{"x", x}, {"b", b}}));
  }
  VarD v = parameter(mat<double>({{1, 2, 3}}));  // [1, N] is both a batch of one and a bias
  sum(add_bias(v, v)).backward();
  CHECK_MAT_NEAR(v.grad(), full<double>(1, 3, 2.0), 0);
  VarD x = parameter(randn(4, 3, 150));  // db sums the 4 rows
  VarD b = parameter(zeros<double>(1, 3));
  sum(add_bias(x, b)).backward();
  CHECK_MAT_NEAR(b.grad(), full<double>(1, 3, 4.0), 0);
  CHECK_THROWS_WITH_AS(add_bias(constant(zeros<double>(2, 3)), constant(zeros<double>(1, 4))),
                       doctest::Contains("add_bias: x is [2, 3], b is [1, 4]"), ShapeError);
  CHECK_THROWS_WITH_AS(add_bias(constant(zeros<double>(2, 3)), constant(zeros<double>(2, 3))),
                       doctest::Contains("add_bias: x is [2, 3], b is [2, 3]"), ShapeError);
}

TEST_CASE("matmul/matmul_nt/add_bias/linear: a constant operand gets no gradient, the other one the right gradient") {
  VarD x = parameter(randn(3, 4, 180)), xc = constant(randn(3, 4, 181));
  VarD w = parameter(randn(4, 2, 182)), wc = constant(randn(4, 2, 183));
  VarD v = parameter(randn(2, 4, 184)), vc = constant(randn(2, 4, 185));
  VarD b = parameter(randn(1, 2, 186)), bc = constant(randn(1, 2, 187));
  CHECK_GRADCHECK([&] { return matmul(x, wc); }, (Inputs{{"a", x}}));
  CHECK_GRADCHECK([&] { return matmul(xc, w); }, (Inputs{{"w", w}}));
  CHECK_GRADCHECK([&] { return matmul_nt(x, vc); }, (Inputs{{"a", x}}));
  CHECK_GRADCHECK([&] { return matmul_nt(xc, v); }, (Inputs{{"w", v}}));
  CHECK_GRADCHECK([&] { return add_bias(matmul(xc, wc), b); }, (Inputs{{"b", b}}));
  CHECK_GRADCHECK([&] { return add_bias(matmul(x, wc), bc); }, (Inputs{{"x", x}}));
  CHECK_GRADCHECK([&] { return linear(xc, v, bc); }, (Inputs{{"W", v}}));
  CHECK_GRADCHECK([&] { return linear(x, vc, bc); }, (Inputs{{"x", x}}));
  sum(linear(x, vc, bc)).backward();
  CHECK(vc.grad().size() == 0);
  CHECK(bc.grad().size() == 0);
}

// ---- linear ----------------------------------------------------------------------------------------
TEST_CASE("linear: forward by hand, gradcheck with and without bias, used twice, shape errors") {
  CHECK_MAT_NEAR(linear(constant(A), constant(W), constant(mat<double>({{1, -1}}))).value(),
                 mat<double>({{18, 22}, {40, 52}}), 0);
  CHECK_MAT_NEAR(linear(constant(A), constant(W), VarD{}).value(), mat<double>({{17, 23}, {39, 53}}), 0);
  std::uint64_t seed = 160;
  for (auto s : kShapes) {
    VarD x = parameter(randn(s.B, s.K, seed++)), w = parameter(randn(s.N, s.K, seed++)),
         b = parameter(randn(1, s.N, seed++));
    CHECK_GRADCHECK([&] { return linear(x, w, b); }, (Inputs{{"x", x}, {"W", w}, {"b", b}}));
    CHECK_GRADCHECK([&] { return linear(x, w, VarD{}); }, (Inputs{{"x", x}, {"W", w}}));
  }
  VarD x = parameter(randn(2, 3, 170)), b = parameter(randn(1, 2, 171));
  CHECK_GRADCHECK([&] { return linear(x, x, b); }, (Inputs{{"x", x}, {"b", b}}));
  CHECK_THROWS_WITH_AS(linear(constant(zeros<double>(2, 3)), constant(zeros<double>(4, 5)), VarD{}),
                       doctest::Contains("linear: x is [2, 3], weight is [4, 5]"), ShapeError);
  CHECK_THROWS_WITH_AS(linear(constant(zeros<double>(2, 3)), constant(zeros<double>(4, 3)),
                              constant(zeros<double>(1, 3))),
                       doctest::Contains("linear: weight is [4, 3], bias is [1, 3]"), ShapeError);
}

}  // TEST_SUITE
