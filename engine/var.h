// engine/var.h — graph nodes, the Var handle, the tape and backward().
// A Var is a shared handle to a Node; every op makes a Node that records its parents and a backward
// function, so the graph of an unrolled sequence is built as the forward pass runs (define-by-run).
// backward() sorts the graph iteratively (no recursion: a 10,000-step BPTT graph is fine) and runs the
// backward functions in reverse order; they ACCUMULATE into the parents' gradients, so a weight used at
// every time step receives the sum over steps — that sum is BPTT.
// Not here: the ops themselves (ops.h), modules (nn/).
#pragma once

#include "engine/check.h"
#include "engine/tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace unroll {

template <class T>
struct Node {
  Mat<T> value;
  Mat<T> grad;                                  // empty until backward reaches this node
  std::vector<std::shared_ptr<Node>> parents;
  std::function<void(Node&)> backward_fn;       // accumulates into parents' grads; empty for leaves
  const char* op = "leaf";
  bool requires_grad = false;                   // leaves: set for parameters; ops: any parent requires it
  std::string name;                             // optional label (parameters, gradcheck reports, graph dumps)
  const char* scope = nullptr;                  // the ScopeGuard label active when the op ran (graph dumps)
  // Row-sparse gradients (embedding tables). A leaf with sparse_grad set keeps in grad_rows the rows of
  // grad that backward may have made non-zero since the gradient was last zeroed (unsorted, may repeat),
  // as long as only row-writing ops reached it: an op node with rows_backward set writes parent 0's
  // gradient only in rows it appends to that list (embedding's scatter-add). Any other op reaching the
  // leaf, or a mutable Var::grad() access, sets grad_rows_dense (every row may be non-zero) until the
  // gradient is zeroed again. Optimizers and zero_grad then visit only those rows (nn/optim.h).
  bool sparse_grad = false;
  bool grad_rows_dense = false;
  bool rows_backward = false;                   // op nodes: see above
  std::vector<std::size_t> grad_rows;
  std::uint64_t visit = 0;                      // topo_order's visited mark (a per-thread pass number)

  Node& parent(std::size_t i) { return *parents[i]; }
  // True when parent i takes a gradient; backward functions skip the others.
  bool wants(std::size_t i) const { return parents[i]->requires_grad; }
  ~Node();                                      // iterative: dropping a long chain does not recurse
};

template <class T>
class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<Node<T>> n) : node_(std::move(n)) {}

  const Mat<T>& value() const { return node_->value; }
  Mat<T>& value() { return node_->value; }      // for optimizers and loaders: edits a leaf in place
  const Mat<T>& grad() const { return node_->grad; }
  // Mutable access: on a sparse_grad leaf it marks every row as possibly written (grad_rows_dense).
  Mat<T>& grad() {
    node_->grad_rows_dense = true;
    return node_->grad;
  }
  std::size_t rows() const { return node_->value.shape(0); }
  std::size_t cols() const { return node_->value.shape(1); }
  bool requires_grad() const { return node_->requires_grad; }
  const char* op() const { return node_->op; }
  const std::string& name() const { return node_->name; }
  Var& set_name(std::string n) { node_->name = std::move(n); return *this; }
  bool defined() const { return static_cast<bool>(node_); }
  T item() const;                               // the value of a [1, 1] Var
  void zero_grad();                             // grad := zeros (allocated) for a leaf

  // Row-sparse gradient tracking of a leaf (see Node::sparse_grad); turning it on starts from "dense".
  void set_sparse_grad(bool on);
  bool sparse_grad() const { return node_->sparse_grad; }
  // The rows of grad that may be non-zero, sorted and unique, when that is known (a sparse_grad leaf
  // reached only by row-writing ops since it was last zeroed); nullptr when every row may be.
  const std::vector<std::size_t>* grad_rows() const;
  // grad := 0 in place (allocating zeros if it is empty or mis-shaped), visiting only the known
  // non-zero rows when there are such; afterwards no row is marked.
  void zero_grad_in_place();

  // Reverse pass from this Var. A [1, 1] output is seeded with 1; otherwise pass dy of its shape.
  // Throws ShapeError when the output does not require a gradient (no parameter upstream, or built
  // under no_grad), as PyTorch does: a silent no-op there hides a detached graph.
  void backward() const;
  void backward(const Mat<T>& seed) const;

  Node<T>* node() const { return node_.get(); }
  const std::shared_ptr<Node<T>>& node_ptr() const { return node_; }

 private:
  std::shared_ptr<Node<T>> node_;
};

// Leaves. A parameter takes gradients; a constant does not.
template <class T> Var<T> parameter(Mat<T> value, std::string name = {});
template <class T> Var<T> constant(Mat<T> value);

// The same value cut from the graph: gradients stop here (truncated BPTT carries state this way).
template <class T> Var<T> detach(const Var<T>& x);

// Builds an op's output node. Public, so a user can write an op of their own (forward value plus a
// backward function that accumulates into out.parent(i).grad) and gradient-check it in float64.
// Under no_grad, or when no parent requires a gradient, the node keeps no parents (nothing to free later).
template <class T>
Var<T> make_op(const char* op, Mat<T> value, std::vector<Var<T>> parents,
               std::function<void(Node<T>&)> backward_fn);

// Every node reachable from root, parents before children (iterative DFS).
template <class T> std::vector<Node<T>*> topo_order(Node<T>* root);

// ---- global modes (thread-local) -------------------------------------------------------------------
bool grad_enabled();
bool anomaly_enabled();

// Inference scope: ops build no graph while it lives.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;
 private:
  bool prev_;
};

// Anomaly mode: every op checks its output (and backward checks every gradient) for NaN/Inf and throws
// NumericError naming the first op that produced one.
class AnomalyGuard {
 public:
  explicit AnomalyGuard(bool on = true);
  ~AnomalyGuard();
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;
 private:
  bool prev_;
};

// Labels the ops created while it lives ("t=3", "layer 1 reverse") so a graph dump can group the unrolled
// graph by time step, layer and direction. Nested guards join their labels with " / ". Labels are interned
// (kept for the life of the process), so use a bounded set of them. Library code labels only while a
// RecordScopes guard is on (graph dumps), so training pays nothing; a ScopeGuard made directly always labels.
class ScopeGuard {
 public:
  explicit ScopeGuard(const std::string& label);
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
 private:
  const char* prev_;
};
const char* current_scope();

// Turns on the library's own scope labels (recurrent layers label layer, direction and step) while it lives.
class RecordScopes {
 public:
  explicit RecordScopes(bool on = true);
  ~RecordScopes();
  RecordScopes(const RecordScopes&) = delete;
  RecordScopes& operator=(const RecordScopes&) = delete;
 private:
  bool prev_;
};
bool recording_scopes();

extern template struct Node<float>;
extern template struct Node<double>;
extern template class Var<float>;
extern template class Var<double>;

}  // namespace unroll
