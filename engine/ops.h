// engine/ops.h — every differentiable function of the engine, one line each with its formula and shapes.
// Bodies live in the family files (ops_elementwise.cc, ops_matmul.cc, ops_shape.cc, ops_reduce.cc,
// ops_loss.cc), each op's forward and backward side by side. All are instantiated for float and double.
// Shapes: every value is [rows, cols]; no implicit broadcasting anywhere (add_bias is the explicit one).
// Every op checks its arguments and throws ShapeError naming the op and the shapes.
#pragma once

#include "engine/rng.h"
#include "engine/var.h"

#include <cstdint>
#include <vector>

namespace unroll {

enum class Reduction { Mean, Sum, None };

// ---- elementwise (ops_elementwise.cc) -------------------------------------------------------------
template <class T> Var<T> add(const Var<T>& a, const Var<T>& b);      // a + b          same shape
template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b);      // a - b          same shape
template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b);      // a ⊙ b          same shape
template <class T> Var<T> div(const Var<T>& a, const Var<T>& b);      // a / b          same shape
template <class T> Var<T> neg(const Var<T>& x);                       // -x
template <class T> Var<T> scale(const Var<T>& x, T s);                // s · x
template <class T> Var<T> add_scalar(const Var<T>& x, T s);           // x + s
template <class T> Var<T> tanh(const Var<T>& x);                      // tanh(x)
template <class T> Var<T> sigmoid(const Var<T>& x);                   // 1 / (1 + e^-x), stable for |x| large
template <class T> Var<T> relu(const Var<T>& x);                      // max(x, 0)
template <class T> Var<T> exp(const Var<T>& x);                       // e^x
template <class T> Var<T> log(const Var<T>& x);                       // ln x (x > 0)
template <class T> Var<T> mask(const Var<T>& x, const Mat<T>& m);     // x ⊙ m, m a constant of x's shape
// Inverted dropout: in training, zero each entry with probability p and scale the rest by 1/(1-p);
// the mask comes from rng (seeded). train = false, or p = 0, is the identity.
template <class T> Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool train = true);

template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <class T> Var<T> operator-(const Var<T>& x) { return neg(x); }
template <class T> Var<T> operator*(T s, const Var<T>& x) { return scale(x, s); }

// ---- matrix products (ops_matmul.cc) ---------------------------------------------------------------
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& w);   // a · w      a [B, K], w [K, N] -> [B, N]
template <class T> Var<T> matmul_nt(const Var<T>& a, const Var<T>& w);// a · wᵀ     a [B, K], w [N, K] -> [B, N]
template <class T> Var<T> add_bias(const Var<T>& x, const Var<T>& b); // x + 1·b    x [B, N], b [1, N]
// PyTorch's linear layer: x · Wᵀ + b, W [out, in], b [1, out] (b may be undefined: no bias).
template <class T> Var<T> linear(const Var<T>& x, const Var<T>& W, const Var<T>& b);

// ---- shapes (ops_shape.cc) -------------------------------------------------------------------------
template <class T> Var<T> cols(const Var<T>& x, std::size_t lo, std::size_t hi);  // x[:, lo:hi]
template <class T> Var<T> rows(const Var<T>& x, std::size_t lo, std::size_t hi);  // x[lo:hi, :]
template <class T> Var<T> concat_cols(const std::vector<Var<T>>& xs);             // [x1 | x2 | …]  same rows
template <class T> Var<T> concat_rows(const std::vector<Var<T>>& xs);             // stacked rows  same cols
template <class T> Var<T> transpose(const Var<T>& x);                             // xᵀ
// Gather rows of a table: out[i] = W[ids[i]], W [V, E] -> [n, E]. Backward scatter-adds, so a row used
// twice gets both contributions.
template <class T> Var<T> embedding(const Var<T>& W, const std::vector<std::int64_t>& ids);

// ---- reductions (ops_reduce.cc) --------------------------------------------------------------------
template <class T> Var<T> sum(const Var<T>& x);                       // Σ x            -> [1, 1]
template <class T> Var<T> mean(const Var<T>& x);                      // Σ x / size     -> [1, 1]
template <class T> Var<T> sum_rows(const Var<T>& x);                  // Σ over rows    [B, N] -> [1, N]
template <class T> Var<T> sum_cols(const Var<T>& x);                  // Σ over columns [B, N] -> [B, 1]

// ---- softmax and losses (ops_loss.cc) --------------------------------------------------------------
template <class T> Var<T> softmax(const Var<T>& x);                   // row-wise e^x / Σ e^x (max-shifted)
template <class T> Var<T> log_softmax(const Var<T>& x);               // row-wise x - logsumexp(x)
// Fused softmax cross-entropy over class indices: logits [B, K], targets in [0, K) or ignore_index.
// Mean is over the non-ignored rows (0 when every row is ignored); None gives [B, 1] (0 at ignored rows).
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::int64_t>& targets,
                     std::int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);
// Binary cross-entropy on logits x with targets y in [0, 1]: max(x,0) - x·y + log(1 + e^-|x|).
template <class T>
Var<T> bce_with_logits(const Var<T>& x, const Mat<T>& y, Reduction reduction = Reduction::Mean);
// Mean squared error (a - b)²; b may be a Var or a constant.
template <class T> Var<T> mse(const Var<T>& a, const Var<T>& b, Reduction reduction = Reduction::Mean);

}  // namespace unroll
