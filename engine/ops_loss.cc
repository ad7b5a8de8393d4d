// engine/ops_loss.cc — softmax, log-softmax and the losses.
// cross_entropy is fused with log-softmax on purpose: softmax then log loses precision and overflows for
// large logits; shifting each row by its max and using logsumexp keeps it finite for logits of ±1e4.
#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/vec_math.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace unroll {

namespace {
// Row r of x [.., K]: m = max_k x[r, k] and out[k] = e^(x[r, k] - m); returns s = Σ_k out[k] (≥ 1).
// float: engine/vec_math.h (16 lanes); double: std::exp.
template <class T>
T exp_shift_row(const T* xr, T* out, std::size_t K, T& m) {
  if constexpr (std::is_same_v<T, float>) {
    m = max_f32(xr, K);
    return exp_shift_sum_f32(xr, m, out, K);
  } else {
    m = xr[0];
    for (std::size_t k = 1; k < K; ++k) m = std::max(m, xr[k]);
    T s = 0;
    for (std::size_t k = 0; k < K; ++k) s += out[k] = std::exp(xr[k] - m);
    return s;
  }
}

// A row of K entries costs ~20 flops an entry (the exponential): the rows split across threads (parallel.h).
template <class F>
void over_rows(std::size_t B, std::size_t K, F&& fn) {
  parallel_rows(B, 20.0 * double(K), fn);
}

// out[r, :] = x[r, :] - logsumexp(x[r, :]), max-shifted for stability.
template <class T>
Mat<T> log_softmax_rows(const Mat<T>& x) {
  const std::size_t B = x.shape(0), K = x.shape(1);
  Mat<T> out = Mat<T>::from_shape({B, K});
  over_rows(B, K, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const T* xr = x.data() + r * K;
      T* o = out.data() + r * K;
      T m;
      const T s = exp_shift_row(xr, o, K, m);  // o is scratch here
      // (x - m) - log s, not x - (m + log s): m + log s rounds to the spacing of m (1e-3 at 1e4 in float),
      // which would cost softmax three digits at large logits.
      const T log_s = std::log(s);
      for (std::size_t k = 0; k < K; ++k) o[k] = (xr[k] - m) - log_s;
    }
  });
  return out;
}
template <class T>
void check_logits(const char* op, const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "{}: input is an undefined Var", op);
  UNROLL_CHECK(x.cols() > 0, "{}: input has no columns ({})", op, shape_str(x.value()));
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// softmax   y_rk = e^(x_rk - m_r) / Σ_k e^(x_rk - m_r)           X [B, K], row-wise
// backward  dx_r += y_r ⊙ (dy_r - <dy_r, y_r>)
template <class T>
Var<T> softmax(const Var<T>& x) {
  check_logits("softmax", x);
  Mat<T> y = xt::exp(log_softmax_rows(x.value()));
  return make_op<T>("softmax", std::move(y), {x}, [](Node<T>& out) {
    const std::size_t B = out.value.shape(0), K = out.value.shape(1);
    Mat<T>& dx = out.parent(0).grad;
    for (std::size_t r = 0; r < B; ++r) {
      T dot = 0;
      for (std::size_t k = 0; k < K; ++k) dot += out.grad(r, k) * out.value(r, k);
      for (std::size_t k = 0; k < K; ++k) dx(r, k) += out.value(r, k) * (out.grad(r, k) - dot);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// log_softmax  y_rk = x_rk - logsumexp(x_r)    X [B, K], row-wise
// backward     dx_r += dy_r - softmax(x_r) · Σ_k dy_rk
template <class T>
Var<T> log_softmax(const Var<T>& x) {
  check_logits("log_softmax", x);
  Mat<T> y = log_softmax_rows(x.value());
  return make_op<T>("log_softmax", std::move(y), {x}, [](Node<T>& out) {
    const std::size_t B = out.value.shape(0), K = out.value.shape(1);
    Mat<T>& dx = out.parent(0).grad;
    for (std::size_t r = 0; r < B; ++r) {
      T s = 0;
      for (std::size_t k = 0; k < K; ++k) s += out.grad(r, k);
      for (std::size_t k = 0; k < K; ++k) dx(r, k) += out.grad(r, k) - std::exp(out.value(r, k)) * s;
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// cross_entropy  l_r = -log softmax(x_r)[t_r] = logsumexp(x_r) - x_r[t_r]; rows with t_r = ignore count 0
//                L = Σ_r l_r / n_valid (Mean) | Σ_r l_r (Sum) | [l_r] as [B, 1] (None)
// backward       dx_r += w_r · (softmax(x_r) - onehot(t_r)),  w_r = dL/dl_r (0 at ignored rows)
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::int64_t>& targets, std::int64_t ignore_index,
                     Reduction reduction) {
  check_logits("cross_entropy", logits);
  const std::size_t B = logits.rows(), K = logits.cols();
  UNROLL_CHECK(targets.size() == B, "cross_entropy: {} targets for logits of shape {} (want one per row)",
               targets.size(), shape_str(logits.value()));
  std::size_t n_valid = 0;
  for (std::size_t r = 0; r < B; ++r) {
    if (targets[r] == ignore_index) continue;
    UNROLL_CHECK(targets[r] >= 0 && std::size_t(targets[r]) < K,
                 "cross_entropy: target {} at row {} is out of range [0, {}) (logits are {})", targets[r], r, K,
                 shape_str(logits.value()));
    ++n_valid;
  }
  // one pass per row: m, the shifted exponentials (kept, normalised: softmax(x_r), what backward needs) and
  // l_r = log s - (x_rt - m) = -log softmax(x_r)[t_r]
  const Mat<T>& x = logits.value();
  Mat<T> probs = Mat<T>::from_shape({B, K});
  Mat<T> per_row = zeros<T>(B, 1);
  over_rows(B, K, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const T* xr = x.data() + r * K;
      T* p = probs.data() + r * K;
      T m;
      const T s = exp_shift_row(xr, p, K, m);
      const T inv_s = T(1) / s;
      for (std::size_t k = 0; k < K; ++k) p[k] *= inv_s;
      if (targets[r] != ignore_index) per_row(r, 0) = std::log(s) - (xr[std::size_t(targets[r])] - m);
    }
  });
  Mat<T> y;
  if (reduction == Reduction::None) {
    y = per_row;
  } else {
    T s = 0;
    for (std::size_t r = 0; r < B; ++r) s += per_row(r, 0);
    const T denom = reduction == Reduction::Mean ? T(std::max<std::size_t>(n_valid, 1)) : T(1);
    y = full<T>(1, 1, s / denom);
  }
  const T denom = reduction == Reduction::Mean ? T(std::max<std::size_t>(n_valid, 1)) : T(1);
  return make_op<T>("cross_entropy", std::move(y), {logits},
                    [targets, ignore_index, reduction, denom, probs = std::move(probs)](Node<T>& out) {
                      Mat<T>& dx = out.parent(0).grad;
                      const std::size_t B = dx.shape(0), K = dx.shape(1);
                      over_rows(B, K, [&](std::size_t r0, std::size_t r1) {
                        for (std::size_t r = r0; r < r1; ++r) {
                          if (targets[r] == ignore_index) continue;
                          const T w = reduction == Reduction::None ? out.grad(r, 0) : out.grad(0, 0) / denom;
                          T* d = dx.data() + r * K;
                          const T* p = probs.data() + r * K;
                          for (std::size_t k = 0; k < K; ++k) d[k] += w * p[k];
                          d[std::size_t(targets[r])] -= w;
                        }
                      });
                    });
}

// ---------------------------------------------------------------------------------------------------
// bce_with_logits  l = max(x, 0) - x·y + log(1 + e^-|x|)      (= -[y log σ(x) + (1-y) log(1-σ(x))], stable)
// backward         dx += w · (σ(x) - y)
template <class T>
Var<T> bce_with_logits(const Var<T>& x, const Mat<T>& y, Reduction reduction) {
  UNROLL_CHECK(x.defined(), "bce_with_logits: input is an undefined Var");
  UNROLL_CHECK(x.value().shape() == y.shape(), "bce_with_logits: logits are {}, targets are {} (they must match)",
               shape_str(x.value()), shape_str(y));
  for (T v : y) UNROLL_CHECK(v >= T(0) && v <= T(1), "bce_with_logits: target {} is outside [0, 1]", v);
  const Mat<T>& xv = x.value();
  Mat<T> l = xt::maximum(xv, T(0)) - xv * y + xt::log1p(xt::exp(-xt::abs(xv)));
  const T n = T(std::max<std::size_t>(l.size(), 1));
  Mat<T> out_v;
  if (reduction == Reduction::None) {
    out_v = l;
  } else {
    T s = 0;
    for (T v : l) s += v;
    out_v = full<T>(1, 1, reduction == Reduction::Mean ? s / n : s);
  }
  return make_op<T>("bce_with_logits", std::move(out_v), {x}, [y, reduction, n](Node<T>& out) {
    Node<T>& x = out.parent(0);
    Mat<T> sig = Mat<T>::from_shape(x.value.shape());
    for (std::size_t i = 0; i < sig.size(); ++i) {
      T v = x.value.data()[i];
      sig.data()[i] = v >= T(0) ? T(1) / (T(1) + std::exp(-v)) : std::exp(v) / (T(1) + std::exp(v));
    }
    if (reduction == Reduction::None)
      x.grad += (sig - y) * out.grad;
    else
      x.grad += (sig - y) * (reduction == Reduction::Mean ? out.grad(0, 0) / n : out.grad(0, 0));
  });
}

// ---------------------------------------------------------------------------------------------------
// mse       l = (a - b)²,  L = mean | sum | elementwise
// (composite of sub, mul and the reductions: its gradient comes from theirs)
template <class T>
Var<T> mse(const Var<T>& a, const Var<T>& b, Reduction reduction) {
  UNROLL_CHECK(a.defined() && b.defined(), "mse: an input is an undefined Var");
  UNROLL_CHECK(a.value().shape() == b.value().shape(), "mse: prediction is {}, target is {} (they must match)",
               shape_str(a.value()), shape_str(b.value()));
  Var<T> d = sub(a, b);
  Var<T> sq = mul(d, d);
  if (reduction == Reduction::None) return sq;
  return reduction == Reduction::Mean ? mean(sq) : sum(sq);
}

#define UNROLL_INSTANTIATE(T)                                                                                    \
  template Var<T> softmax<T>(const Var<T>&);                                                                     \
  template Var<T> log_softmax<T>(const Var<T>&);                                                                 \
  template Var<T> cross_entropy<T>(const Var<T>&, const std::vector<std::int64_t>&, std::int64_t, Reduction);   \
  template Var<T> bce_with_logits<T>(const Var<T>&, const Mat<T>&, Reduction);                                   \
  template Var<T> mse<T>(const Var<T>&, const Var<T>&, Reduction);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
