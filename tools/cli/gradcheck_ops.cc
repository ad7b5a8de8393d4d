// tools/cli/gradcheck_ops.cc — the cases behind `unroll gradcheck` for every op of engine/ops.h.
// Inputs are drawn from a seeded Rng; positive-domain ops (log, div's denominator) get inputs in [0.5, 2].
#include "tools/cli/gradcheck_ops.h"

#include "engine/ops.h"

#include <functional>

namespace unroll::cli {

namespace {

using VarD = Var<double>;
using Inputs = std::vector<std::pair<std::string, VarD>>;

struct Case {
  std::string op;
  // Builds leaves for rows x cols and returns (f, inputs).
  std::function<std::pair<std::function<VarD()>, Inputs>(std::size_t, std::size_t, Rng&)> make;
};

VarD randn(std::size_t r, std::size_t c, Rng& rng, const char* name) {
  return parameter(rng.normal_mat<double>(r, c), name);
}
VarD positive(std::size_t r, std::size_t c, Rng& rng, const char* name) {
  return parameter(rng.uniform_mat<double>(r, c, 0.5, 2.0), name);
}
std::vector<std::int64_t> random_ids(std::size_t n, std::size_t k, Rng& rng) {
  std::vector<std::int64_t> ids(n);
  for (auto& i : ids) i = std::int64_t(rng.below(k));
  return ids;
}

template <class F>
Case unary(std::string op, F f, bool pos = false) {
  return {op, [f, pos](std::size_t r, std::size_t c, Rng& rng) {
            VarD x = pos ? positive(r, c, rng, "x") : randn(r, c, rng, "x");
            return std::pair{std::function<VarD()>([x, f] { return f(x); }), Inputs{{"x", x}}};
          }};
}
template <class F>
Case binary(std::string op, F f, bool pos_b = false) {
  return {op, [f, pos_b](std::size_t r, std::size_t c, Rng& rng) {
            VarD a = randn(r, c, rng, "a");
            VarD b = pos_b ? positive(r, c, rng, "b") : randn(r, c, rng, "b");
            return std::pair{std::function<VarD()>([a, b, f] { return f(a, b); }), Inputs{{"a", a}, {"b", b}}};
          }};
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  cs.push_back(binary("add", [](VarD a, VarD b) { return add(a, b); }));
  cs.push_back(binary("sub", [](VarD a, VarD b) { return sub(a, b); }));
  cs.push_back(binary("mul", [](VarD a, VarD b) { return mul(a, b); }));
  cs.push_back(binary("div", [](VarD a, VarD b) { return div(a, b); }, true));
  cs.push_back(unary("neg", [](VarD x) { return neg(x); }));
  cs.push_back(unary("scale", [](VarD x) { return scale(x, 2.5); }));
  cs.push_back(unary("add_scalar", [](VarD x) { return add_scalar(x, -0.5); }));
  cs.push_back(unary("tanh", [](VarD x) { return tanh(x); }));
  cs.push_back(unary("sigmoid", [](VarD x) { return sigmoid(x); }));
  cs.push_back(unary("relu", [](VarD x) { return relu(add_scalar(x, 0.0)); }));
  cs.push_back(unary("exp", [](VarD x) { return exp(x); }));
  cs.push_back(unary("log", [](VarD x) { return log(x); }, true));
  cs.push_back({"mask", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD x = randn(r, c, rng, "x");
                  Mat<double> m = rng.uniform_mat<double>(r, c, 0, 1);
                  for (auto& v : m) v = v < 0.3 ? 0.0 : 1.0;
                  return std::pair{std::function<VarD()>([x, m] { return mask(x, m); }), Inputs{{"x", x}}};
                }});
  cs.push_back({"dropout", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD x = randn(r, c, rng, "x");
                  return std::pair{std::function<VarD()>([x] {
                                     Rng mask_rng(99);  // the same mask at every evaluation
                                     return dropout(x, 0.3, mask_rng, true);
                                   }),
                                   Inputs{{"x", x}}};
                }});
  cs.push_back({"matmul", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD a = randn(r, c, rng, "a"), w = randn(c, 3, rng, "w");
                  return std::pair{std::function<VarD()>([a, w] { return matmul(a, w); }), Inputs{{"a", a}, {"w", w}}};
                }});
  cs.push_back({"matmul_nt", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD a = randn(r, c, rng, "a"), w = randn(3, c, rng, "w");
                  return std::pair{std::function<VarD()>([a, w] { return matmul_nt(a, w); }),
                                   Inputs{{"a", a}, {"w", w}}};
                }});
  cs.push_back({"add_bias", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD x = randn(r, c, rng, "x"), b = randn(1, c, rng, "b");
                  return std::pair{std::function<VarD()>([x, b] { return add_bias(x, b); }), Inputs{{"x", x}, {"b", b}}};
                }});
  cs.push_back({"linear", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD x = randn(r, c, rng, "x"), W = randn(3, c, rng, "weight"), b = randn(1, 3, rng, "bias");
                  return std::pair{std::function<VarD()>([x, W, b] { return linear(x, W, b); }),
                                   Inputs{{"x", x}, {"weight", W}, {"bias", b}}};
                }});
  cs.push_back(unary("cols", [](VarD x) { return cols(x, x.cols() / 2, x.cols()); }));
  cs.push_back(unary("rows", [](VarD x) { return rows(x, x.rows() / 2, x.rows()); }));
  cs.push_back(binary("concat_cols", [](VarD a, VarD b) { return concat_cols<double>({a, b, a}); }));
  cs.push_back(binary("concat_rows", [](VarD a, VarD b) { return concat_rows<double>({a, b, a}); }));
  cs.push_back(unary("transpose", [](VarD x) { return transpose(x); }));
  cs.push_back({"embedding", [](std::size_t r, std::size_t c, Rng& rng) {
                  VarD W = randn(5, c, rng, "weight");
                  std::vector<std::int64_t> ids = random_ids(r + 1, 5, rng);
                  ids.back() = ids.front();  // a row used twice gets both contributions
                  return std::pair{std::function<VarD()>([W, ids] { return embedding(W, ids); }),
                                   Inputs{{"weight", W}}};
                }});
  cs.push_back(unary("sum", [](VarD x) { return sum(x); }));
  cs.push_back(unary("mean", [](VarD x) { return mean(x); }));
  cs.push_back(unary("sum_rows", [](VarD x) { return sum_rows(x); }));
  cs.push_back(unary("sum_cols", [](VarD x) { return sum_cols(x); }));
  cs.push_back(unary("softmax", [](VarD x) { return softmax(x); }));
  cs.push_back(unary("log_softmax", [](VarD x) { return log_softmax(x); }));
  for (auto [red, label] : {std::pair{Reduction::Mean, "mean"}, {Reduction::Sum, "sum"}, {Reduction::None, "none"}}) {
    cs.push_back({std::string("cross_entropy/") + label, [red](std::size_t r, std::size_t c, Rng& rng) {
                    VarD x = randn(r, c, rng, "logits");
                    std::vector<std::int64_t> t = random_ids(r, c, rng);
                    if (r > 1) t[0] = -100;  // one ignored row
                    return std::pair{std::function<VarD()>([x, t, red] { return cross_entropy(x, t, -100, red); }),
                                     Inputs{{"logits", x}}};
                  }});
    cs.push_back({std::string("bce_with_logits/") + label, [red](std::size_t r, std::size_t c, Rng& rng) {
                    VarD x = randn(r, c, rng, "logits");
                    Mat<double> y = rng.uniform_mat<double>(r, c, 0, 1);
                    return std::pair{std::function<VarD()>([x, y, red] { return bce_with_logits(x, y, red); }),
                                     Inputs{{"logits", x}}};
                  }});
    cs.push_back({std::string("mse/") + label, [red](std::size_t r, std::size_t c, Rng& rng) {
                    VarD a = randn(r, c, rng, "a"), b = randn(r, c, rng, "b");
                    return std::pair{std::function<VarD()>([a, b, red] { return mse(a, b, red); }),
                                     Inputs{{"a", a}, {"b", b}}};
                  }});
  }
  return cs;
}

}  // namespace

CheckRow to_row(std::string what, std::string shape, const GradCheckResult& r) {
  CheckRow row{std::move(what), std::move(shape)};
  row.ok = r.ok;
  if (const GradCheckEntry* w = r.worst()) {
    row.max_abs_err = w->abs_err;
    row.max_rel_err = w->rel_err;
    row.worst = fmt::format("{} ({}, {})", w->name, w->worst_row, w->worst_col);
  }
  if (!r.ok) row.detail = r.report;
  return row;
}

std::vector<CheckRow> gradcheck_op_sweep(const std::string& filter) {
  static const std::pair<std::size_t, std::size_t> shapes[] = {{1, 1}, {1, 5}, {3, 4}};
  std::vector<CheckRow> rows;
  std::uint64_t seed = 1;
  for (const Case& c : cases()) {
    if (!filter.empty() && ("op " + c.op).find(filter) == std::string::npos) continue;
    for (auto [r, k] : shapes) {
      Rng rng(seed++);
      auto [f, inputs] = c.make(r, k, rng);
      std::string shape;
      for (const auto& [name, v] : inputs) shape += (shape.empty() ? "" : " ") + name + shape_str(v.value());
      rows.push_back(to_row("op " + c.op, shape, gradcheck(f, inputs)));
    }
  }
  return rows;
}

}  // namespace unroll::cli
