// nn/init.cc — initialisers (see nn/init.h). Orthogonal uses modified Gram–Schmidt in double: the
// matrices are small (at most a few hundred columns) and this keeps LAPACK out of the library.
#include "nn/init.h"

#include <cmath>
#include <vector>

namespace unroll {

template <class T>
Mat<T> uniform_init(std::size_t rows, std::size_t cols, double bound, Rng& rng) {
  return rng.uniform_mat<T>(rows, cols, -bound, bound);
}

template <class T>
Mat<T> xavier_uniform(std::size_t rows, std::size_t cols, Rng& rng, double gain) {
  // fan_in = cols, fan_out = rows for a PyTorch [out, in] weight
  const double a = gain * std::sqrt(6.0 / double(rows + cols));
  return rng.uniform_mat<T>(rows, cols, -a, a);
}

template <class T>
Mat<T> orthogonal(std::size_t rows, std::size_t cols, Rng& rng, double gain) {
  // Work on the tall orientation: n vectors of length m with n <= m, orthonormalised.
  const bool tall = rows >= cols;
  const std::size_t m = tall ? rows : cols, n = tall ? cols : rows;
  std::vector<std::vector<double>> q(n, std::vector<double>(m));
  for (auto& v : q)
    for (auto& e : v) e = rng.normal();
  for (std::size_t j = 0; j < n; ++j) {
    double norm = 0;
    while (norm < 1e-12) {  // a degenerate draw (probability ~0) is simply redrawn
      for (std::size_t pass = 0; pass < 2; ++pass)  // twice is enough (Kahan): orthogonal to ~1e-15
        for (std::size_t k = 0; k < j; ++k) {
          double d = 0;
          for (std::size_t i = 0; i < m; ++i) d += q[j][i] * q[k][i];
          for (std::size_t i = 0; i < m; ++i) q[j][i] -= d * q[k][i];
        }
      norm = 0;
      for (double e : q[j]) norm += e * e;
      norm = std::sqrt(norm);
      if (norm < 1e-12)
        for (auto& e : q[j]) e = rng.normal();
    }
    for (auto& e : q[j]) e /= norm;
  }
  Mat<T> out = zeros<T>(rows, cols);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t i = 0; i < m; ++i) {
      if (tall) out(i, j) = T(gain * q[j][i]);
      else out(j, i) = T(gain * q[j][i]);
    }
  return out;
}

template <class T>
Mat<T> orthogonal_blocks(std::size_t blocks, std::size_t n, std::size_t m, Rng& rng, double gain) {
  Mat<T> out = zeros<T>(blocks * n, m);
  for (std::size_t b = 0; b < blocks; ++b) {
    Mat<T> q = orthogonal<T>(n, m, rng, gain);
    xt::view(out, xt::range(b * n, (b + 1) * n), xt::all()) = q;
  }
  return out;
}

template <class T>
Mat<T> xavier_blocks(std::size_t blocks, std::size_t n, std::size_t m, Rng& rng, double gain) {
  Mat<T> out = zeros<T>(blocks * n, m);
  for (std::size_t b = 0; b < blocks; ++b) {
    Mat<T> w = xavier_uniform<T>(n, m, rng, gain);
    xt::view(out, xt::range(b * n, (b + 1) * n), xt::all()) = w;
  }
  return out;
}

template <class T>
void init_uniform_(Var<T>& p, double bound, Rng& rng) {
  p.value() = uniform_init<T>(p.rows(), p.cols(), bound, rng);
}
template <class T>
void init_xavier_(Var<T>& p, Rng& rng, double gain) {
  p.value() = xavier_uniform<T>(p.rows(), p.cols(), rng, gain);
}
template <class T>
void init_orthogonal_(Var<T>& p, Rng& rng, double gain) {
  p.value() = orthogonal<T>(p.rows(), p.cols(), rng, gain);
}
template <class T>
void init_constant_(Var<T>& p, T value) {
  p.value().fill(value);
}

#define UNROLL_INSTANTIATE(T)                                                                      \
  template Mat<T> uniform_init<T>(std::size_t, std::size_t, double, Rng&);                         \
  template Mat<T> xavier_uniform<T>(std::size_t, std::size_t, Rng&, double);                       \
  template Mat<T> orthogonal<T>(std::size_t, std::size_t, Rng&, double);                           \
  template Mat<T> orthogonal_blocks<T>(std::size_t, std::size_t, std::size_t, Rng&, double);       \
  template Mat<T> xavier_blocks<T>(std::size_t, std::size_t, std::size_t, Rng&, double);           \
  template void init_uniform_<T>(Var<T>&, double, Rng&);                                           \
  template void init_xavier_<T>(Var<T>&, Rng&, double);                                            \
  template void init_orthogonal_<T>(Var<T>&, Rng&, double);                                        \
  template void init_constant_<T>(Var<T>&, T);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
