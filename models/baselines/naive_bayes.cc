// models/baselines/naive_bayes.cc — counting and scoring for BinaryNaiveBayes.
#include "models/baselines/naive_bayes.h"

#include "models/data/common.h"

#include <cmath>
#include <fmt/format.h>
#include <unordered_set>

namespace unroll::baselines {

void BinaryNaiveBayes::fit(const std::vector<std::vector<std::string>>& docs, const std::vector<int>& labels) {
  if (docs.size() != labels.size())
    throw data::DataError(fmt::format("BinaryNaiveBayes::fit: {} documents but {} labels", docs.size(), labels.size()));
  counts_.clear();
  docs_ = {0, 0};
  total_ = {0, 0};
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const int c = labels[i];
    if (c != 0 && c != 1)
      throw data::DataError(fmt::format("BinaryNaiveBayes::fit: label {} of document {}, expected 0 or 1", c, i));
    docs_[c] += 1;
    for (const auto& w : std::unordered_set<std::string>(docs[i].begin(), docs[i].end())) {
      counts_[w][c] += 1;
      total_[c] += 1;
    }
  }
}

std::array<double, 2> BinaryNaiveBayes::log_scores(const std::vector<std::string>& tokens) const {
  const double n = docs_[0] + docs_[1], V = static_cast<double>(counts_.size());
  std::array<double, 2> s{};
  for (int c = 0; c < 2; ++c) s[c] = std::log(docs_[c] / n);
  std::unordered_set<std::string> seen;
  for (const auto& w : tokens) {
    if (!seen.insert(w).second) continue;
    auto it = counts_.find(w);
    if (it == counts_.end()) continue;
    for (int c = 0; c < 2; ++c) s[c] += std::log((it->second[c] + alpha_) / (total_[c] + alpha_ * V));
  }
  return s;
}

int BinaryNaiveBayes::predict(const std::vector<std::string>& tokens) const {
  const auto s = log_scores(tokens);
  return s[1] > s[0] ? 1 : 0;
}

}  // namespace unroll::baselines
