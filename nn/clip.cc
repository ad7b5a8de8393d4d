// nn/clip.cc — norms accumulated in double, then one scaling pass in T.
#include "nn/clip.h"

#include "nn/gradflow.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace unroll {

template <class T>
void check_finite_grads(const std::vector<NamedParam<T>>& params, const std::string& who) {
  for (const auto& np : params) {
    const Mat<T>& g = np.var.grad();
    const std::size_t C = g.size() ? g.shape(1) : 1;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const T v = g.data()[i];
      if (std::isfinite(v)) continue;
      std::size_t bad = 0;
      for (std::size_t j = i; j < g.size(); ++j) bad += !std::isfinite(g.data()[j]);
      throw NumericError(fmt::format(
          "{}: gradient of '{}' {} is not finite: ({}, {}) = {} ({} non-finite entries); step refused, no weight "
          "changed (lower the learning rate or clip; AnomalyGuard names the op that produced it)",
          who, np.name.empty() ? std::string("<unnamed>") : np.name, shape_str(g), i / C, i % C, v, bad));
    }
  }
}

template <class T>
double grad_norm(const std::vector<NamedParam<T>>& params, double norm_type) {
  UNROLL_CHECK(norm_type > 0, "grad_norm: norm_type must be > 0 (or kInfNorm), got {}", norm_type);
  double acc = 0;
  const bool inf = std::isinf(norm_type);
  for (const auto& np : params) {
    const Mat<T>& g = np.var.grad();
    const T* d = g.data();
    const std::size_t n = g.size();
    if (inf) {
      for (std::size_t i = 0; i < n; ++i) {
        const double a = std::abs(double(d[i]));
        if (std::isnan(a)) return a;
        acc = std::max(acc, a);
      }
    } else if (norm_type == 2.0) {
      for (std::size_t i = 0; i < n; ++i) acc += double(d[i]) * double(d[i]);
    } else if (norm_type == 1.0) {
      for (std::size_t i = 0; i < n; ++i) acc += std::abs(double(d[i]));
    } else {
      for (std::size_t i = 0; i < n; ++i) acc += std::pow(std::abs(double(d[i])), norm_type);
    }
  }
  if (inf || norm_type == 1.0) return acc;
  if (norm_type == 2.0) return std::sqrt(acc);
  return std::pow(acc, 1.0 / norm_type);
}

template <class T>
double clip_grad_norm_(const std::vector<NamedParam<T>>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite, ClipCounter* counter) {
  UNROLL_CHECK(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0, got {}", max_norm);
  const double total = grad_norm(params, norm_type);
  if (!std::isfinite(total) && error_if_nonfinite) {
    if (counter) counter->record(total, false);
    check_finite_grads(params, "clip_grad_norm_");  // names the culprit
    throw NumericError(fmt::format("clip_grad_norm_: the total {}-norm of the gradients is {} (overflow in the sum)",
                                   norm_type, total));
  }
  const double coef = max_norm / (total + 1e-6);
  const bool fired = !(coef >= 1.0);  // NaN counts as fired: the gradients are rewritten
  if (counter) counter->record(total, fired);
  if (fired) {
    const T c = T(coef);
    // Through the node: scaling keeps a zero row zero, so a row-sparse gradient (embedding) stays row-sparse
    // (Var::grad() would mark it dense and make the optimizer scan every row).
    for (const auto& np : params)
      for (T& x : np.var.node()->grad) x = x * c;
  }
  return total;
}

template <class T>
void clip_grad_value_(const std::vector<NamedParam<T>>& params, double clip_value) {
  UNROLL_CHECK(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got {}", clip_value);
  const T hi = T(clip_value), lo = T(-clip_value);
  for (const auto& np : params)  // lo <= 0 <= hi keeps a zero row zero: row-sparse gradients stay row-sparse
    for (T& x : np.var.node()->grad) x = std::isnan(x) ? x : std::min(std::max(x, lo), hi);
}

#define UNROLL_INSTANTIATE(T)                                                                               \
  template void check_finite_grads<T>(const std::vector<NamedParam<T>>&, const std::string&);            \
  template double grad_norm<T>(const std::vector<NamedParam<T>>&, double);                                \
  template double clip_grad_norm_<T>(const std::vector<NamedParam<T>>&, double, double, bool, ClipCounter*); \
  template void clip_grad_value_<T>(const std::vector<NamedParam<T>>&, double);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
