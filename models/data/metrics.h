// models/data/metrics.h — evaluation helpers shared by the baselines and the models: accuracy counts and span F1
// for the binary "part of a name" task (a span = a maximal run of 1-labels; a predicted span counts only when it
// matches a gold span exactly).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace unroll::data {

// [begin, end) of every maximal run of non-zero labels.
std::vector<std::pair<std::size_t, std::size_t>> label_spans(const std::vector<int>& labels);

struct SpanCounts {
  std::size_t tp = 0, fp = 0, fn = 0;
  void add(const std::vector<int>& gold, const std::vector<int>& pred);  // DataError if the lengths differ
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
  double f1() const { const double p = precision(), r = recall(); return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }
};

struct AccuracyCounts {
  std::size_t correct = 0, total = 0;
  void add(bool ok) { correct += ok; ++total; }
  double value() const { return total ? double(correct) / double(total) : 0.0; }
};

}  // namespace unroll::data
