// nn/gradcheck_modules.cc — the module gradient-check sweep (see nn/gradcheck_modules.h).
#include "nn/gradcheck_modules.h"

#include "engine/gradcheck.h"
#include "engine/ops.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/recurrent.h"

#include <algorithm>
#include <cctype>
#include <memory>

namespace unroll {

namespace {

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

CellKind parse_kind(const std::string& cell) {
  const std::string c = lower(cell);
  if (c == "rnn") return CellKind::RNN;
  if (c == "lstm") return CellKind::LSTM;
  UNROLL_CHECK(c == "gru", "gradcheck_recurrent_case: unknown cell '{}' (rnn, lstm, gru)", cell);
  return CellKind::GRU;
}

// Folds one gradcheck result into a row; `locate` names an entry's worst position.
template <class Locate>
void fold(ModuleCheckRow& row, const GradCheckResult& r, Locate locate) {
  row.ok = r.ok;
  double worst_score = -1;
  for (const auto& e : r.entries) {
    row.max_abs_err = std::max(row.max_abs_err, e.abs_err);
    row.max_rel_err = std::max(row.max_rel_err, e.max_rel_err);
    double score = e.abs_err / (1e-5 + 1e-3 * std::abs(e.numeric)) + (e.ok ? 0 : 1e30);
    if (score > worst_score) {
      worst_score = score;
      row.worst = fmt::format("{} [{}, {}] {}(analytic {:.6g}, numeric {:.6g})", e.name, e.worst_row, e.worst_col,
                              locate(e), e.analytic, e.numeric);
    }
  }
  if (!r.repeatable) row.worst += "; backward twice gave different gradients";
}

}  // namespace

std::vector<RecurrentCheckCase> recurrent_check_cases() {
  std::vector<RecurrentCheckCase> cases;
  for (const char* cell : {"rnn", "lstm", "gru"})
    for (int layers : {1, 2})
      for (bool bi : {false, true})
        for (int batch : {1, 3}) {
          // lengths 1, lengths 3, and mixed (batch 1: one row padded at the end; batch 3: [3, 1, 2])
          cases.push_back({cell, layers, bi, std::vector<int>(std::size_t(batch), 1), 1});
          cases.push_back({cell, layers, bi, std::vector<int>(std::size_t(batch), 3), 3});
          cases.push_back({cell, layers, bi, batch == 1 ? std::vector<int>{2} : std::vector<int>{3, 1, 2}, 3});
        }
  return cases;
}

ModuleCheckRow gradcheck_recurrent_case(const RecurrentCheckCase& c) {
  const CellKind kind = parse_kind(c.cell);
  const int in = 3, H = 4;
  const std::size_t B = c.lengths.size(), T_ = std::size_t(c.steps);
  Rng rng(20261123);
  RecurrentConfig config = recurrent_config(in, H, c.layers, c.bidirectional);
  config.fused = c.fused;
  Recurrent<double> layer(kind, config, rng);
  const int D = layer.dirs();
  std::vector<Var<double>> xs, h0, c0;
  std::vector<std::pair<std::string, Var<double>>> inputs;
  for (std::size_t t = 0; t < T_; ++t) {
    xs.push_back(parameter(rng.normal_mat<double>(B, in)));
    inputs.push_back({fmt::format("x[t={}]", t), xs.back()});
  }
  const bool lstm = kind == CellKind::LSTM;
  for (int i = 0; i < c.layers * D; ++i) {
    const std::string sfx = fmt::format("l{}{}", i / D, i % D ? "_reverse" : "");
    h0.push_back(parameter(rng.normal_mat<double>(B, H, 0.0, 0.5)));
    inputs.push_back({"h0[" + sfx + "]", h0.back()});
    if (lstm) {
      c0.push_back(parameter(rng.normal_mat<double>(B, H, 0.0, 0.5)));
      inputs.push_back({"c0[" + sfx + "]", c0.back()});
    }
  }
  std::size_t nparams = 0;
  std::vector<std::string> param_names;
  for (auto& p : layer.parameters()) {
    inputs.push_back({p.name, p.var});
    param_names.push_back(p.name);
    nparams += p.var.value().size();
  }
  const std::vector<int> lengths = c.lengths;
  // Output: every step's output and every final state, stacked in one value (so one projection covers all).
  auto f = [&]() {
    RecurrentOutput<double> o = layer.forward(xs, lengths, h0, c0);
    std::vector<Var<double>> all = o.outputs;
    Var<double> hn = concat_cols(o.h_n);
    all.push_back(lstm ? concat_cols(std::vector<Var<double>>{hn, concat_cols(o.c_n)}) : hn);
    return concat_cols(all);  // [B, T·H·D + L·D·H (·2 for LSTM)]
  };
  GradCheckResult r = gradcheck(f, inputs);

  ModuleCheckRow row;
  row.what = fmt::format("{} B={} T={} lengths=[{}]{}", layer.describe(), B, T_, fmt::join(c.lengths, ", "),
                         c.fused ? "" : " plain ops");
  row.shape = fmt::format("x: {} × [{}, {}], h0{}: {} × [{}, {}], {} parameters", T_, B, in, lstm ? "/c0" : "",
                          c.layers * D, B, H, nparams);
  fold(row, r, [&](const GradCheckEntry& e) -> std::string {
    if (e.name.rfind("x[", 0) == 0) return fmt::format("(row {}, feature {}) ", e.worst_row, e.worst_col);
    if (e.name.rfind("weight_", 0) == 0 || e.name.rfind("bias_", 0) == 0) {
      const std::size_t unit_row = e.name.rfind("bias_", 0) == 0 ? e.worst_col : e.worst_row;
      const int g = int(unit_row / std::size_t(H));
      return fmt::format("(gate {}, unit {}) ", layer.cell(0).gate_name(g), unit_row % std::size_t(H));
    }
    return "";
  });
  return row;
}

namespace {

ModuleCheckRow check_linear(bool bias) {
  Rng rng(7);
  Linear<double> lin(3, 4, rng, bias);
  Var<double> x = parameter(rng.normal_mat<double>(5, 3));
  std::vector<std::pair<std::string, Var<double>>> inputs{{"x", x}};
  for (auto& p : lin.parameters()) inputs.push_back({p.name, p.var});
  GradCheckResult r = gradcheck([&] { return lin.forward(x); }, inputs);
  ModuleCheckRow row;
  row.what = lin.describe();
  row.shape = "x: [5, 3]";
  fold(row, r, [](const GradCheckEntry&) { return std::string(); });
  return row;
}

ModuleCheckRow check_embedding(long padding_idx) {
  Rng rng(8);
  Embedding<double> emb(6, 3, rng, padding_idx);
  const std::vector<std::int64_t> ids{0, 2, 5, 2, 1, 0};  // repeats: the scatter-add must accumulate
  Var<double> W = emb.weight();
  GradCheckResult r = gradcheck([&] { return emb.forward(ids); }, {{"weight", W}});
  ModuleCheckRow row;
  row.what = emb.describe();
  row.shape = "ids: 6 (0 2 5 2 1 0)";
  fold(row, r, [](const GradCheckEntry&) { return std::string(); });
  return row;
}

}  // namespace

std::vector<ModuleCheckRow> gradcheck_module_sweep(const std::string& filter) {
  const std::string f = lower(filter);
  std::vector<ModuleCheckRow> rows;
  auto keep = [&](const std::string& what) { return f.empty() || lower(what).find(f) != std::string::npos; };
  for (const auto& c : recurrent_check_cases()) {
    // Cheap name check before running: the row's `what` is only known after building the layer, so build
    // the description the same way the case does.
    Rng rng(0);
    Recurrent<double> probe(parse_kind(c.cell), recurrent_config(3, 4, c.layers, c.bidirectional), rng);
    const std::string what = fmt::format("{} B={} T={} lengths=[{}]{}", probe.describe(), c.lengths.size(), c.steps,
                                         fmt::join(c.lengths, ", "), c.fused ? "" : " plain ops");
    if (keep(what)) rows.push_back(gradcheck_recurrent_case(c));
  }
  for (bool bias : {true, false}) {
    Rng rng(0);
    if (keep(Linear<double>(3, 4, rng, bias).describe())) rows.push_back(check_linear(bias));
  }
  for (long pad : {-1L, 2L}) {
    Rng rng(0);
    if (keep(Embedding<double>(6, 3, rng, pad).describe())) rows.push_back(check_embedding(pad));
  }
  return rows;
}

}  // namespace unroll
