// engine/ops_shape.cc — slices, concatenation, transpose and the embedding gather.
// Backward writes through a view inside one statement (views are references: never kept).
#include "engine/ops.h"

namespace unroll {

// ---------------------------------------------------------------------------------------------------
// cols      Y = X[:, lo:hi]                    X [B, N], Y [B, hi - lo]
// backward  dX[:, lo:hi] += dY
template <class T>
Var<T> cols(const Var<T>& x, std::size_t lo, std::size_t hi) {
  UNROLL_CHECK(x.defined(), "cols: input is an undefined Var");
  UNROLL_CHECK(lo < hi && hi <= x.cols(), "cols: range [{}, {}) does not fit x of shape {}", lo, hi,
               shape_str(x.value()));
  Mat<T> y = xt::view(x.value(), xt::all(), xt::range(lo, hi));
  return make_op<T>("cols", std::move(y), {x}, [lo, hi](Node<T>& out) {
    xt::view(out.parent(0).grad, xt::all(), xt::range(lo, hi)) += out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// rows      Y = X[lo:hi, :]                    X [B, N], Y [hi - lo, N]
// backward  dX[lo:hi, :] += dY
template <class T>
Var<T> rows(const Var<T>& x, std::size_t lo, std::size_t hi) {
  UNROLL_CHECK(x.defined(), "rows: input is an undefined Var");
  UNROLL_CHECK(lo < hi && hi <= x.rows(), "rows: range [{}, {}) does not fit x of shape {}", lo, hi,
               shape_str(x.value()));
  Mat<T> y = xt::view(x.value(), xt::range(lo, hi), xt::all());
  return make_op<T>("rows", std::move(y), {x}, [lo, hi](Node<T>& out) {
    xt::view(out.parent(0).grad, xt::range(lo, hi), xt::all()) += out.grad;
  });
}

// ---------------------------------------------------------------------------------------------------
// concat_cols  Y = [X1 | X2 | …]               Xi [B, Ni], Y [B, Σ Ni]
// backward     dXi += dY[:, offset_i : offset_i + Ni]
template <class T>
Var<T> concat_cols(const std::vector<Var<T>>& xs) {
  UNROLL_CHECK(!xs.empty(), "concat_cols: no inputs");
  std::size_t B = 0, N = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    UNROLL_CHECK(xs[i].defined(), "concat_cols: input {} is an undefined Var", i);
    if (i == 0) B = xs[i].rows();
    UNROLL_CHECK(xs[i].rows() == B, "concat_cols: input {} is {}, input 0 is {} (rows must match)", i,
                 shape_str(xs[i].value()), shape_str(xs[0].value()));
    N += xs[i].cols();
  }
  Mat<T> y = Mat<T>::from_shape({B, N});
  std::size_t off = 0;
  for (const auto& x : xs) {
    xt::view(y, xt::all(), xt::range(off, off + x.cols())) = x.value();
    off += x.cols();
  }
  return make_op<T>("concat_cols", std::move(y), xs, [](Node<T>& out) {
    std::size_t off = 0;
    for (std::size_t i = 0; i < out.parents.size(); ++i) {
      const std::size_t n = out.parent(i).value.shape(1);
      if (out.wants(i)) out.parent(i).grad += xt::view(out.grad, xt::all(), xt::range(off, off + n));
      off += n;
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// concat_rows  Y = [X1; X2; …]                 Xi [Bi, N], Y [Σ Bi, N]
// backward     dXi += dY[offset_i : offset_i + Bi, :]
template <class T>
Var<T> concat_rows(const std::vector<Var<T>>& xs) {
  UNROLL_CHECK(!xs.empty(), "concat_rows: no inputs");
  std::size_t B = 0, N = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    UNROLL_CHECK(xs[i].defined(), "concat_rows: input {} is an undefined Var", i);
    if (i == 0) N = xs[i].cols();
    UNROLL_CHECK(xs[i].cols() == N, "concat_rows: input {} is {}, input 0 is {} (columns must match)", i,
                 shape_str(xs[i].value()), shape_str(xs[0].value()));
    B += xs[i].rows();
  }
  Mat<T> y = Mat<T>::from_shape({B, N});
  std::size_t off = 0;
  for (const auto& x : xs) {  // rows are contiguous in row-major storage
    std::copy(x.value().begin(), x.value().end(), y.data() + off * N);
    off += x.rows();
  }
  return make_op<T>("concat_rows", std::move(y), xs, [](Node<T>& out) {
    const std::size_t N = out.value.shape(1);
    std::size_t off = 0;
    for (std::size_t i = 0; i < out.parents.size(); ++i) {
      Node<T>& p = out.parent(i);
      const std::size_t n = p.value.shape(0) * N;
      if (out.wants(i)) {
        const T* g = out.grad.data() + off * N;
        T* d = p.grad.data();
        for (std::size_t k = 0; k < n; ++k) d[k] += g[k];
      }
      off += p.value.shape(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// transpose Y = Xᵀ                             X [B, N], Y [N, B]
// backward  dX += dYᵀ
template <class T>
Var<T> transpose(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "transpose: input is an undefined Var");
  Mat<T> y = xt::transpose(x.value());
  return make_op<T>("transpose", std::move(y), {x}, [](Node<T>& out) {
    out.parent(0).grad += xt::transpose(out.grad);
  });
}

// ---------------------------------------------------------------------------------------------------
// embedding Y[i] = W[ids[i]]                   W [V, E], Y [n, E]
// backward  dW[ids[i]] += dY[i]   (scatter-add: a row used twice gets both contributions); on a sparse_grad
//           table it lists the rows it wrote in the table's grad_rows (engine/var.h)
template <class T>
Var<T> embedding(const Var<T>& W, const std::vector<std::int64_t>& ids) {
  UNROLL_CHECK(W.defined(), "embedding: table is an undefined Var");
  UNROLL_CHECK(!ids.empty(), "embedding: no ids (table is {})", shape_str(W.value()));
  const std::size_t V = W.rows(), E = W.cols();
  for (std::size_t i = 0; i < ids.size(); ++i)
    UNROLL_CHECK(ids[i] >= 0 && std::size_t(ids[i]) < V, "embedding: id {} at position {} is out of range [0, {}) (table is {})",
                 ids[i], i, V, shape_str(W.value()));
  Mat<T> y = Mat<T>::from_shape({ids.size(), E});
  for (std::size_t i = 0; i < ids.size(); ++i)
    std::copy_n(W.value().data() + std::size_t(ids[i]) * E, E, y.data() + i * E);
  Var<T> out = make_op<T>("embedding", std::move(y), {W}, [ids](Node<T>& out) {
    const std::size_t E = out.value.shape(1);
    Node<T>& w = out.parent(0);
    T* dW = w.grad.data();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const T* dy = out.grad.data() + i * E;
      T* row = dW + std::size_t(ids[i]) * E;
      for (std::size_t k = 0; k < E; ++k) row[k] += dy[k];
    }
    if (w.sparse_grad && !w.grad_rows_dense)  // the rows written (Node::sparse_grad)
      for (std::int64_t id : ids) w.grad_rows.push_back(std::size_t(id));
  });
  out.node()->rows_backward = true;
  return out;
}

#define UNROLL_INSTANTIATE(T)                                                   \
  template Var<T> cols<T>(const Var<T>&, std::size_t, std::size_t);             \
  template Var<T> rows<T>(const Var<T>&, std::size_t, std::size_t);             \
  template Var<T> concat_cols<T>(const std::vector<Var<T>>&);                   \
  template Var<T> concat_rows<T>(const std::vector<Var<T>>&);                   \
  template Var<T> transpose<T>(const Var<T>&);                                  \
  template Var<T> embedding<T>(const Var<T>&, const std::vector<std::int64_t>&);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
