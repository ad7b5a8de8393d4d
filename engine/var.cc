// engine/var.cc — the tape: node lifetime, make_op, iterative topological sort, backward, modes.
#include "engine/var.h"

#include "engine/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <malloc.h>
#include <cmath>
#include <mutex>
#include <set>
#include <unordered_set>

namespace unroll {

namespace {
// The tape allocates and frees the same large buffers every batch (per-step gate blocks of 128 KB and up,
// projections of several MB). glibc hands blocks from 128 KB up to mmap and back, so every batch paid page
// faults and kernel zeroing for them (about 10% of charlm-train's time under perf). Keep blocks up to
// 32 MB in the heap and do not trim it below 256 MB of free space; UNROLL_MALLOC_DEFAULTS=1 opts out.
[[maybe_unused]] const bool g_malloc_tuned = [] {
  const char* keep = std::getenv("UNROLL_MALLOC_DEFAULTS");
  if (keep && *keep && *keep != '0') return false;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return true;
}();

thread_local bool g_grad_enabled = true;
thread_local bool g_anomaly = false;
thread_local const char* g_scope = nullptr;
thread_local bool g_record_scopes = false;

const char* intern(const std::string& s) {
  static std::mutex mu;
  static std::set<std::string> table;
  std::lock_guard<std::mutex> lock(mu);
  return table.insert(s).first->c_str();
}

// First non-finite entry of m as "(r, c) = nan", or empty.
template <class T>
std::string first_non_finite(const Mat<T>& m) {
  for (std::size_t r = 0; r < m.shape(0); ++r)
    for (std::size_t c = 0; c < m.shape(1); ++c)
      if (!std::isfinite(m(r, c))) return fmt::format("({}, {}) = {}", r, c, m(r, c));
  return {};
}
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
bool anomaly_enabled() { return g_anomaly; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }
ScopeGuard::ScopeGuard(const std::string& label) : prev_(g_scope) {
  g_scope = intern(prev_ ? std::string(prev_) + " / " + label : label);
}
ScopeGuard::~ScopeGuard() { g_scope = prev_; }
const char* current_scope() { return g_scope; }
RecordScopes::RecordScopes(bool on) : prev_(g_record_scopes) { g_record_scopes = on; }
RecordScopes::~RecordScopes() { g_record_scopes = prev_; }
bool recording_scopes() { return g_record_scopes; }
AnomalyGuard::AnomalyGuard(bool on) : prev_(g_anomaly) { g_anomaly = on; }
AnomalyGuard::~AnomalyGuard() { g_anomaly = prev_; }

// Dropping the last handle to the end of a 10,000-step chain would recurse 10,000 destructors deep;
// instead, steal the parents of every node we are the last owner of and release them from a loop.
template <class T>
Node<T>::~Node() {
  std::vector<std::shared_ptr<Node>> stack = std::move(parents);
  while (!stack.empty()) {
    std::shared_ptr<Node> p = std::move(stack.back());
    stack.pop_back();
    if (p && p.use_count() == 1) {
      for (auto& q : p->parents) stack.push_back(std::move(q));
      p->parents.clear();
    }
  }
}

template <class T>
T Var<T>::item() const {
  UNROLL_CHECK(node_ && value().size() == 1, "item: needs a [1, 1] value, got {}",
               node_ ? shape_str(value()) : std::string("an undefined Var"));
  return value()(0, 0);
}

template <class T>
void Var<T>::zero_grad() {
  UNROLL_CHECK(node_, "zero_grad: called on an undefined Var");
  node_->grad = zeros<T>(rows(), cols());
  node_->grad_rows.clear();
  node_->grad_rows_dense = false;
}

template <class T>
void Var<T>::set_sparse_grad(bool on) {
  UNROLL_CHECK(node_, "set_sparse_grad: called on an undefined Var");
  node_->sparse_grad = on;
  node_->grad_rows.clear();
  node_->grad_rows_dense = true;  // what the gradient holds now is unknown; zeroing it starts the tracking
}

template <class T>
const std::vector<std::size_t>* Var<T>::grad_rows() const {
  Node<T>& n = *node_;
  if (!n.sparse_grad || n.grad_rows_dense || n.grad.shape() != n.value.shape()) return nullptr;
  std::vector<std::size_t>& r = n.grad_rows;
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return &r;
}

template <class T>
void Var<T>::zero_grad_in_place() {
  UNROLL_CHECK(node_, "zero_grad_in_place: called on an undefined Var");
  Node<T>& n = *node_;
  if (n.grad.shape() != n.value.shape()) {
    n.grad = zeros<T>(rows(), cols());
  } else if (const std::vector<std::size_t>* r = grad_rows()) {
    const std::size_t C = n.grad.shape(1);
    for (std::size_t row : *r) std::fill_n(n.grad.data() + row * C, C, T(0));
  } else {
    std::fill(n.grad.begin(), n.grad.end(), T(0));
  }
  n.grad_rows.clear();
  n.grad_rows_dense = false;
}

// Visited marks: each call takes a fresh pass number (per thread: a graph belongs to one thread), so no
// hash set is needed and nothing has to be cleared afterwards.
thread_local std::uint64_t g_visit_pass = 0;

template <class T>
std::vector<Node<T>*> topo_order(Node<T>* root) {
  std::vector<Node<T>*> order;
  const std::uint64_t pass = ++g_visit_pass;
  std::vector<std::pair<Node<T>*, std::size_t>> stack;  // (node, next parent to visit)
  stack.emplace_back(root, 0);
  root->visit = pass;
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    if (i < n->parents.size()) {
      Node<T>* p = n->parents[i++].get();
      if (p->visit != pass) {
        p->visit = pass;
        stack.emplace_back(p, 0);
      }
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  return order;
}

namespace {
// Zero the gradient buffers of a backward pass (about as many floats as the forward pass made), split by
// element count across the engine's threads when there are enough of them to pay for the hand-off.
template <class T>
void zero_grads(const std::vector<Node<T>*>& nodes, std::size_t total) {
  // two halves of the elements; parallel_rows runs them on two threads or both on this one
  parallel_rows(2, double(total) / 2, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t part = p0; part < p1; ++part) {
      const std::size_t lo = total * part / 2, hi = total * (part + 1) / 2;
      std::size_t at = 0;
      for (Node<T>* n : nodes) {  // a node belongs to the part its first element falls in
        const std::size_t size = n->grad.size();
        if (at >= lo && at < hi) std::fill_n(n->grad.data(), size, T(0));
        at += size;
      }
    }
  });
}
}  // namespace

template <class T>
void Var<T>::backward() const {
  UNROLL_CHECK(node_ && value().size() == 1,
               "backward: without a seed gradient the output must be [1, 1], got {} (pass dy of that shape)",
               node_ ? shape_str(value()) : std::string("an undefined Var"));
  backward(full<T>(1, 1, T(1)));
}

template <class T>
void Var<T>::backward(const Mat<T>& seed) const {
  UNROLL_CHECK(node_, "backward: called on an undefined Var");
  UNROLL_CHECK(seed.shape() == value().shape(), "backward: seed is {}, output is {} (they must match)",
               shape_str(seed), shape_str(value()));
  UNROLL_CHECK(node_->requires_grad,
               "backward: the output (op '{}', {}) does not require a gradient: no parameter reaches it, or it was "
               "built under no_grad or from detached values",
               node_->op, shape_str(value()));
  std::vector<Node<T>*> order = topo_order(node_.get());
  // Intermediate gradients restart from zero on every pass; leaf gradients accumulate (zero_grad clears them).
  std::vector<Node<T>*> to_zero;
  std::size_t zero_total = 0;
  for (Node<T>* n : order) {
    if (!n->requires_grad) continue;
    if (n->grad.shape() != n->value.shape()) {
      n->grad = Mat<T>::from_shape({n->value.shape(0), n->value.shape(1)});  // zeroed below
      n->grad_rows.clear();
      n->grad_rows_dense = false;
      to_zero.push_back(n);
      zero_total += n->grad.size();
    } else if (n->backward_fn) {  // a second pass over the same graph: reuse the buffer
      to_zero.push_back(n);
      zero_total += n->grad.size();
    }
    // A sparse_grad leaf reached by anything but a row-writing op (as its input 0) may get any row.
    for (std::size_t i = 0; i < n->parents.size(); ++i) {
      Node<T>* p = n->parents[i].get();
      if (p->sparse_grad && p->requires_grad && !(i == 0 && n->rows_backward)) p->grad_rows_dense = true;
    }
  }
  zero_grads(to_zero, zero_total);
  node_->grad += seed;
  const bool anomaly = g_anomaly;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* n = *it;
    if (!n->backward_fn) continue;
    n->backward_fn(*n);
    if (anomaly) {
      for (std::size_t i = 0; i < n->parents.size(); ++i) {
        if (!n->wants(i)) continue;
        std::string bad = first_non_finite(n->parents[i]->grad);
        if (!bad.empty())
          throw NumericError(fmt::format("anomaly: backward of '{}' gave a non-finite gradient for input {} at {}",
                                         n->op, i, bad));
      }
    }
  }
}

template <class T>
Var<T> parameter(Mat<T> value, std::string name) {
  auto n = std::make_shared<Node<T>>();
  n->value = std::move(value);
  n->requires_grad = true;
  n->name = std::move(name);
  return Var<T>(std::move(n));
}

template <class T>
Var<T> constant(Mat<T> value) {
  auto n = std::make_shared<Node<T>>();
  n->value = std::move(value);
  return Var<T>(std::move(n));
}

template <class T>
Var<T> detach(const Var<T>& x) {
  UNROLL_CHECK(x.defined(), "detach: undefined Var");
  auto n = std::make_shared<Node<T>>();
  n->value = x.value();
  n->op = "detach";
  return Var<T>(std::move(n));
}

template <class T>
Var<T> make_op(const char* op, Mat<T> value, std::vector<Var<T>> parents, std::function<void(Node<T>&)> backward_fn) {
  auto n = std::make_shared<Node<T>>();
  n->value = std::move(value);
  n->op = op;
  n->scope = g_scope;
  if (g_anomaly) {
    std::string bad = first_non_finite(n->value);
    if (!bad.empty()) throw NumericError(fmt::format("anomaly: op '{}' produced a non-finite value at {}", op, bad));
  }
  bool needs = false;
  for (std::size_t i = 0; i < parents.size(); ++i) {
    UNROLL_CHECK(parents[i].defined(), "{}: input {} is an undefined Var", op, i);
    needs = needs || parents[i].requires_grad();
  }
  if (needs && g_grad_enabled) {
    n->requires_grad = true;
    n->parents.reserve(parents.size());
    for (auto& p : parents) n->parents.push_back(p.node_ptr());
    n->backward_fn = std::move(backward_fn);
  }
  return Var<T>(std::move(n));
}

#define UNROLL_INSTANTIATE(T)                                                                             \
  template struct Node<T>;                                                                                \
  template class Var<T>;                                                                                  \
  template Var<T> parameter<T>(Mat<T>, std::string);                                                      \
  template Var<T> constant<T>(Mat<T>);                                                                    \
  template Var<T> detach<T>(const Var<T>&);                                                               \
  template Var<T> make_op<T>(const char*, Mat<T>, std::vector<Var<T>>, std::function<void(Node<T>&)>);    \
  template std::vector<Node<T>*> topo_order<T>(Node<T>*);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
