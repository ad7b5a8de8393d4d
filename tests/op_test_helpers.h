// tests/op_test_helpers.h — small helpers shared by the op test files: seeded random leaves, the three
// gradcheck shapes every op is checked on (1×1, batch 1, a real batch), and matrix comparison.
#pragma once

#include "engine/gradcheck.h"
#include "engine/ops.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace unroll::test {

using VarD = Var<double>;
using VarF = Var<float>;
using Inputs = std::vector<std::pair<std::string, VarD>>;

// The shapes every op is gradient-checked on: 1×1, batch 1, and a batch of 3.
inline const std::vector<std::pair<std::size_t, std::size_t>>& grad_shapes() {
  static const std::vector<std::pair<std::size_t, std::size_t>> s = {{1, 1}, {1, 5}, {3, 4}};
  return s;
}

template <class T = double>
Mat<T> randn(std::size_t r, std::size_t c, std::uint64_t seed) {
  Rng rng(seed);
  return rng.normal_mat<T>(r, c);
}
template <class T = double>
Mat<T> randu(std::size_t r, std::size_t c, double lo, double hi, std::uint64_t seed) {
  Rng rng(seed);
  return rng.uniform_mat<T>(r, c, lo, hi);
}

// Largest |a - b| over all entries (either may be an xtensor expression; -1 if the shapes differ).
template <class EA, class EB>
double max_abs_diff(const EA& a_expr, const EB& b_expr) {
  const auto a = xt::eval(a_expr);
  const auto b = xt::eval(b_expr);
  if (a.dimension() != b.dimension() || !std::equal(a.shape().begin(), a.shape().end(), b.shape().begin())) return -1;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(double(a.data()[i]) - double(b.data()[i]));
    if (std::isnan(d)) return d;
    m = std::max(m, d);
  }
  return m;
}
template <class T>
bool all_finite(const Mat<T>& m) {
  for (T v : m)
    if (!std::isfinite(v)) return false;
  return true;
}

// Checks a and b agree entry by entry within tol and prints both on failure.
#define CHECK_MAT_NEAR(a, b, tol)                                                                      \
  do {                                                                                                 \
    const double unroll_test_d = ::unroll::test::max_abs_diff((a), (b));                               \
    CHECK_MESSAGE((unroll_test_d >= 0 && unroll_test_d <= (tol)), "max |diff| = ", unroll_test_d,      \
                  "\n got      ", (a), "\n expected ", (b));                                           \
  } while (0)

// A gradcheck that must pass, with the report on failure.
#define CHECK_GRADCHECK(f, inputs)                                 \
  do {                                                             \
    ::unroll::GradCheckResult unroll_test_r = ::unroll::gradcheck((f), (inputs)); \
    CHECK_MESSAGE(unroll_test_r.ok, unroll_test_r.report);         \
  } while (0)

}  // namespace unroll::test
