// nn/optim_rules.cc — the four update rules (SGD, Adagrad, RMSprop, Adam/AdamW), each one loop over a
// contiguous span so dense tensors and single embedding rows share the code, in blocks so the compiler
// vectorizes them. Formulas mirror torch/optim/*.py (1.13, single-tensor path) operation by operation.
#include "nn/optim.h"

#include "nn/optim_detail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace unroll {

using namespace optim_detail;

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

template class SGD<float>;
template class SGD<double>;
template class Adagrad<float>;
template class Adagrad<double>;
template class RMSprop<float>;
template class RMSprop<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace unroll
