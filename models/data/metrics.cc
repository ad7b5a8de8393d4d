// models/data/metrics.cc — span extraction and span F1 counts.
#include "models/data/metrics.h"

#include "models/data/common.h"

#include <algorithm>
#include <fmt/format.h>

namespace unroll::data {

std::vector<std::pair<std::size_t, std::size_t>> label_spans(const std::vector<int>& labels) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < labels.size();) {
    if (!labels[i]) { ++i; continue; }
    std::size_t j = i;
    while (j < labels.size() && labels[j]) ++j;
    out.emplace_back(i, j);
    i = j;
  }
  return out;
}

void SpanCounts::add(const std::vector<int>& gold, const std::vector<int>& pred) {
  if (gold.size() != pred.size())
    throw DataError(fmt::format("SpanCounts::add: gold has {} labels, prediction has {}", gold.size(), pred.size()));
  const auto g = label_spans(gold), p = label_spans(pred);
  std::size_t match = 0;
  for (const auto& s : p) match += std::binary_search(g.begin(), g.end(), s) ? 1 : 0;
  tp += match;
  fp += p.size() - match;
  fn += g.size() - match;
}

}  // namespace unroll::data
