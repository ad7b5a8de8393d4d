// tools/cli/cmd_gradcheck.cc — `unroll gradcheck`: the gradient verification report.
// Sweeps every op (and every module configuration, and the hand-derived BPTT) in float64 and prints one
// row per check: what, shapes, worst absolute and relative error, where, pass/fail. Exit 1 on any failure.
#include "tools/cli/commands.h"
#include "tools/cli/gradcheck_ops.h"

#include "engine/bptt_reference.h"
#include "nn/gradcheck_modules.h"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace unroll::cli {
namespace {

struct Options {
  std::string filter;
  bool json = false;
  bool verbose = false;
};
Options opt;

void print_table(const std::vector<CheckRow>& rows) {
  std::size_t w_what = 4, w_shape = 6;
  for (const auto& r : rows) {
    w_what = std::max(w_what, r.what.size());
    w_shape = std::max(w_shape, r.shape.size());
  }
  fmt::print("{:<{}}  {:<{}}  {:>10}  {:>10}  {:<28}  {}\n", "what", w_what, "shapes", w_shape, "max abs", "max rel",
             "worst entry", "result");
  for (const auto& r : rows) {
    fmt::print("{:<{}}  {:<{}}  {:>10.2e}  {:>10.2e}  {:<28}  {}\n", r.what, w_what, r.shape, w_shape, r.max_abs_err,
               r.max_rel_err, r.worst, r.ok ? "pass" : "FAIL");
    if (!r.ok || opt.verbose) fmt::print("{}", r.detail);
  }
}

int run() {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<CheckRow> rows = gradcheck_op_sweep(opt.filter);
  for (const ModuleCheckRow& m : gradcheck_module_sweep(opt.filter))
    rows.push_back({"module " + m.what, m.shape, m.max_abs_err, m.max_rel_err, m.worst, m.ok, {}});
  // The seeds' vanilla RNN: BPTT derived by hand = the tape = central differences, over 20 steps.
  if (std::string what = "bptt hand-derived = tape = numeric (vanilla RNN, 20 steps)";
      opt.filter.empty() || what.find(opt.filter) != std::string::npos) {
    BpttThreeWay b = bptt_three_way_check(20, 7);
    const bool ok = b.gradcheck_ok && b.hand_vs_tape <= 1e-10 && b.tape_vs_numeric <= 1e-5;
    rows.push_back({what, "dU dW dV db dc ds0", std::max(b.hand_vs_tape, b.tape_vs_numeric), 0.0,
                    fmt::format("hand-tape {:.1e}, tape-numeric {:.1e}", b.hand_vs_tape, b.tape_vs_numeric), ok,
                    ok ? std::string() : b.report});
  }
  if (rows.empty()) throw std::invalid_argument(fmt::format("gradcheck: nothing matches filter '{}'", opt.filter));
  std::size_t failed = 0;
  for (const auto& r : rows) failed += !r.ok;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opt.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows)
      j.push_back({{"what", r.what}, {"shapes", r.shape}, {"max_abs_err", r.max_abs_err},
                   {"max_rel_err", r.max_rel_err}, {"worst", r.worst}, {"ok", r.ok}, {"detail", r.detail}});
    fmt::print("{}\n", nlohmann::json{{"checks", j}, {"passed", rows.size() - failed}, {"failed", failed}}.dump(2));
  } else {
    fmt::print("float64 central differences, eps 1e-6, pass if |analytic - numeric| <= 1e-5 + 1e-3 |numeric|\n\n");
    print_table(rows);
    fmt::print("\n{} checks, {} passed, {} failed ({:.1f} s)\n", rows.size(), rows.size() - failed, failed, secs);
  }
  return failed ? 1 : 0;
}

Registration reg(
    "gradcheck",
    [](CLI::App& app) {
      auto* sub = app.add_subcommand("gradcheck", "float64 gradient check of every op and module; exit 1 on failure");
      sub->add_option("--filter", opt.filter, "only checks whose name contains this (e.g. 'op tanh', 'LSTM')");
      sub->add_flag("--json", opt.json, "machine-readable output");
      sub->add_flag("-v,--verbose", opt.verbose, "print the checker's per-input report for every row");
    },
    run);

}  // namespace
}  // namespace unroll::cli
