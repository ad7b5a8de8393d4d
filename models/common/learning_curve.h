// models/common/learning_curve.h — a run's learning curve: the points in memory, and next to the checkpoint
// <stem>.curve.csv (one line per dev evaluation, appended when a run resumes) and <stem>.curve.svg (train and dev
// against epochs, redrawn at each point).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace unroll::common {

struct CurveRow {
  std::uint64_t step = 0;
  double epoch = 0;    // fractional
  double train = 0;    // the training metric since the previous row, e.g. bits/char
  double dev = 0;
  double lr = 0;
  double seconds = 0;
};

struct CurveLabels {
  std::string train_column = "train", dev_column = "dev";  // CSV header names, e.g. "train_bpc", "dev_bpc"
  std::string title, y_label;                              // of the plot
};

class LearningCurve {
 public:
  // Files next to model_path ("" = none, the rows are still kept). append: keep the CSV's earlier lines (a
  // resumed run); else start it with a header.
  LearningCurve(const std::string& model_path, CurveLabels labels, bool append);
  void add(const CurveRow& row);
  const std::vector<CurveRow>& rows() const { return rows_; }

 private:
  std::string stem_;
  CurveLabels labels_;
  std::ofstream csv_;
  std::vector<CurveRow> rows_;
};

}  // namespace unroll::common
