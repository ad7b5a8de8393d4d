// engine/gradcheck.h — the numerical gradient checker (a library: tests, tools and users share it).
// Central differences in float64 with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3). The output is
// reduced to a scalar by a fixed random projection L = Σ y ⊙ R (a plain sum would send the same dy
// everywhere and hide errors: softmax rows always sum to 1). Small inputs are checked entry by entry;
// large ones on a seeded random subset of entries plus one random direction. It also runs backward twice
// and checks the gradients are the same (a backward that keeps state shows up there). A backward that
// assigns instead of accumulating repeats exactly; it is caught by the numerical comparison when the
// function uses an input twice (x*x, a weight at every time step), so write checks that do.
#pragma once

#include "engine/var.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace unroll {

struct GradCheckOptions {
  double eps = 1e-6;             // central-difference step
  double atol = 1e-5;            // pass if |analytic - numeric| <= atol + rtol · |numeric|
  double rtol = 1e-3;
  std::size_t full_limit = 512;  // inputs with at most this many entries are checked entry by entry
  std::size_t subset = 128;      // otherwise: this many seeded random entries + one random direction
  std::uint64_t seed = 1234;     // projection R, subset and direction
};

// One input or parameter's outcome.
struct GradCheckEntry {
  std::string name;
  std::string shape;
  std::size_t checked = 0;       // entries compared (plus the direction for large inputs)
  std::size_t worst_row = 0, worst_col = 0;
  double analytic = 0, numeric = 0;  // at the worst entry
  double abs_err = 0, rel_err = 0;   // at the worst entry; rel = abs / max(|numeric|, 1e-12)
  double max_rel_err = 0;            // over the entries checked
  double score = 0;                  // worst |analytic - numeric| / (atol + rtol |numeric|) checked; ≤ 1 passes
  bool repeatable = true;            // backward twice gave bitwise the same gradient for this input
  double repeat_diff = 0;            // max |first - second| when it did not
  bool direction_checked = false;
  double direction_analytic = 0, direction_numeric = 0;
  bool ok = true;                    // false also when not repeatable
};

struct GradCheckResult {
  bool ok = true;
  bool repeatable = true;        // backward twice gave the same gradients
  std::vector<GradCheckEntry> entries;
  std::string report;            // human-readable, one line per input, the culprit named first on failure
  const GradCheckEntry* worst() const;  // a failing entry first, else the largest score
};

// f builds the graph from the given leaves and returns any-shaped output. It is called many times,
// so it must be a pure function of the leaves' values (re-seed any Rng inside it).
GradCheckResult gradcheck(const std::function<Var<double>()>& f,
                          const std::vector<std::pair<std::string, Var<double>>>& inputs,
                          const GradCheckOptions& options = {});

}  // namespace unroll
