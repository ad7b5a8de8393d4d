// models/common/next_token.cc — see next_token.h.
#include "models/common/next_token.h"

#include "engine/check.h"
#include "models/data/vocab.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace unroll::common {

bool emittable(std::size_t id, bool eos) {
  return id >= data::Vocab::num_reserved || (eos && id == std::size_t(data::Vocab::eos));
}

std::vector<double> row_log_softmax(const Mat<float>& logits, std::size_t r) {
  const std::size_t V = logits.shape(1);
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, double(logits(r, v)));  // shift for stability
  double s = 0;
  for (std::size_t v = 0; v < V; ++v) s += std::exp(double(logits(r, v)) - mx);
  const double lse = mx + std::log(s);
  std::vector<double> out(V);
  for (std::size_t v = 0; v < V; ++v) out[v] = double(logits(r, v)) - lse;
  return out;
}

std::size_t best_emittable(const std::vector<double>& log_probs, bool eos) {
  std::size_t best = log_probs.size();
  for (std::size_t v = 0; v < log_probs.size(); ++v)
    if (emittable(v, eos) && (best == log_probs.size() || log_probs[v] > log_probs[best])) best = v;
  UNROLL_CHECK(best < log_probs.size(), "best_emittable: no emittable id among {} logits", log_probs.size());
  return best;
}

std::int64_t sample_emittable(const Mat<float>& logits, std::size_t r, double temperature, int top_k, bool eos,
                              Rng& rng) {
  UNROLL_CHECK(temperature > 0 && std::isfinite(temperature), "sample: temperature must be > 0, got {}", temperature);
  std::vector<std::pair<double, std::size_t>> cand;  // (logit / temperature, id)
  for (std::size_t k = 0; k < logits.shape(1); ++k)
    if (emittable(k, eos)) cand.emplace_back(double(logits(r, k)) / temperature, k);
  UNROLL_CHECK(!cand.empty(), "sample: no emittable id among {} logits", logits.shape(1));
  if (top_k > 0 && std::size_t(top_k) < cand.size()) {
    std::partial_sort(cand.begin(), cand.begin() + top_k, cand.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    cand.resize(std::size_t(top_k));
  }
  double m = -std::numeric_limits<double>::infinity();
  for (const auto& c : cand) m = std::max(m, c.first);
  double total = 0;
  for (auto& c : cand) total += (c.first = std::exp(c.first - m));
  double u = rng.uniform() * total;
  for (const auto& c : cand) {
    if (u < c.first) return std::int64_t(c.second);
    u -= c.first;
  }
  return std::int64_t(cand.back().second);  // rounding: u landed past the last bucket
}

}  // namespace unroll::common
