// engine/tensor.h — the value type of the engine and every xtensor include in one place.
// Every value is a rank-2 xt::xtensor<T, 2> (fixed rank: shapes live on the stack, no xarray in hot paths).
// T is float for training and double for gradient checks; the library is instantiated for both.
// Shape legend used in comments throughout: B batch, T time, E embedding, H hidden, V vocab, K classes/tags.
#pragma once

#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace unroll {

template <class T>
using Mat = xt::xtensor<T, 2>;

// "[2, 3]" — used in every error message that mentions a shape.
template <class T>
std::string shape_str(const Mat<T>& m) {
  return "[" + std::to_string(m.shape(0)) + ", " + std::to_string(m.shape(1)) + "]";
}
inline std::string shape_str(std::size_t r, std::size_t c) {
  return "[" + std::to_string(r) + ", " + std::to_string(c) + "]";
}

template <class T>
Mat<T> full(std::size_t rows, std::size_t cols, T value) {
  Mat<T> m = Mat<T>::from_shape({rows, cols});  // no expression machinery: one allocation, one fill
  std::fill_n(m.data(), rows * cols, value);
  return m;
}

template <class T>
Mat<T> zeros(std::size_t rows, std::size_t cols) {
  return full<T>(rows, cols, T(0));
}

// Row-major literal for tests and small examples: mat<float>({{1, 2}, {3, 4}}).
template <class T>
Mat<T> mat(std::initializer_list<std::initializer_list<T>> rows) {
  std::size_t r = rows.size(), c = r ? rows.begin()->size() : 0;
  Mat<T> m = xt::zeros<T>({r, c});
  std::size_t i = 0;
  for (const auto& row : rows) {
    std::size_t j = 0;
    for (T v : row) m(i, j++) = v;
    ++i;
  }
  return m;
}

// float <-> double copies (weights move between the training and the checking precision). Always an
// evaluated Mat<To>. (Named to_precision, not cast: on a non-const Mat, `to_precision<T>(m)` found xt::cast by
// argument-dependent lookup, a lazy expression that silently outlived its operand.)
template <class To, class From>
Mat<To> to_precision(const Mat<From>& m) {
  Mat<To> out = xt::cast<To>(m);
  return out;
}

}  // namespace unroll
