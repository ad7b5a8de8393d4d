// engine/ops_elementwise.cc — same-shape arithmetic and activations, forward and backward side by side.
// Backward functions ACCUMULATE (+=) into the parents' gradients and skip parents that take none.
#include "engine/ops.h"

#include <cmath>

namespace unroll {

namespace {
template <class T>
void check_same(const char* op, const Var<T>& a, const Var<T>& b) {
  UNROLL_CHECK(a.defined() && b.defined(), "{}: an input is an undefined Var", op);
  UNROLL_CHECK(a.value().shape() == b.value().shape(), "{}: shapes differ: a is {}, b is {} (no implicit broadcasting)",
               op, shape_str(a.value()), shape_str(b.value()));
}
template <class T>
void check_defined(const char* op, const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "{}: input is an undefined Var", op);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// add       y = a + b
// backward  da += dy ;  db += dy
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  check_same("add", a, b);
  Mat<T> y = a.value() + b.value();
  return make_op<T>("add", std::move(y), {a, b}, [](Node<T>& out) {
    if (out.wants(0)) out.parent(0).grad += out.grad;
    if (out.wants(1)) out.parent(1).grad += out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// sub       y = a - b
// backward  da += dy ;  db -= dy
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  check_same("sub", a, b);
  Mat<T> y = a.value() - b.value();
  return make_op<T>("sub", std::move(y), {a, b}, [](Node<T>& out) {
    if (out.wants(0)) out.parent(0).grad += out.grad;
    if (out.wants(1)) out.parent(1).grad -= out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// mul       y = a ⊙ b
// backward  da += dy ⊙ b ;  db += dy ⊙ a
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  check_same("mul", a, b);
  Mat<T> y = a.value() * b.value();
  return make_op<T>("mul", std::move(y), {a, b}, [](Node<T>& out) {
    Node<T>& a = out.parent(0);
    Node<T>& b = out.parent(1);
    if (out.wants(0)) a.grad += out.grad * b.value;
    if (out.wants(1)) b.grad += out.grad * a.value;
  });
}

// ---------------------------------------------------------------------------------------------------
// div       y = a / b
// backward  da += dy / b ;  db -= dy ⊙ a / b² = dy ⊙ y / b
template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  check_same("div", a, b);
  Mat<T> y = a.value() / b.value();
  return make_op<T>("div", std::move(y), {a, b}, [](Node<T>& out) {
    Node<T>& b = out.parent(1);
    if (out.wants(0)) out.parent(0).grad += out.grad / b.value;
    if (out.wants(1)) b.grad -= out.grad * out.value / b.value;
  });
}

// ---------------------------------------------------------------------------------------------------
// neg       y = -x
// backward  dx -= dy
template <class T>
Var<T> neg(const Var<T>& x) {
  check_defined("neg", x);
  Mat<T> y = -x.value();
  return make_op<T>("neg", std::move(y), {x}, [](Node<T>& out) { out.parent(0).grad -= out.grad; });
}

// ---------------------------------------------------------------------------------------------------
// scale     y = s · x
// backward  dx += s · dy
template <class T>
Var<T> scale(const Var<T>& x, T s) {
  check_defined("scale", x);
  Mat<T> y = s * x.value();
  return make_op<T>("scale", std::move(y), {x}, [s](Node<T>& out) { out.parent(0).grad += s * out.grad; });
}

// ---------------------------------------------------------------------------------------------------
// add_scalar  y = x + s
// backward    dx += dy
template <class T>
Var<T> add_scalar(const Var<T>& x, T s) {
  check_defined("add_scalar", x);
  Mat<T> y = x.value() + s;
  return make_op<T>("add_scalar", std::move(y), {x}, [](Node<T>& out) { out.parent(0).grad += out.grad; });
}

// ---------------------------------------------------------------------------------------------------
// tanh      y = tanh(x)
// backward  dx += (1 - y²) ⊙ dy
template <class T>
Var<T> tanh(const Var<T>& x) {
  check_defined("tanh", x);
  Mat<T> y = xt::tanh(x.value());
  return make_op<T>("tanh", std::move(y), {x}, [](Node<T>& out) {
    out.parent(0).grad += (T(1) - out.value * out.value) * out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// sigmoid   y = 1 / (1 + e^-x), computed as e^x / (1 + e^x) for x < 0 so neither branch overflows
// backward  dx += y (1 - y) ⊙ dy
template <class T>
T sigmoid_scalar(T v) {
  if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
  T e = std::exp(v);
  return e / (T(1) + e);
}
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  check_defined("sigmoid", x);
  Mat<T> y = Mat<T>::from_shape(x.value().shape());
  std::transform(x.value().begin(), x.value().end(), y.begin(), sigmoid_scalar<T>);
  return make_op<T>("sigmoid", std::move(y), {x}, [](Node<T>& out) {
    out.parent(0).grad += out.value * (T(1) - out.value) * out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// relu      y = max(x, 0)
// backward  dx += [x > 0] ⊙ dy   (the subgradient at 0 is 0, as in PyTorch)
template <class T>
Var<T> relu(const Var<T>& x) {
  check_defined("relu", x);
  Mat<T> y = xt::maximum(x.value(), T(0));
  return make_op<T>("relu", std::move(y), {x}, [](Node<T>& out) {
    out.parent(0).grad += xt::where(out.value > T(0), out.grad, T(0));
  });
}

// ---------------------------------------------------------------------------------------------------
// exp       y = e^x
// backward  dx += y ⊙ dy
template <class T>
Var<T> exp(const Var<T>& x) {
  check_defined("exp", x);
  Mat<T> y = xt::exp(x.value());
  return make_op<T>("exp", std::move(y), {x}, [](Node<T>& out) { out.parent(0).grad += out.value * out.grad; });
}

// ---------------------------------------------------------------------------------------------------
// log       y = ln x
// backward  dx += dy / x
template <class T>
Var<T> log(const Var<T>& x) {
  check_defined("log", x);
  Mat<T> y = xt::log(x.value());
  return make_op<T>("log", std::move(y), {x}, [](Node<T>& out) {
    Node<T>& x = out.parent(0);
    x.grad += out.grad / x.value;
  });
}

// ---------------------------------------------------------------------------------------------------
// mask      y = x ⊙ m        m: a constant of x's shape (padding masks, dropout masks)
// backward  dx += dy ⊙ m
template <class T>
Var<T> mask(const Var<T>& x, const Mat<T>& m) {
  check_defined("mask", x);
  UNROLL_CHECK(x.value().shape() == m.shape(), "mask: x is {}, mask is {} (they must match)", shape_str(x.value()),
               shape_str(m));
  Mat<T> y = x.value() * m;
  return make_op<T>("mask", std::move(y), {x}, [m](Node<T>& out) { out.parent(0).grad += out.grad * m; });
}

// ---------------------------------------------------------------------------------------------------
// dropout   y = x ⊙ m / (1 - p),  m_ij ~ Bernoulli(1 - p) drawn from rng
// backward  dx += dy ⊙ m / (1 - p)
template <class T>
Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool train) {
  check_defined("dropout", x);
  UNROLL_CHECK(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1), got {}", p);
  if (!train || p == 0.0) return x;
  Mat<T> m = Mat<T>::from_shape(x.value().shape());
  const T keep = T(1.0 / (1.0 - p));
  for (auto& v : m) v = rng.uniform() < p ? T(0) : keep;
  Mat<T> y = x.value() * m;
  return make_op<T>("dropout", std::move(y), {x}, [m = std::move(m)](Node<T>& out) {
    out.parent(0).grad += out.grad * m;
  });
}

#define UNROLL_INSTANTIATE(T)                                         \
  template Var<T> add<T>(const Var<T>&, const Var<T>&);               \
  template Var<T> sub<T>(const Var<T>&, const Var<T>&);               \
  template Var<T> mul<T>(const Var<T>&, const Var<T>&);               \
  template Var<T> div<T>(const Var<T>&, const Var<T>&);               \
  template Var<T> neg<T>(const Var<T>&);                              \
  template Var<T> scale<T>(const Var<T>&, T);                         \
  template Var<T> add_scalar<T>(const Var<T>&, T);                    \
  template Var<T> tanh<T>(const Var<T>&);                             \
  template Var<T> sigmoid<T>(const Var<T>&);                          \
  template Var<T> relu<T>(const Var<T>&);                             \
  template Var<T> exp<T>(const Var<T>&);                              \
  template Var<T> log<T>(const Var<T>&);                              \
  template Var<T> mask<T>(const Var<T>&, const Mat<T>&);              \
  template Var<T> dropout<T>(const Var<T>&, double, Rng&, bool);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
