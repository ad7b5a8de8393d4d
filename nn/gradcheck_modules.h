// nn/gradcheck_modules.h — float64 gradient checks of the nn modules, as a library sweep that the tests and
// `unroll gradcheck` share: every cell type (RNN, LSTM, GRU) × {1, 2 layers} × {uni, bidirectional}
// × lengths {1, 3, mixed within the batch} × batch {1, 3}, in=3, H=4, w.r.t. every input step, h0 (and c0)
// and every parameter; plus Linear and Embedding. Tolerances are engine/gradcheck.h's (PyTorch's defaults).
#pragma once

#include <string>
#include <vector>

namespace unroll {

struct ModuleCheckRow {
  std::string what;          // "LSTM(3, 4, num_layers=2, bidirectional=True) B=3 T=3 lengths=[3, 1, 2]"
  std::string shape;         // "x: 3 × [3, 3], h0/c0: 4 × [3, 4], 736 parameters"
  double max_abs_err = 0;    // over every input/parameter checked: largest |analytic - numeric| at its worst entry
  double max_rel_err = 0;    // largest relative error over every entry checked
  std::string worst;         // "weight_hh_l1_reverse [9, 2] (gate f, unit 1)", "x[t=2] [1, 0] (row 1, feature 0)"
  bool ok = true;
};

// One recurrent case of the sweep.
struct RecurrentCheckCase {
  std::string cell;          // "rnn", "lstm", "gru"
  int layers = 1;
  bool bidirectional = false;
  std::vector<int> lengths;  // one per batch row; T = max
  int steps = 0;             // T (>= max length; > max when the batch is padded at the end)
  bool fused = true;         // the layer's fused ops (default) or the plain-op reference path
};

// Every case of the sweep, in a fixed order (the default fused path; `what` says "plain ops" otherwise).
std::vector<RecurrentCheckCase> recurrent_check_cases();
// Runs one case (inputs and parameters from a fixed seed) and returns its row.
ModuleCheckRow gradcheck_recurrent_case(const RecurrentCheckCase& c);
// The whole sweep (recurrent cases, then Linear and Embedding), keeping rows whose `what` contains filter
// (case-insensitive; "" keeps all; e.g. "lstm", "bidirectional", "lengths=[3, 1, 2]", "linear").
std::vector<ModuleCheckRow> gradcheck_module_sweep(const std::string& filter);

}  // namespace unroll
