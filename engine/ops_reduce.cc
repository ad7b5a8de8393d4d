// engine/ops_reduce.cc — sums and means to a scalar, over rows or over columns.
#include "engine/ops.h"

namespace unroll {

// ---------------------------------------------------------------------------------------------------
// sum       y = Σ_ij x_ij                      X [B, N], y [1, 1]
// backward  dX += dy (every entry)
template <class T>
Var<T> sum(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "sum: input is an undefined Var");
  T s = 0;
  for (T v : x.value()) s += v;
  return make_op<T>("sum", full<T>(1, 1, s), {x}, [](Node<T>& out) { out.parent(0).grad += out.grad(0, 0); });
}

// ---------------------------------------------------------------------------------------------------
// mean      y = Σ_ij x_ij / (B·N)
// backward  dX += dy / (B·N)
template <class T>
Var<T> mean(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "mean: input is an undefined Var");
  UNROLL_CHECK(x.value().size() > 0, "mean: input is empty ({})", shape_str(x.value()));
  T s = 0;
  for (T v : x.value()) s += v;
  const T n = T(x.value().size());
  return make_op<T>("mean", full<T>(1, 1, s / n), {x}, [n](Node<T>& out) {
    out.parent(0).grad += out.grad(0, 0) / n;
  });
}

// ---------------------------------------------------------------------------------------------------
// sum_rows  y_j = Σ_i x_ij                     X [B, N], y [1, N]
// backward  dX[i, :] += dy
template <class T>
Var<T> sum_rows(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "sum_rows: input is an undefined Var");
  const std::size_t B = x.rows(), N = x.cols();
  Mat<T> y = zeros<T>(1, N);
  for (std::size_t r = 0; r < B; ++r)
    for (std::size_t c = 0; c < N; ++c) y(0, c) += x.value()(r, c);
  return make_op<T>("sum_rows", std::move(y), {x}, [](Node<T>& out) {
    Mat<T>& dx = out.parent(0).grad;
    const std::size_t B = dx.shape(0), N = dx.shape(1);
    for (std::size_t r = 0; r < B; ++r)
      for (std::size_t c = 0; c < N; ++c) dx(r, c) += out.grad(0, c);
  });
}

// ---------------------------------------------------------------------------------------------------
// sum_cols  y_i = Σ_j x_ij                     X [B, N], y [B, 1]
// backward  dX[:, j] += dy
template <class T>
Var<T> sum_cols(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "sum_cols: input is an undefined Var");
  const std::size_t B = x.rows(), N = x.cols();
  Mat<T> y = zeros<T>(B, 1);
  for (std::size_t r = 0; r < B; ++r)
    for (std::size_t c = 0; c < N; ++c) y(r, 0) += x.value()(r, c);
  return make_op<T>("sum_cols", std::move(y), {x}, [](Node<T>& out) {
    Mat<T>& dx = out.parent(0).grad;
    const std::size_t B = dx.shape(0), N = dx.shape(1);
    for (std::size_t r = 0; r < B; ++r)
      for (std::size_t c = 0; c < N; ++c) dx(r, c) += out.grad(r, 0);
  });
}

#define UNROLL_INSTANTIATE(T)                   \
  template Var<T> sum<T>(const Var<T>&);        \
  template Var<T> mean<T>(const Var<T>&);       \
  template Var<T> sum_rows<T>(const Var<T>&);   \
  template Var<T> sum_cols<T>(const Var<T>&);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
