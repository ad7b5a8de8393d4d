// nn/gradflow.cc — per-step gradient norms and the clipping counter.
#include "nn/gradflow.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace unroll {

template <class T>
std::vector<double> grad_norms(const std::vector<Var<T>>& hs) {
  std::vector<double> out;
  out.reserve(hs.size());
  for (std::size_t t = 0; t < hs.size(); ++t) {
    UNROLL_CHECK(hs[t].defined(), "grad_norms: step {} is an undefined Var", t);
    const Mat<T>& g = hs[t].grad();
    double s = 0;
    if (hs[t].requires_grad() && g.shape() == hs[t].value().shape())
      for (T v : g) s += double(v) * double(v);
    out.push_back(std::sqrt(s));
  }
  return out;
}

template <class T>
std::vector<std::vector<double>> grad_norms_per_row(const std::vector<Var<T>>& hs) {
  std::vector<std::vector<double>> out;
  out.reserve(hs.size());
  for (std::size_t t = 0; t < hs.size(); ++t) {
    UNROLL_CHECK(hs[t].defined(), "grad_norms_per_row: step {} is an undefined Var", t);
    const Mat<T>& g = hs[t].grad();
    const std::size_t B = hs[t].rows(), H = hs[t].cols();
    std::vector<double> row(B, 0.0);
    if (hs[t].requires_grad() && g.shape() == hs[t].value().shape())
      for (std::size_t b = 0; b < B; ++b) {
        double s = 0;
        for (std::size_t h = 0; h < H; ++h) s += double(g(b, h)) * double(g(b, h));
        row[b] = std::sqrt(s);
      }
    out.push_back(std::move(row));
  }
  return out;
}

void GradFlowStats::add(const std::vector<double>& norms) {
  if (norms.size() > sum_.size()) {
    sum_.resize(norms.size(), 0.0);
    count_.resize(norms.size(), 0);
  }
  for (std::size_t t = 0; t < norms.size(); ++t) {
    sum_[t] += norms[t];
    ++count_[t];
  }
  ++runs_;
}

std::vector<double> GradFlowStats::mean() const {
  std::vector<double> m(sum_.size(), 0.0);
  for (std::size_t t = 0; t < sum_.size(); ++t) m[t] = count_[t] ? sum_[t] / double(count_[t]) : 0.0;
  return m;
}

double GradFlowStats::first_to_last_ratio() const {
  const std::vector<double> m = mean();
  if (m.empty() || m.front() == 0) return 0.0;
  return m.back() / m.front();
}

std::string GradFlowStats::table(std::size_t max_rows) const {
  const std::vector<double> m = mean();
  std::string s = fmt::format("{:>6}  {:>14}  {:>6}\n", "t", "mean |dL/dh_t|", "runs");
  const std::size_t n = m.size();
  if (n == 0 || max_rows == 0) return s;
  const std::size_t rows = std::min(n, max_rows);
  for (std::size_t k = 0; k < rows; ++k) {
    const std::size_t t = rows == 1 ? 0 : k * (n - 1) / (rows - 1);  // first and last always shown
    s += fmt::format("{:>6}  {:>14.6g}  {:>6}\n", t, m[t], count_[t]);
  }
  return s;
}

void ClipCounter::record(double norm, bool fired) {
  ++calls;
  last_norm = norm;
  if (fired) ++clipped;
  if (!std::isfinite(norm)) {
    ++non_finite;
    return;
  }
  sum_norm += norm;
  if (norm > max_norm_seen) max_norm_seen = norm;
}

std::string ClipCounter::describe() const {
  return fmt::format("clipped {} of {} steps ({:.1f}%), last norm {:.4g}, max {:.4g}, {} non-finite", clipped, calls,
                     100.0 * fraction(), last_norm, max_norm_seen, non_finite);
}

template std::vector<double> grad_norms<float>(const std::vector<Var<float>>&);
template std::vector<double> grad_norms<double>(const std::vector<Var<double>>&);
template std::vector<std::vector<double>> grad_norms_per_row<float>(const std::vector<Var<float>>&);
template std::vector<std::vector<double>> grad_norms_per_row<double>(const std::vector<Var<double>>&);

}  // namespace unroll
