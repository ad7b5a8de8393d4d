// engine/gradcheck.cc — central differences against the tape, in float64.
#include "engine/gradcheck.h"

#include "engine/rng.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace unroll {

namespace {

double project(const Mat<double>& y, const Mat<double>& R) {
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * R.data()[i];
  return s;
}

// L(x) with the graph off: the numerical side never touches the tape.
double loss_at(const std::function<Var<double>()>& f, const Mat<double>& R) {
  NoGradGuard ng;
  Var<double> y = f();
  return project(y.value(), R);
}

// Runs f, seeds backward with R and returns each input's gradient (zeroed first).
std::vector<Mat<double>> analytic_grads(const std::function<Var<double>()>& f,
                                        const std::vector<std::pair<std::string, Var<double>>>& inputs,
                                        const Mat<double>& R) {
  for (auto [name, v] : inputs) v.zero_grad();
  Var<double> y = f();
  UNROLL_CHECK(y.value().shape() == R.shape(), "gradcheck: the function's output changed shape from {} to {}",
               shape_str(R), shape_str(y.value()));
  if (y.requires_grad()) y.backward(R);  // else no input reaches y: every analytic gradient is zero
  std::vector<Mat<double>> g;
  for (const auto& [name, v] : inputs) g.push_back(v.grad());
  return g;
}

double tolerance(double numeric, const GradCheckOptions& o) { return o.atol + o.rtol * std::abs(numeric); }

}  // namespace

const GradCheckEntry* GradCheckResult::worst() const {
  const GradCheckEntry* w = nullptr;
  double worst_score = -1;
  for (const auto& e : entries) {
    double score = std::isnan(e.score) ? 1e300 : e.score;  // scored with the options' atol and rtol
    if (!e.ok) score += 1e30;  // failures first
    if (score > worst_score) { worst_score = score; w = &e; }
  }
  return w;
}

GradCheckResult gradcheck(const std::function<Var<double>()>& f,
                          const std::vector<std::pair<std::string, Var<double>>>& inputs,
                          const GradCheckOptions& o) {
  UNROLL_CHECK(!inputs.empty(), "gradcheck: no inputs to check");
  for (const auto& [name, v] : inputs)
    UNROLL_CHECK(v.defined() && v.requires_grad(), "gradcheck: input '{}' must be a parameter (requires_grad)", name);
  Rng rng(o.seed);
  Mat<double> y0 = [&] { NoGradGuard ng; return f().value(); }();
  Mat<double> R = rng.normal_mat<double>(y0.shape(0), y0.shape(1));

  GradCheckResult res;
  std::vector<Mat<double>> g1 = analytic_grads(f, inputs, R);
  std::vector<Mat<double>> g2 = analytic_grads(f, inputs, R);

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const auto& [name, var] = inputs[k];
    Var<double> v = var;
    Mat<double>& x = v.value();
    GradCheckEntry e;
    e.name = name;
    e.shape = shape_str(x);
    if (!(g1[k] == g2[k])) {  // the culprit is named: its entry fails
      res.repeatable = e.repeatable = e.ok = false;
      e.repeat_diff = std::numeric_limits<double>::infinity();
      if (g1[k].shape() == g2[k].shape()) {
        e.repeat_diff = 0;
        for (std::size_t i = 0; i < g1[k].size(); ++i)
          e.repeat_diff = std::max(e.repeat_diff, std::abs(g1[k].data()[i] - g2[k].data()[i]));
      }
    }

    // Which entries: all, or a seeded subset for large inputs.
    std::vector<std::size_t> idx(x.size());
    std::iota(idx.begin(), idx.end(), 0);
    if (x.size() > o.full_limit) {
      const std::size_t k = std::min(o.subset, idx.size());  // a subset larger than the input is the input
      for (std::size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + rng.below(idx.size() - i)]);
      idx.resize(k);
    }
    double worst_score = -1;
    for (std::size_t i : idx) {
      const double saved = x.data()[i];
      x.data()[i] = saved + o.eps;
      const double lp = loss_at(f, R);
      x.data()[i] = saved - o.eps;
      const double lm = loss_at(f, R);
      x.data()[i] = saved;
      const double num = (lp - lm) / (2 * o.eps);
      const double ana = g1[k].data()[i];
      const double err = std::abs(ana - num);
      const double score = err / tolerance(num, o);
      e.max_rel_err = std::max(e.max_rel_err, err / std::max(std::abs(num), 1e-12));
      if (!(score <= 1.0)) e.ok = false;  // NaN fails too
      if (score > worst_score || std::isnan(score)) {
        worst_score = std::isnan(score) ? 1e300 : score;
        e.worst_row = i / x.shape(1);
        e.worst_col = i % x.shape(1);
        e.analytic = ana;
        e.numeric = num;
        e.abs_err = err;
        e.rel_err = err / std::max(std::abs(num), 1e-12);
      }
      ++e.checked;
    }
    e.score = std::max(worst_score, 0.0);
    if (x.size() > o.full_limit) {  // one random direction covers every entry at once
      Mat<double> d = rng.normal_mat<double>(x.shape(0), x.shape(1));
      Mat<double> saved = x;
      x = saved + o.eps * d;
      const double lp = loss_at(f, R);
      x = saved - o.eps * d;
      const double lm = loss_at(f, R);
      x = saved;
      e.direction_checked = true;
      e.direction_numeric = (lp - lm) / (2 * o.eps);
      e.direction_analytic = project(g1[k], d);
      const double err = std::abs(e.direction_analytic - e.direction_numeric);
      const double dscore = err / tolerance(e.direction_numeric, o);
      if (!(dscore <= 1.0)) e.ok = false;
      e.score = std::max(e.score, std::isnan(dscore) ? 1e300 : dscore);
      ++e.checked;
    }
    res.ok = res.ok && e.ok;
    res.entries.push_back(e);
  }
  res.ok = res.ok && res.repeatable;

  // Report: the culprit first when something failed.
  std::string rep;
  std::vector<const GradCheckEntry*> order;
  for (const auto& e : res.entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return !a->ok && b->ok; });
  for (const auto* e : order) {
    rep += fmt::format("{} {} {}: ", e->ok ? "ok  " : "FAIL", e->name, e->shape);
    if (!e->repeatable)
      rep += fmt::format("backward twice gave different gradients (max diff {:.3g}); first pass ", e->repeat_diff);
    rep += fmt::format("worst at ({}, {}): analytic {:.9g}, numeric {:.9g}, abs err {:.3g}, rel err {:.3g} ({} checked)",
                       e->worst_row, e->worst_col, e->analytic, e->numeric, e->abs_err, e->rel_err, e->checked);
    if (e->direction_checked)
      rep += fmt::format("; random direction: analytic {:.9g}, numeric {:.9g}", e->direction_analytic,
                         e->direction_numeric);
    rep += "\n";
  }
  if (!res.repeatable) rep += "FAIL backward twice gave different gradients (a backward that assigns or keeps state)\n";
  res.report = rep;
  return res;
}

}  // namespace unroll
