// engine/ops_matmul.cc — matrix products and the explicit row-broadcast bias, all through engine/gemm.h.
#include "engine/gemm.h"
#include "engine/ops.h"

namespace unroll {

// ---------------------------------------------------------------------------------------------------
// matmul    Y = A · W                          A [B, K], W [K, N], Y [B, N]
// backward  dA += dY · Wᵀ ;  dW += Aᵀ · dY
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& w) {
  UNROLL_CHECK(a.defined() && w.defined(), "matmul: an input is an undefined Var");
  UNROLL_CHECK(a.cols() == w.rows(), "matmul: inner dims differ: a is {}, w is {} (want a [B, K] · w [K, N])",
               shape_str(a.value()), shape_str(w.value()));
  Mat<T> y = Mat<T>::from_shape({a.rows(), w.cols()});
  gemm(Trans::N, Trans::N, T(1), a.value(), w.value(), T(0), y, "matmul");
  return make_op<T>("matmul", std::move(y), {a, w}, [](Node<T>& out) {
    Node<T>& a = out.parent(0);
    Node<T>& w = out.parent(1);
    if (out.wants(0)) gemm(Trans::N, Trans::T, T(1), out.grad, w.value, T(1), a.grad, "matmul backward dA");
    if (out.wants(1)) gemm(Trans::T, Trans::N, T(1), a.value, out.grad, T(1), w.grad, "matmul backward dW");
  });
}

// ---------------------------------------------------------------------------------------------------
// matmul_nt Y = A · Wᵀ                         A [B, K], W [N, K], Y [B, N]   (PyTorch's weight layout)
// backward  dA += dY · W ;  dW += dYᵀ · A
template <class T>
Var<T> matmul_nt(const Var<T>& a, const Var<T>& w) {
  UNROLL_CHECK(a.defined() && w.defined(), "matmul_nt: an input is an undefined Var");
  UNROLL_CHECK(a.cols() == w.cols(), "matmul_nt: inner dims differ: a is {}, w is {} (want a [B, K] · w[N, K]ᵀ)",
               shape_str(a.value()), shape_str(w.value()));
  Mat<T> y = Mat<T>::from_shape({a.rows(), w.rows()});
  gemm(Trans::N, Trans::T, T(1), a.value(), w.value(), T(0), y, "matmul_nt");
  return make_op<T>("matmul_nt", std::move(y), {a, w}, [](Node<T>& out) {
    Node<T>& a = out.parent(0);
    Node<T>& w = out.parent(1);
    if (out.wants(0)) gemm(Trans::N, Trans::N, T(1), out.grad, w.value, T(1), a.grad, "matmul_nt backward dA");
    if (out.wants(1)) gemm(Trans::T, Trans::N, T(1), out.grad, a.value, T(1), w.grad, "matmul_nt backward dW");
  });
}

// ---------------------------------------------------------------------------------------------------
// add_bias  Y = X + 1 · b                      X [B, N], b [1, N]   (the one explicit broadcast)
// backward  dX += dY ;  db += Σ_rows dY
template <class T>
Var<T> add_bias(const Var<T>& x, const Var<T>& b) {
  UNROLL_CHECK(x.defined() && b.defined(), "add_bias: an input is an undefined Var");
  UNROLL_CHECK(b.rows() == 1 && b.cols() == x.cols(), "add_bias: x is {}, b is {} (want x [B, N], b [1, N])",
               shape_str(x.value()), shape_str(b.value()));
  Mat<T> y = x.value();
  const std::size_t B = y.shape(0), N = y.shape(1);
  const T* pb = b.value().data();
  for (std::size_t r = 0; r < B; ++r) {
    T* py = y.data() + r * N;
    for (std::size_t c = 0; c < N; ++c) py[c] += pb[c];
  }
  return make_op<T>("add_bias", std::move(y), {x, b}, [](Node<T>& out) {
    if (out.wants(0)) out.parent(0).grad += out.grad;
    if (out.wants(1)) {
      const std::size_t B = out.grad.shape(0), N = out.grad.shape(1);
      T* db = out.parent(1).grad.data();
      for (std::size_t r = 0; r < B; ++r) {
        const T* dy = out.grad.data() + r * N;
        for (std::size_t c = 0; c < N; ++c) db[c] += dy[c];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// linear    Y = X · Wᵀ + b                     X [B, in], W [out, in], b [1, out] or undefined
// (composite: its gradient comes from matmul_nt and add_bias)
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& W, const Var<T>& b) {
  UNROLL_CHECK(x.defined() && W.defined(), "linear: an input is an undefined Var");
  UNROLL_CHECK(x.cols() == W.cols(), "linear: x is {}, weight is {} (want x [B, in], weight [out, in])",
               shape_str(x.value()), shape_str(W.value()));
  // Checked here too, so a bad bias is reported as linear's (add_bias would name itself).
  UNROLL_CHECK(!b.defined() || (b.rows() == 1 && b.cols() == W.rows()),
               "linear: weight is {}, bias is {} (want weight [out, in], bias [1, out])", shape_str(W.value()),
               shape_str(b.value()));
  Var<T> y = matmul_nt(x, W);
  return b.defined() ? add_bias(y, b) : y;
}

#define UNROLL_INSTANTIATE(T)                                             \
  template Var<T> matmul<T>(const Var<T>&, const Var<T>&);                \
  template Var<T> matmul_nt<T>(const Var<T>&, const Var<T>&);             \
  template Var<T> add_bias<T>(const Var<T>&, const Var<T>&);              \
  template Var<T> linear<T>(const Var<T>&, const Var<T>&, const Var<T>&);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
