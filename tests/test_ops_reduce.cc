// tests/test_ops_reduce.cc — engine/ops_reduce.cc: sum, mean, sum_rows, sum_cols. Hand forward values,
// float64 gradchecks on [1, 1], [1, 5], [3, 4], the input used twice (the reduction squared) and the errors.
#include "tests/op_test_helpers.h"

using namespace unroll;
using namespace unroll::test;

namespace {
const Mat<double> X23 = mat<double>({{1, 2, 3}, {4, 5, 6}});

template <class F>
void gradcheck_shapes(F f, std::uint64_t seed) {
  for (auto [r, c] : grad_shapes()) {
    CAPTURE(r);
    CAPTURE(c);
    VarD x = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK([&] { return f(x); }, (Inputs{{"x", x}}));
    CHECK_GRADCHECK([&] { VarD s = f(x); return mul(s, s); }, (Inputs{{"x", x}}));  // used twice
  }
}
}  // namespace

TEST_SUITE("ops.reduce") {

TEST_CASE_TEMPLATE("sum/mean/sum_rows/sum_cols: forward by hand", T, float, double) {
  Var<T> x = constant(to_precision<T>(X23));
  CHECK(sum(x).item() == T(21));
  CHECK(mean(x).item() == T(3.5));
  CHECK_MAT_NEAR(sum_rows(x).value(), mat<T>({{5, 7, 9}}), 0);
  CHECK_MAT_NEAR(sum_cols(x).value(), mat<T>({{6}, {15}}), 0);
  CHECK(sum(constant(mat<T>({{-2}}))).item() == T(-2));
}

TEST_CASE("sum: gradcheck, used twice, undefined input") {
  gradcheck_shapes([](VarD x) { return sum(x); }, 300);
  VarD x = parameter(X23);
  VarD s = sum(x);
  mul(s, s).backward();  // d (Σx)² = 2 Σx = 42 everywhere
  CHECK_MAT_NEAR(x.grad(), full<double>(2, 3, 42.0), 0);
  CHECK_THROWS_WITH_AS(sum(VarD{}), doctest::Contains("sum: input is an undefined Var"), ShapeError);
}

TEST_CASE("mean: gradcheck, used twice, empty and undefined input") {
  gradcheck_shapes([](VarD x) { return mean(x); }, 310);
  VarD x = parameter(X23);
  VarD m = mean(x);
  mul(m, m).backward();  // d (mean x)² = 2 · 3.5 / 6
  CHECK_MAT_NEAR(x.grad(), full<double>(2, 3, 7.0 / 6.0), 1e-15);
  CHECK_THROWS_WITH_AS(mean(constant(zeros<double>(0, 3))), doctest::Contains("mean: input is empty ([0, 3])"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(mean(VarD{}), doctest::Contains("mean: input is an undefined Var"), ShapeError);
}

TEST_CASE("sum_rows: gradcheck, used twice, undefined input") {
  gradcheck_shapes([](VarD x) { return sum_rows(x); }, 320);
  VarD x = parameter(X23);
  VarD s = sum_rows(x);
  sum(mul(s, s)).backward();  // d Σ_j (Σ_i x_ij)² / dx_ij = 2 Σ_i x_ij
  CHECK_MAT_NEAR(x.grad(), mat<double>({{10, 14, 18}, {10, 14, 18}}), 0);
  CHECK_THROWS_WITH_AS(sum_rows(VarD{}), doctest::Contains("sum_rows: input is an undefined Var"), ShapeError);
}

TEST_CASE("sum_cols: gradcheck, used twice, undefined input") {
  gradcheck_shapes([](VarD x) { return sum_cols(x); }, 330);
  VarD x = parameter(X23);
  VarD s = sum_cols(x);
  sum(mul(s, s)).backward();  // d Σ_i (Σ_j x_ij)² / dx_ij = 2 Σ_j x_ij
  CHECK_MAT_NEAR(x.grad(), mat<double>({{12, 12, 12}, {30, 30, 30}}), 0);
  CHECK_THROWS_WITH_AS(sum_cols(VarD{}), doctest::Contains("sum_cols: input is an undefined Var"), ShapeError);
}

}  // TEST_SUITE
