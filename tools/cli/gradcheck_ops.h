// tools/cli/gradcheck_ops.h — the op sweep of `unroll gradcheck`: one float64 gradient check per op and shape.
#pragma once

#include "engine/gradcheck.h"

#include <string>
#include <vector>

namespace unroll::cli {

struct CheckRow {
  std::string what;      // "op tanh", "module LSTM(3, 4, num_layers=2, bidirectional=True) lengths {3,1,2}"
  std::string shape;     // input shapes
  double max_abs_err = 0, max_rel_err = 0;
  std::string worst;     // where the worst entry is ("x (1, 2)", "weight_hh_l0 (5, 1) gate f, t=2")
  bool ok = true;
  std::string detail;    // the checker's report (printed on failure)
};

// Every op of engine/ops.h on several shapes (including 1×1 and batch 1); rows whose `what` contains
// filter (empty: all).
std::vector<CheckRow> gradcheck_op_sweep(const std::string& filter);

// Converts a checker result into a table row.
CheckRow to_row(std::string what, std::string shape, const GradCheckResult& r);

}  // namespace unroll::cli
