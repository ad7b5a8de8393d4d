// nn/optim.cc — the optimizer base (finite-gradient pre-pass, sparse rows, state export/import) and the
// four update rules, each written as one loop over a contiguous span so dense tensors and single
// embedding rows share the same code. Formulas mirror torch/optim/*.py (1.13, single-tensor path),
// operation by operation.
#include "nn/optim.h"

#include "nn/clip.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace unroll {

namespace {

// Shortest decimal that reads back to the same double (fmt's default), so saved hyperparameters
// restore bitwise.
std::string num(double v) { return fmt::format("{}", v); }
std::string flag(bool v) { return v ? "true" : "false"; }

const std::string& need(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  auto it = m.find(key);
  UNROLL_CHECK(it != m.end(), "{}.load_state: metadata key '{}' is missing", who, key);
  return it->second;
}
double parse_num(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  const std::string& s = need(m, key, who);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  UNROLL_CHECK(used == s.size() && !s.empty(), "{}.load_state: metadata '{}' = '{}' is not a number", who, key, s);
  return v;
}
bool parse_flag(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  const std::string& s = need(m, key, who);
  UNROLL_CHECK(s == "true" || s == "false", "{}.load_state: metadata '{}' = '{}' is not true/false", who, key, s);
  return s == "true";
}
std::uint64_t parse_count(const std::string& s, const std::string& key, const std::string& who) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  UNROLL_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(),
               "{}.load_state: metadata '{}' = '{}' is not a non-negative integer", who, key, s);
  return v;
}

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

// Update loops run in blocks of this many entries (a stack buffer of square roots).
constexpr std::size_t kBlock = 256;

// x := √x over a span. GCC will not vectorize std::sqrt without -fno-math-errno, so the SSE2 path uses
// the packed instruction, which is the same correctly rounded IEEE square root (bitwise equal results).
inline void sqrt_span(float* x, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}
inline void sqrt_span(double* x, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(x + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
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
    if (!scan_grad(g, sparse_[i] ? &rows_[i] : nullptr)) {
      check_finite_grads(params_, type() + ".step");  // throws, naming the parameter and the entry
      throw NumericError(fmt::format("{}.step: gradient of '{}' is not finite; step refused", type(), params_[i].name));
    }
  }
  // Pass 2: the updates.
  const std::vector<std::string> names = buffer_names();
  const std::size_t nb = names.size();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Var<T> v = params_[i].var;
    const Mat<T>& g = v.grad();
    if (g.size() == 0) continue;
    Mat<T>& p = v.value();
    const std::uint64_t step = ++step_[i];
    const bool first = step == 1;
    auto& bufs = buf_[i];
    if (bufs.size() != nb) bufs.resize(nb);
    for (std::size_t k = 0; k < nb; ++k)
      if (bufs[k].shape() != p.shape()) bufs[k] = full<T>(p.shape(0), p.shape(1), buffer_init(k));
    std::array<T*, 4> bp{};
    if (!sparse_[i]) {
      for (std::size_t k = 0; k < nb; ++k) bp[k] = bufs[k].data();
      update_span(p.data(), g.data(), bp.data(), p.size(), Span{step, first, false});
    } else {
      const std::size_t C = p.shape(1);
      for (std::size_t r : rows_[i]) {
        for (std::size_t k = 0; k < nb; ++k) bp[k] = bufs[k].data() + r * C;
        update_span(p.data() + r * C, g.data() + r * C, bp.data(), C, Span{step, first, true});
      }
    }
  }
  ++steps_taken_;
}

template <class T>
void Optimizer<T>::zero_grad(bool set_to_none) {
  for (auto& np : params_) {
    Var<T> v = np.var;
    if (set_to_none)
      v.grad() = Mat<T>();
    else if (v.grad().size() > 0)  // an empty gradient stays empty (PyTorch: `if p.grad is not None`)
      std::fill(v.grad().begin(), v.grad().end(), T(0));
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

// ---- SGD ---------------------------------------------------------------------------------------------
template <class T>
SGD<T>::SGD(std::vector<NamedParam<T>> params, const SGDOptions& o) : Optimizer<T>(std::move(params), o.lr), o_(o) {
  UNROLL_CHECK(o.momentum >= 0 && o.weight_decay >= 0 && o.dampening >= 0,
               "SGD: momentum {}, dampening {} and weight_decay {} must be >= 0", o.momentum, o.dampening, o.weight_decay);
  UNROLL_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
               "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum {}, dampening {}", o.momentum, o.dampening);
  this->set_sparse_rows(o.sparse_rows);
}

template <class T>
std::string SGD<T>::describe() const {
  return fmt::format("SGD(lr={}, momentum={}, dampening={}, weight_decay={}, nesterov={})", this->format_lr(),
                     num(o_.momentum), num(o_.dampening), num(o_.weight_decay), flag(o_.nesterov));
}

template <class T>
std::vector<std::string> SGD<T>::buffer_names() const {
  if (o_.momentum != 0) return {"momentum_buffer"};
  return {};
}

template <class T>
void SGD<T>::update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) {
  const T wd = T(o_.weight_decay), mom = T(o_.momentum), damp1 = T(1 - o_.dampening), neg_lr = T(-this->lr_);
  const bool use_wd = o_.weight_decay != 0, use_mom = o_.momentum != 0, nesterov = o_.nesterov;
  for (std::size_t j = 0; j < n; ++j) {
    T d = g[j];
    if (use_wd) d = d + wd * p[j];
    if (use_mom) {
      T& b = buf[0][j];
      b = s.first ? d : b * mom + damp1 * d;
      d = nesterov ? d + mom * b : b;
    }
    p[j] = p[j] + neg_lr * d;
  }
}

template <class T>
typename Optimizer<T>::StateMeta SGD<T>::hyper_meta() const {
  return {{"momentum", num(o_.momentum)}, {"dampening", num(o_.dampening)}, {"weight_decay", num(o_.weight_decay)},
          {"nesterov", flag(o_.nesterov)}};
}
template <class T>
void SGD<T>::load_hyper_meta(const typename Optimizer<T>::StateMeta& m) {
  SGDOptions o = o_;
  o.momentum = parse_num(m, "momentum", "SGD");
  o.dampening = parse_num(m, "dampening", "SGD");
  o.weight_decay = parse_num(m, "weight_decay", "SGD");
  o.nesterov = parse_flag(m, "nesterov", "SGD");
  o_ = o;
}

// ---- Adagrad -----------------------------------------------------------------------------------------
template <class T>
Adagrad<T>::Adagrad(std::vector<NamedParam<T>> params, const AdagradOptions& o)
    : Optimizer<T>(std::move(params), o.lr), o_(o) {
  UNROLL_CHECK(o.lr_decay >= 0 && o.weight_decay >= 0 && o.initial_accumulator_value >= 0 && o.eps >= 0,
               "Adagrad: lr_decay {}, weight_decay {}, initial_accumulator_value {} and eps {} must be >= 0", o.lr_decay,
               o.weight_decay, o.initial_accumulator_value, o.eps);
  this->set_sparse_rows(o.sparse_rows);
}

template <class T>
std::string Adagrad<T>::describe() const {
  return fmt::format("Adagrad(lr={}, lr_decay={}, weight_decay={}, initial_accumulator_value={}, eps={})",
                     this->format_lr(), num(o_.lr_decay), num(o_.weight_decay), num(o_.initial_accumulator_value),
                     num(o_.eps));
}

template <class T>
void Adagrad<T>::update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) {
  const double clr = this->lr_ / (1 + double(s.step - 1) * o_.lr_decay);
  const T neg_clr = T(-clr), wd = T(o_.weight_decay), eps = T(o_.eps);
  const bool use_wd = o_.weight_decay != 0;
  T* sum = buf[0];
  T root[kBlock];
  for (std::size_t j0 = 0; j0 < n; j0 += kBlock) {  // blocks: accumulate, square roots, weights
    const std::size_t len = std::min(kBlock, n - j0);
    for (std::size_t j = j0; j < j0 + len; ++j) {
      const T d = use_wd ? g[j] + wd * p[j] : g[j];
      sum[j] = sum[j] + d * d;
      root[j - j0] = sum[j];
    }
    sqrt_span(root, len);
    for (std::size_t j = j0; j < j0 + len; ++j) {
      const T d = use_wd ? g[j] + wd * p[j] : g[j];
      p[j] = p[j] + neg_clr * d / (root[j - j0] + eps);
    }
  }
}

template <class T>
typename Optimizer<T>::StateMeta Adagrad<T>::hyper_meta() const {
  return {{"lr_decay", num(o_.lr_decay)}, {"weight_decay", num(o_.weight_decay)},
          {"initial_accumulator_value", num(o_.initial_accumulator_value)}, {"eps", num(o_.eps)}};
}
template <class T>
void Adagrad<T>::load_hyper_meta(const typename Optimizer<T>::StateMeta& m) {
  AdagradOptions o = o_;
  o.lr_decay = parse_num(m, "lr_decay", "Adagrad");
  o.weight_decay = parse_num(m, "weight_decay", "Adagrad");
  o.initial_accumulator_value = parse_num(m, "initial_accumulator_value", "Adagrad");
  o.eps = parse_num(m, "eps", "Adagrad");
  o_ = o;
}

// ---- RMSprop -----------------------------------------------------------------------------------------
template <class T>
RMSprop<T>::RMSprop(std::vector<NamedParam<T>> params, const RMSpropOptions& o)
    : Optimizer<T>(std::move(params), o.lr), o_(o) {
  UNROLL_CHECK(o.alpha >= 0 && o.alpha <= 1 && o.eps >= 0 && o.weight_decay >= 0 && o.momentum >= 0,
               "RMSprop: alpha {} must be in [0, 1]; eps {}, weight_decay {}, momentum {} must be >= 0", o.alpha, o.eps,
               o.weight_decay, o.momentum);
  this->set_sparse_rows(o.sparse_rows);
}

template <class T>
std::string RMSprop<T>::describe() const {
  return fmt::format("RMSprop(lr={}, alpha={}, eps={}, weight_decay={}, momentum={}, centered={})", this->format_lr(),
                     num(o_.alpha), num(o_.eps), num(o_.weight_decay), num(o_.momentum), flag(o_.centered));
}

template <class T>
std::vector<std::string> RMSprop<T>::buffer_names() const {
  std::vector<std::string> n{"square_avg"};
  if (o_.momentum > 0) n.push_back("momentum_buffer");
  if (o_.centered) n.push_back("grad_avg");
  return n;
}

template <class T>
void RMSprop<T>::update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span&) {
  const T a = T(o_.alpha), a1 = T(1 - o_.alpha), eps = T(o_.eps), wd = T(o_.weight_decay), mom = T(o_.momentum),
          neg_lr = T(-this->lr_);
  const bool use_wd = o_.weight_decay != 0, use_mom = o_.momentum > 0, centered = o_.centered;
  T* sq = buf[0];
  T* mb = use_mom ? buf[1] : nullptr;
  T* ga = centered ? buf[use_mom ? 2 : 1] : nullptr;
  T root[kBlock];
  for (std::size_t j0 = 0; j0 < n; j0 += kBlock) {  // blocks: averages, square roots, weights
    const std::size_t len = std::min(kBlock, n - j0);
    for (std::size_t j = j0; j < j0 + len; ++j) {
      const T d = use_wd ? g[j] + wd * p[j] : g[j];
      sq[j] = sq[j] * a + a1 * d * d;
      if (centered) {
        ga[j] = ga[j] * a + a1 * d;
        root[j - j0] = sq[j] + T(-1) * ga[j] * ga[j];
      } else {
        root[j - j0] = sq[j];
      }
    }
    sqrt_span(root, len);
    for (std::size_t j = j0; j < j0 + len; ++j) {
      const T d = use_wd ? g[j] + wd * p[j] : g[j];
      const T avg = root[j - j0] + eps;
      if (use_mom) {
        mb[j] = mb[j] * mom + d / avg;
        p[j] = p[j] + neg_lr * mb[j];
      } else {
        p[j] = p[j] + neg_lr * d / avg;
      }
    }
  }
}

template <class T>
typename Optimizer<T>::StateMeta RMSprop<T>::hyper_meta() const {
  return {{"alpha", num(o_.alpha)},       {"eps", num(o_.eps)},           {"weight_decay", num(o_.weight_decay)},
          {"momentum", num(o_.momentum)}, {"centered", flag(o_.centered)}};
}
template <class T>
void RMSprop<T>::load_hyper_meta(const typename Optimizer<T>::StateMeta& m) {
  RMSpropOptions o = o_;
  o.alpha = parse_num(m, "alpha", "RMSprop");
  o.eps = parse_num(m, "eps", "RMSprop");
  o.weight_decay = parse_num(m, "weight_decay", "RMSprop");
  o.momentum = parse_num(m, "momentum", "RMSprop");
  o.centered = parse_flag(m, "centered", "RMSprop");
  o_ = o;
}

// ---- Adam / AdamW ------------------------------------------------------------------------------------
template <class T>
Adam<T>::Adam(std::vector<NamedParam<T>> params, const AdamOptions& o) : Optimizer<T>(std::move(params), o.lr), o_(o) {
  UNROLL_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
               "Adam: betas must be in [0, 1), got ({}, {})", o.beta1, o.beta2);
  UNROLL_CHECK(o.eps >= 0 && o.weight_decay >= 0, "Adam: eps {} and weight_decay {} must be >= 0", o.eps, o.weight_decay);
  this->set_sparse_rows(o.sparse_rows);
}

template <class T>
std::string Adam<T>::describe() const {
  return fmt::format("{}(lr={}, betas=({}, {}), eps={}, weight_decay={}, amsgrad={})", type(), this->format_lr(),
                     num(o_.beta1), num(o_.beta2), num(o_.eps), num(o_.weight_decay), flag(o_.amsgrad));
}

template <class T>
std::vector<std::string> Adam<T>::buffer_names() const {
  if (o_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

namespace {

// Per-step constants of an Adam update (computed once per parameter and step, not per row).
template <class T>
struct AdamConsts {
  T b1, b1c, b2, b2c, eps, wd, shrink, neg_step_size, bc2_sqrt;
};

// One span, every option a template parameter so each variant is a branch-free loop. Done in blocks:
// moments (vectorized), square roots (packed), weights (vectorized).
// Wd: 0 none, 1 L2 added to the gradient (Adam), 2 decoupled (AdamW).
template <class T, bool Rows, bool Ams, int Wd>
void adam_kernel(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
                 std::size_t n, const AdamConsts<T>& c) {
  T root[kBlock];
  for (std::size_t j0 = 0; j0 < n; j0 += kBlock) {
    const std::size_t len = std::min(kBlock, n - j0);
    T* pp = p + j0;
    const T* gg = g + j0;
    T* mm = m + j0;
    T* vv = v + j0;
    for (std::size_t j = 0; j < len; ++j) {
      T d = gg[j];
      if constexpr (Wd == 1) d = d + c.wd * pp[j];
      if constexpr (Wd == 2) pp[j] = pp[j] * c.shrink;
      if constexpr (!Rows) {  // torch/optim/adam.py, _single_tensor_adam
        mm[j] = mm[j] * c.b1 + c.b1c * d;
        vv[j] = vv[j] * c.b2 + c.b2c * d * d;
      } else {  // torch/optim/_functional.py, sparse_adam
        mm[j] = mm[j] + (d - mm[j]) * c.b1c;
        vv[j] = vv[j] + (d * d - vv[j]) * c.b2c;
      }
      if constexpr (Ams) {
        T* vm = vmax + j0;
        vm[j] = vm[j] < vv[j] ? vv[j] : vm[j];
        root[j] = vm[j];
      } else {
        root[j] = vv[j];
      }
    }
    sqrt_span(root, len);
    for (std::size_t j = 0; j < len; ++j) {
      if constexpr (!Rows)
        pp[j] = pp[j] + c.neg_step_size * mm[j] / (root[j] / c.bc2_sqrt + c.eps);
      else  // SparseAdam does not scale eps by the bias correction; its step size carries √bc2 instead
        pp[j] = pp[j] + c.neg_step_size * (mm[j] / (root[j] + c.eps));
    }
  }
}

template <class T, bool Rows>
void adam_dispatch(bool ams, int wd, T* p, const T* g, T* const* buf, std::size_t n, const AdamConsts<T>& c) {
  T* vmax = ams ? buf[2] : nullptr;
  if (ams) {
    if (wd == 0) return adam_kernel<T, Rows, true, 0>(p, g, buf[0], buf[1], vmax, n, c);
    if (wd == 1) return adam_kernel<T, Rows, true, 1>(p, g, buf[0], buf[1], vmax, n, c);
    return adam_kernel<T, Rows, true, 2>(p, g, buf[0], buf[1], vmax, n, c);
  }
  if (wd == 0) return adam_kernel<T, Rows, false, 0>(p, g, buf[0], buf[1], vmax, n, c);
  if (wd == 1) return adam_kernel<T, Rows, false, 1>(p, g, buf[0], buf[1], vmax, n, c);
  return adam_kernel<T, Rows, false, 2>(p, g, buf[0], buf[1], vmax, n, c);
}

}  // namespace

template <class T>
void Adam<T>::update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) {
  const double lr = this->lr_;
  // The bias corrections change with the step only: a sparse parameter calls this once per row.
  if (s.step != cache_step_) {
    cache_step_ = s.step;
    cache_bc1_ = 1 - std::pow(o_.beta1, double(s.step));
    cache_bc2_ = 1 - std::pow(o_.beta2, double(s.step));
  }
  const double bc1 = cache_bc1_, bc2 = cache_bc2_;
  AdamConsts<T> c{T(o_.beta1), T(1 - o_.beta1), T(o_.beta2), T(1 - o_.beta2), T(o_.eps), T(o_.weight_decay),
                  T(1 - lr * o_.weight_decay), T(0), T(std::sqrt(bc2))};
  c.neg_step_size = s.rows ? T(-(lr * std::sqrt(bc2) / bc1)) : T(-(lr / bc1));
  const int wd = o_.weight_decay == 0 ? 0 : o_.decoupled_weight_decay ? 2 : 1;
  if (s.rows)
    adam_dispatch<T, true>(o_.amsgrad, wd, p, g, buf, n, c);
  else
    adam_dispatch<T, false>(o_.amsgrad, wd, p, g, buf, n, c);
}

template <class T>
typename Optimizer<T>::StateMeta Adam<T>::hyper_meta() const {
  return {{"beta1", num(o_.beta1)}, {"beta2", num(o_.beta2)}, {"eps", num(o_.eps)},
          {"weight_decay", num(o_.weight_decay)}, {"amsgrad", flag(o_.amsgrad)}};
}
template <class T>
void Adam<T>::load_hyper_meta(const typename Optimizer<T>::StateMeta& m) {
  AdamOptions o = o_;
  o.beta1 = parse_num(m, "beta1", type());
  o.beta2 = parse_num(m, "beta2", type());
  o.eps = parse_num(m, "eps", type());
  o.weight_decay = parse_num(m, "weight_decay", type());
  o.amsgrad = parse_flag(m, "amsgrad", type());
  o_ = o;
  cache_step_ = 0;  // the betas may have changed
}

template class Optimizer<float>;
template class Optimizer<double>;
template class SGD<float>;
template class SGD<double>;
template class Adagrad<float>;
template class Adagrad<double>;
template class RMSprop<float>;
template class RMSprop<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace unroll
