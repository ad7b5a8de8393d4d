// nn/optim.cc — the optimizer base: the finite-gradient pre-pass (which also finds the non-zero rows of
// sparse_rows parameters), the update loop over parameters and rows, zero_grad, and state export/import.
// The update rules themselves live in nn/optim_rules.cc.
#include "nn/optim.h"

#include "nn/clip.h"
#include "nn/optim_detail.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace unroll {

using namespace optim_detail;

namespace {

// One read of a gradient: is every entry finite, and (rows != nullptr) which rows are non-zero.
// Written as OR-reductions over plain loops so the compiler vectorizes them; (v - v) != 0 is true
// exactly for NaN and ±Inf.
template <class T>
bool scan_grad(const Mat<T>& g, std::vector<std::size_t>* rows) {
  const T* d = g.data();
  const std::size_t R = g.shape(0), C = g.shape(1);
  unsigned bad = 0;
  if (!rows) {
    for (std::size_t i = 0; i < R * C; ++i) bad |= unsigned((d[i] - d[i]) != T(0));
    return bad == 0;
  }
  rows->clear();
  for (std::size_t r = 0; r < R; ++r) {
    const T* gr = d + r * C;
    unsigned nz = 0;
    for (std::size_t c = 0; c < C; ++c) {
      nz |= unsigned(gr[c] != T(0));
      bad |= unsigned((gr[c] - gr[c]) != T(0));
    }
    if (nz) rows->push_back(r);
  }
  return bad == 0;
}

// The same over the listed rows only (the rest of the gradient is known to be zero).
template <class T>
bool scan_grad_rows(const Mat<T>& g, const std::vector<std::size_t>& listed, std::vector<std::size_t>* rows) {
  const std::size_t C = g.shape(1);
  unsigned bad = 0;
  if (rows) rows->clear();
  for (std::size_t r : listed) {
    const T* gr = g.data() + r * C;
    unsigned nz = 0;
    for (std::size_t c = 0; c < C; ++c) {
      nz |= unsigned(gr[c] != T(0));
      bad |= unsigned((gr[c] - gr[c]) != T(0));
    }
    if (nz && rows) rows->push_back(r);
  }
  return bad == 0;
}

}  // namespace

// ---- base ------------------------------------------------------------------------------------------
template <class T>
Optimizer<T>::Optimizer(std::vector<NamedParam<T>> params, double lr) : lr_(lr), params_(std::move(params)) {
  UNROLL_CHECK(lr >= 0 && std::isfinite(lr), "optimizer: learning rate must be finite and >= 0, got {}", lr);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    UNROLL_CHECK(params_[i].var.defined(), "optimizer: parameter {} ('{}') is an undefined Var", i, params_[i].name);
    for (std::size_t j = 0; j < i; ++j) {
      UNROLL_CHECK(params_[j].name != params_[i].name, "optimizer: parameter name '{}' appears twice (positions {} and {})",
                   params_[i].name, j, i);
      UNROLL_CHECK(params_[j].var.node() != params_[i].var.node(),
                   "optimizer: the same tensor is given twice ('{}' and '{}'); it would be updated twice",
                   params_[j].name, params_[i].name);
    }
  }
  sparse_.assign(params_.size(), 0);
  step_.assign(params_.size(), 0);
  buf_.resize(params_.size());
  rows_.resize(params_.size());
  listed_.assign(params_.size(), 0);
}

template <class T>
void Optimizer<T>::set_lr(double lr) {
  UNROLL_CHECK(lr >= 0 && std::isfinite(lr), "{}.set_lr: learning rate must be finite and >= 0, got {}", type(), lr);
  lr_ = lr;
}

template <class T>
std::size_t Optimizer<T>::index_of(const std::string& name, const char* what) const {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return i;
  throw ShapeError(fmt::format("{}.{}: no parameter named '{}' ({} parameters)", type(), what, name, params_.size()));
}

template <class T>
std::size_t Optimizer<T>::find(const std::string& name) const {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return i;
  return params_.size();
}

template <class T>
void Optimizer<T>::set_sparse_rows(const std::string& name, bool on) {
  sparse_[index_of(name, "set_sparse_rows")] = on;
}
template <class T>
void Optimizer<T>::set_sparse_rows(bool on) {
  std::fill(sparse_.begin(), sparse_.end(), char(on));
}
template <class T>
bool Optimizer<T>::sparse_rows(const std::string& name) const {
  return sparse_[index_of(name, "sparse_rows")];
}
template <class T>
std::uint64_t Optimizer<T>::step_count(const std::string& name) const {
  return step_[index_of(name, "step_count")];
}
template <class T>
std::string Optimizer<T>::format_lr() const {
  return num(lr_);
}

template <class T>
void Optimizer<T>::step() {
  // Pass 1 reads every gradient once and writes nothing: a non-finite entry refuses the whole step.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Var<T>& v = params_[i].var;
    const Mat<T>& g = v.grad();
    if (g.size() == 0) continue;
    UNROLL_CHECK(g.shape() == v.value().shape(), "{}.step: gradient of '{}' is {}, the parameter is {}", type(),
                 params_[i].name, shape_str(g), shape_str(v.value()));
    // A row-tracked gradient (engine/var.h) is read only in the rows backward wrote; the others are zero.
    const std::vector<std::size_t>* listed = v.grad_rows();
    listed_[i] = listed != nullptr;
    const bool ok = listed ? scan_grad_rows(g, *listed, sparse_[i] || zero_grad_noop() ? &rows_[i] : nullptr)
                           : scan_grad(g, sparse_[i] ? &rows_[i] : nullptr);
    if (!ok) {
      check_finite_grads(params_, type() + ".step");  // throws, naming the parameter and the entry
      throw NumericError(fmt::format("{}.step: gradient of '{}' is not finite; step refused", type(), params_[i].name));
    }
  }
  // Pass 2: the updates.
  const std::vector<std::string> names = buffer_names();
  const std::size_t nb = names.size();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Node<T>& v = *params_[i].var.node();  // the node: Var::grad() would mark a row-tracked gradient dense
    const Mat<T>& g = v.grad;
    if (g.size() == 0) continue;
    Mat<T>& p = v.value;
    const std::uint64_t step = ++step_[i];
    const bool first = step == 1;
    auto& bufs = buf_[i];
    if (bufs.size() != nb) bufs.resize(nb);
    for (std::size_t k = 0; k < nb; ++k)
      if (bufs[k].shape() != p.shape()) bufs[k] = full<T>(p.shape(0), p.shape(1), buffer_init(k));
    std::array<T*, 4> bp{};
    // Dense semantics, but a zero gradient leaves weights and state bitwise as they are (plain SGD,
    // Adagrad without weight decay) and only the listed rows can be non-zero: the same result, row by row.
    const bool rows_only = sparse_[i] || (listed_[i] && zero_grad_noop());
    if (!rows_only) {
      for (std::size_t k = 0; k < nb; ++k) bp[k] = bufs[k].data();
      update_span(p.data(), g.data(), bp.data(), p.size(), Span{step, first, false});
    } else {
      const std::size_t C = p.shape(1);
      for (std::size_t r : rows_[i]) {
        for (std::size_t k = 0; k < nb; ++k) bp[k] = bufs[k].data() + r * C;
        update_span(p.data() + r * C, g.data() + r * C, bp.data(), C, Span{step, first, bool(sparse_[i])});
      }
    }
  }
  ++steps_taken_;
}

template <class T>
void Optimizer<T>::zero_grad(bool set_to_none) {
  for (auto& np : params_) {
    Node<T>& n = *np.var.node();
    if (set_to_none) {
      n.grad = Mat<T>();
      n.grad_rows.clear();
      n.grad_rows_dense = false;
    } else if (n.grad.size() > 0) {  // an empty gradient stays empty (PyTorch: `if p.grad is not None`)
      np.var.zero_grad_in_place();  // only the rows backward wrote, when those are known
    }
  }
}

template <class T>
typename Optimizer<T>::StateTensors Optimizer<T>::state() const {
  StateTensors out;
  const std::vector<std::string> names = buffer_names();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (step_[i] == 0) continue;
    for (std::size_t k = 0; k < names.size() && k < buf_[i].size(); ++k)
      out.emplace_back(names[k] + "." + params_[i].name, buf_[i][k]);
  }
  return out;
}

template <class T>
typename Optimizer<T>::StateMeta Optimizer<T>::state_meta() const {
  StateMeta m = hyper_meta();
  m["type"] = type();
  m["lr"] = num(lr_);
  m["steps"] = std::to_string(steps_taken_);
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (step_[i] > 0) m["step." + params_[i].name] = std::to_string(step_[i]);
  return m;
}

template <class T>
void Optimizer<T>::load_state(const StateTensors& tensors, const StateMeta& meta) {
  const std::string who = type();
  const std::string& t = need(meta, "type", who);
  UNROLL_CHECK(t == who, "{}.load_state: the state was saved by a {} optimizer", who, t);
  // Parse everything into locals first; nothing of this optimizer changes until all of it checks out.
  const double lr = parse_num(meta, "lr", who);
  UNROLL_CHECK(lr >= 0 && std::isfinite(lr), "{}.load_state: learning rate {} is not finite and >= 0", who, lr);
  const std::uint64_t steps = parse_count(need(meta, "steps", who), "steps", who);
  std::vector<std::uint64_t> step(params_.size(), 0);
  for (const auto& [key, value] : meta) {
    if (key.rfind("step.", 0) != 0) continue;
    const std::size_t i = find(key.substr(5));
    UNROLL_CHECK(i < params_.size(), "{}.load_state: metadata '{}' names no parameter of this optimizer ({} parameters)",
                 who, key, params_.size());
    step[i] = parse_count(value, key, who);
  }
  const StateMeta old_hyper = hyper_meta();
  load_hyper_meta(meta);  // validates and applies; rolled back below on any later failure
  try {
    const std::vector<std::string> names = buffer_names();
    std::vector<std::vector<Mat<T>>> buf(params_.size());
    for (const auto& [key, value] : tensors) {
      std::size_t b = names.size(), i = params_.size();
      for (std::size_t k = 0; k < names.size() && b == names.size(); ++k)
        if (key.size() > names[k].size() + 1 && key.compare(0, names[k].size() + 1, names[k] + ".") == 0) {
          b = k;
          i = find(key.substr(names[k].size() + 1));
        }
      UNROLL_CHECK(b < names.size(), "{}.load_state: tensor '{}' is not a state buffer of this configuration ({})", who,
                   key, fmt::join(names, ", "));
      UNROLL_CHECK(i < params_.size(), "{}.load_state: tensor '{}' names no parameter of this optimizer ('{}'; {} parameters)",
                   who, key, key.substr(names[b].size() + 1), params_.size());
      const Mat<T>& p = params_[i].var.value();
      UNROLL_CHECK(value.shape() == p.shape(), "{}.load_state: tensor '{}' is {}, parameter '{}' is {}", who, key,
                   shape_str(value), params_[i].name, shape_str(p));
      UNROLL_CHECK(step[i] > 0, "{}.load_state: tensor '{}' given but parameter '{}' has no step count", who, key,
                   params_[i].name);
      if (buf[i].empty()) buf[i].resize(names.size());
      UNROLL_CHECK(buf[i][b].size() == 0, "{}.load_state: tensor '{}' appears twice", who, key);
      buf[i][b] = value;
    }
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (step[i] == 0) continue;
      for (std::size_t k = 0; k < names.size(); ++k)
        UNROLL_CHECK(!buf[i].empty() && buf[i][k].size() > 0, "{}.load_state: parameter '{}' has a step count but no '{}' tensor",
                     who, params_[i].name, names[k] + "." + params_[i].name);
    }
    lr_ = lr;
    steps_taken_ = steps;
    step_ = std::move(step);
    buf_ = std::move(buf);
  } catch (...) {
    load_hyper_meta(old_hyper);
    throw;
  }
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace unroll
