// tests/test_ops_shape.cc — engine/ops_shape.cc: cols, rows, concat_cols, concat_rows, transpose, embedding.
// Hand forward values, float64 gradchecks on [1, 1], [1, 5], [3, 4], the input used twice (overlapping
// slices, concat of x with itself, a repeated embedding id) and every argument error.
#include "tests/op_test_helpers.h"

using namespace unroll;
using namespace unroll::test;

namespace {
const Mat<double> X23 = mat<double>({{1, 2, 3}, {4, 5, 6}});
}

TEST_SUITE("ops.shape") {

// ---- cols / rows -----------------------------------------------------------------------------------
TEST_CASE("cols: forward, gradcheck, overlapping slices of one input, range errors") {
  CHECK_MAT_NEAR(cols(constant(X23), 1, 3).value(), mat<double>({{2, 3}, {5, 6}}), 0);
  CHECK_MAT_NEAR(cols(constant(X23), 0, 1).value(), mat<double>({{1}, {4}}), 0);
  std::uint64_t seed = 200;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    const std::size_t lo = c > 1 ? 1 : 0, hi = c > 2 ? c - 1 : c;
    CHECK_GRADCHECK([&] { return cols(x, lo, hi); }, (Inputs{{"x", x}}));
  }
  VarD x = parameter(X23);  // columns [0, 2) and [1, 3) overlap in column 1
  sum(concat_cols<double>({cols(x, 0, 2), cols(x, 1, 3)})).backward();
  CHECK_MAT_NEAR(x.grad(), mat<double>({{1, 2, 1}, {1, 2, 1}}), 0);
  CHECK_THROWS_WITH_AS(cols(constant(X23), 2, 5), doctest::Contains("cols: range [2, 5) does not fit x of shape [2, 3]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(cols(constant(X23), 2, 2), doctest::Contains("cols: range [2, 2) does not fit x of shape [2, 3]"),
                       ShapeError);
}

TEST_CASE("rows: forward, gradcheck, overlapping slices of one input, range errors") {
  const Mat<double> X32 = mat<double>({{1, 2}, {3, 4}, {5, 6}});
  CHECK_MAT_NEAR(rows(constant(X32), 1, 3).value(), mat<double>({{3, 4}, {5, 6}}), 0);
  std::uint64_t seed = 210;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    const std::size_t lo = r > 1 ? 1 : 0;
    CHECK_GRADCHECK([&] { return rows(x, lo, r); }, (Inputs{{"x", x}}));
  }
  VarD x = parameter(X32);
  sum(concat_rows<double>({rows(x, 0, 2), rows(x, 1, 3)})).backward();
  CHECK_MAT_NEAR(x.grad(), mat<double>({{1, 1}, {2, 2}, {1, 1}}), 0);
  CHECK_THROWS_WITH_AS(rows(constant(X32), 1, 4), doctest::Contains("rows: range [1, 4) does not fit x of shape [3, 2]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(rows(constant(X32), 3, 1), doctest::Contains("rows: range [3, 1)"), ShapeError);
}

// ---- concat_cols / concat_rows ---------------------------------------------------------------------
TEST_CASE("concat_cols: forward, gradcheck, concat of x with itself, shape errors") {
  VarD a = constant(mat<double>({{1}, {2}})), b = constant(mat<double>({{3, 4}, {5, 6}}));
  CHECK_MAT_NEAR(concat_cols<double>({a, b}).value(), mat<double>({{1, 3, 4}, {2, 5, 6}}), 0);
  std::uint64_t seed = 220;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++)), y = parameter(randn(r, 2, seed++));
    CHECK_GRADCHECK([&] { return concat_cols<double>({x, y, x}); }, (Inputs{{"x", x}, {"y", y}}));
  }
  VarD x = parameter(X23);
  Mat<double> seed_dy = mat<double>({{1, 2, 3, 10, 20, 30}, {4, 5, 6, 40, 50, 60}});
  concat_cols<double>({x, x}).backward(seed_dy);  // both halves of dy reach x
  CHECK_MAT_NEAR(x.grad(), mat<double>({{11, 22, 33}, {44, 55, 66}}), 0);
  // a constant among the inputs takes no gradient and does not disturb the others' offsets
  VarD c = constant(zeros<double>(2, 1));
  VarD z = parameter(X23);
  concat_cols<double>({c, z}).backward(mat<double>({{9, 1, 2, 3}, {9, 4, 5, 6}}));
  CHECK_MAT_NEAR(z.grad(), X23, 0);
  CHECK_THROWS_WITH_AS(concat_cols<double>({constant(zeros<double>(2, 3)), constant(zeros<double>(3, 2))}),
                       doctest::Contains("concat_cols: input 1 is [3, 2], input 0 is [2, 3]"), ShapeError);
  CHECK_THROWS_WITH_AS(concat_cols<double>({}), doctest::Contains("concat_cols: no inputs"), ShapeError);
}

TEST_CASE("concat_rows: forward, gradcheck, concat of x with itself, shape errors") {
  VarD a = constant(mat<double>({{1, 2}})), b = constant(mat<double>({{3, 4}, {5, 6}}));
  CHECK_MAT_NEAR(concat_rows<double>({a, b}).value(), mat<double>({{1, 2}, {3, 4}, {5, 6}}), 0);
  std::uint64_t seed = 230;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++)), y = parameter(randn(2, c, seed++));
    CHECK_GRADCHECK([&] { return concat_rows<double>({x, y, x}); }, (Inputs{{"x", x}, {"y", y}}));
  }
  VarD x = parameter(mat<double>({{1, 2}}));
  concat_rows<double>({x, x}).backward(mat<double>({{1, 2}, {10, 20}}));
  CHECK_MAT_NEAR(x.grad(), mat<double>({{11, 22}}), 0);
  CHECK_THROWS_WITH_AS(concat_rows<double>({constant(zeros<double>(2, 3)), constant(zeros<double>(3, 2))}),
                       doctest::Contains("concat_rows: input 1 is [3, 2], input 0 is [2, 3]"), ShapeError);
  CHECK_THROWS_WITH_AS(concat_rows<double>({}), doctest::Contains("concat_rows: no inputs"), ShapeError);
}

// ---- transpose -------------------------------------------------------------------------------------
TEST_CASE("transpose: forward, gradcheck, x + xᵀ, undefined input") {
  CHECK_MAT_NEAR(transpose(constant(X23)).value(), mat<double>({{1, 4}, {2, 5}, {3, 6}}), 0);
  std::uint64_t seed = 240;
  for (auto [r, c] : grad_shapes()) {
    VarD x = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK([&] { return transpose(x); }, (Inputs{{"x", x}}));
  }
  VarD x = parameter(mat<double>({{1, 2}, {3, 4}}));
  add(x, transpose(x)).backward(mat<double>({{1, 2}, {3, 4}}));  // dx = dy + dyᵀ
  CHECK_MAT_NEAR(x.grad(), mat<double>({{2, 5}, {5, 8}}), 0);
  CHECK_THROWS_WITH_AS(transpose(VarD{}), doctest::Contains("transpose: input is an undefined Var"), ShapeError);
}

// ---- embedding -------------------------------------------------------------------------------------
TEST_CASE("embedding: forward, gradcheck, a repeated id gets both contributions, id errors") {
  VarD W = constant(mat<double>({{1, 2}, {3, 4}, {5, 6}}));
  CHECK_MAT_NEAR(embedding(W, {2, 0, 2}).value(), mat<double>({{5, 6}, {1, 2}, {5, 6}}), 0);
  // table shapes [1, 1], [1, 5], [3, 4]; batch of one id, then several with a repeat
  std::uint64_t seed = 250;
  for (auto [r, c] : grad_shapes()) {
    VarD t = parameter(randn(r, c, seed++));
    CHECK_GRADCHECK([&] { return embedding(t, {std::int64_t(r - 1)}); }, (Inputs{{"W", t}}));
    CHECK_GRADCHECK([&] { return embedding(t, {0, std::int64_t(r - 1), 0}); }, (Inputs{{"W", t}}));
  }
  VarD t = parameter(mat<double>({{1, 2}, {3, 4}, {5, 6}}));
  embedding(t, {1, 1, 0}).backward(mat<double>({{1, 2}, {10, 20}, {100, 200}}));
  CHECK_MAT_NEAR(t.grad(), mat<double>({{100, 200}, {11, 22}, {0, 0}}), 0);
  CHECK_THROWS_WITH_AS(embedding(W, {0, 3}),
                       doctest::Contains("embedding: id 3 at position 1 is out of range [0, 3) (table is [3, 2])"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(embedding(W, {-1}), doctest::Contains("embedding: id -1 at position 0 is out of range"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(embedding(W, {}), doctest::Contains("embedding: no ids (table is [3, 2])"), ShapeError);
}

}  // TEST_SUITE
