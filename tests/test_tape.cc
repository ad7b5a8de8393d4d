// tests/test_tape.cc — engine/var.{h,cc}: the tape. BPTT as accumulation over a 10,000-step chain (closed
// form), no stack overflow in backward or destruction (100,000 steps), no_grad, detach (truncated BPTT),
// zero_grad, leaf accumulation across backward calls, no leak when the graph is rebuilt per batch, anomaly
// mode in forward and backward, backward's seed errors, and a user-defined op (the README example).
#include "tests/op_test_helpers.h"

#include <pthread.h>

#include <cmath>
#include <limits>
#include <memory>

using namespace unroll;
using namespace unroll::test;

// ---- a user-defined op: the README example ---------------------------------------------------------
// softsign  y = x / (1 + |x|)        backward  dx += dy / (1 + |x|)²
template <class T>
Var<T> softsign(const Var<T>& x) {
  Mat<T> y = x.value() / (T(1) + xt::abs(x.value()));
  return make_op<T>("softsign", std::move(y), {x}, [](Node<T>& out) {
    Node<T>& x = out.parent(0);
    x.grad += out.grad / xt::square(T(1) + xt::abs(x.value));
  });
}

TEST_SUITE("tape") {

TEST_CASE("make_op: a user-defined op (softsign) passes gradcheck in float64") {
  Rng rng(7);
  Var<double> x = parameter(rng.normal_mat<double>(3, 4));
  GradCheckResult r = gradcheck([&] { return softsign(x); }, {{"x", x}});
  CHECK_MESSAGE(r.ok, r.report);

  std::uint64_t seed = 500;
  for (auto [rr, c] : grad_shapes()) {
    VarD v = parameter(randn(rr, c, seed++));
    CHECK_GRADCHECK([&] { return mul(softsign(v), softsign(v)); }, (Inputs{{"x", v}}));  // used twice
  }
  Var<float> f = constant(mat<float>({{-3, 0, 1}}));  // the same template in float
  CHECK_MAT_NEAR(softsign(f).value(), mat<float>({{-0.75f, 0, 0.5f}}), 1e-7);
  CHECK(std::string(softsign(parameter(mat<double>({{1}}))).op()) == "softsign");
}

// ---- BPTT is accumulation --------------------------------------------------------------------------
TEST_CASE("backward: a weight used at each of 10,000 steps gets the sum over steps (closed form)") {
  // h_t = a ⊙ h_{t-1} + w, h_0 = 0, L = Σ_j h_T[j]  =>  h_T = w (1 - a^T) / (1 - a),  dL/dw = (1 - a^T) / (1 - a)
  const int T = 10000;
  const double a = 0.9995;
  VarD w = parameter(mat<double>({{0.5, -1.0, 2.0}}), "w");
  VarD A = constant(full<double>(1, 3, a));
  VarD h = constant(zeros<double>(1, 3));
  for (int t = 0; t < T; ++t) h = add(mul(A, h), w);
  const double geo = (1 - std::pow(a, T)) / (1 - a);
  CHECK_MAT_NEAR(h.value(), mat<double>({{0.5 * geo, -1.0 * geo, 2.0 * geo}}), 1e-10 * geo);
  sum(h).backward();  // 20,000 nodes deep: the iterative topological sort does not recurse
  CHECK_MAT_NEAR(w.grad(), full<double>(1, 3, geo), 1e-10 * geo);
  h = VarD{};  // dropping the 20,000-node chain does not recurse either
  CHECK(w.node_ptr().use_count() == 1);
}

TEST_CASE("~Node: dropping a 100,000-step chain does not overflow the stack") {
  VarD w = parameter(mat<double>({{1e-6}}));
  std::weak_ptr<Node<double>> first;
  {
    VarD h = constant(zeros<double>(1, 1));
    for (int t = 0; t < 100000; ++t) {
      h = add(h, w);
      if (t == 0) first = h.node_ptr();
    }
    CHECK(h.item() == doctest::Approx(0.1));
    CHECK_FALSE(first.expired());
  }
  CHECK(first.expired());
  CHECK(w.node_ptr().use_count() == 1);
}

TEST_CASE("backward and ~Node: a 10,000-step chain on a 256 KiB thread stack") {
  // On the main thread's 8 MiB stack a recursive walk of 10,000 nodes could still fit; on 256 KiB a
  // recursive topological sort or destructor chain (tens of bytes per level at least) cannot.
  struct Job {
    double grad = 0, value = 0;
  } job;
  auto body = [](void* arg) -> void* {
    Job& j = *static_cast<Job*>(arg);
    VarD w = parameter(mat<double>({{1.0}}));
    VarD h = constant(zeros<double>(1, 1));
    for (int t = 0; t < 10000; ++t) h = tanh(add(h, w));  // 20,000 nodes deep
    VarD loss = mul(h, h);
    loss.backward();
    j.value = h.item();
    j.grad = w.grad()(0, 0);
    return nullptr;  // h, loss and the chain are dropped here, still on the small stack
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t th;
  REQUIRE(pthread_create(&th, &attr, +body, &job) == 0);
  pthread_join(th, nullptr);
  pthread_attr_destroy(&attr);
  // h converges to h* = tanh(h* + 1); with a = 1 - h*², g = dh/dw obeys g = a (g + 1), so g = a / (1 - a) = a / h*²
  // and dL/dw = 2 h* g.
  const double hs = job.value;
  CHECK(hs == doctest::Approx(std::tanh(hs + 1.0)).epsilon(1e-12));
  CHECK(job.grad == doctest::Approx(2 * hs * (1 - hs * hs) / (hs * hs)).epsilon(1e-9));
}

// ---- modes -----------------------------------------------------------------------------------------
TEST_CASE("no_grad: ops build no graph inside the scope, and the mode nests and restores") {
  VarD w = parameter(mat<double>({{2}}));
  CHECK(grad_enabled());
  {
    NoGradGuard ng;
    CHECK_FALSE(grad_enabled());
    VarD y = mul(w, w);
    CHECK(y.item() == 4.0);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.node()->parents.empty());
    CHECK_FALSE(bool(y.node()->backward_fn));
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());
    // nothing upstream takes a gradient: an error naming the op, as PyTorch's (not a silent no-op)
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: the output (op 'mul', [1, 1]) does not require a gradient"),
                         ShapeError);
    CHECK(w.grad().size() == 0);
  }
  CHECK(grad_enabled());
  VarD y = mul(w, w);
  CHECK(y.requires_grad());
  CHECK(y.node()->parents.size() == 2);
  // Ops on constants only build no graph either.
  VarD c = add(constant(zeros<double>(1, 1)), constant(zeros<double>(1, 1)));
  CHECK_FALSE(c.requires_grad());
  CHECK(c.node()->parents.empty());
}

TEST_CASE("detach: gradients stop at the cut (truncated BPTT)") {
  VarD w = parameter(mat<double>({{0.7, -0.3}}));
  VarD x = constant(mat<double>({{0.5, 1.5}}));
  auto step = [&](const VarD& h) { return tanh(add(mul(w, h), x)); };
  // 5 steps, cut, 5 more: w's gradient is that of the last 5 steps started from a constant state.
  VarD h = constant(mat<double>({{0.1, 0.2}}));
  for (int t = 0; t < 5; ++t) h = step(h);
  VarD cut = detach(h);
  CHECK_FALSE(cut.requires_grad());
  CHECK(cut.value() == h.value());
  CHECK(std::string(cut.op()) == "detach");
  CHECK(cut.node()->parents.empty());
  VarD g = cut;
  for (int t = 0; t < 5; ++t) g = step(g);
  sum(g).backward();
  Mat<double> truncated = w.grad();

  w.zero_grad();
  VarD g2 = constant(Mat<double>(h.value()));
  for (int t = 0; t < 5; ++t) g2 = step(g2);
  sum(g2).backward();
  CHECK_MAT_NEAR(truncated, w.grad(), 0);

  w.zero_grad();  // and without the cut the gradient is different (the first 5 steps count too)
  VarD full_h = h;
  for (int t = 0; t < 5; ++t) full_h = step(full_h);
  sum(full_h).backward();
  CHECK(max_abs_diff(truncated, w.grad()) > 1e-5);
}

TEST_CASE("zero_grad and accumulation: leaf gradients add up over backward calls until zeroed") {
  VarD w = parameter(mat<double>({{1, 2}}));
  VarD x = constant(mat<double>({{3, 4}}));
  VarD loss = sum(mul(tanh(w), x));
  loss.backward();
  const Mat<double> once = w.grad();
  loss.backward();  // the same graph again: intermediates restart from zero, the leaf accumulates
  CHECK_MAT_NEAR(w.grad(), 2.0 * once, 1e-15);
  sum(mul(tanh(w), x)).backward();  // a new graph over the same leaf
  CHECK_MAT_NEAR(w.grad(), 3.0 * once, 1e-15);
  w.zero_grad();
  CHECK(w.grad() == zeros<double>(1, 2));
  loss.backward();
  CHECK_MAT_NEAR(w.grad(), once, 0);
  CHECK(x.grad().size() == 0);  // a constant never gets a gradient buffer
  CHECK_THROWS_WITH_AS(VarD{}.zero_grad(), doctest::Contains("zero_grad: called on an undefined Var"), ShapeError);
}

TEST_CASE("graph per batch: rebuilding the graph in a loop frees the old ones") {
  VarD W = parameter(randn(4, 4, 510), "W");
  std::weak_ptr<Node<double>> old_loss, old_hidden;
  for (int batch = 0; batch < 50; ++batch) {
    VarD x = constant(randn(2, 4, 600 + batch));
    VarD h = tanh(matmul(x, W));
    VarD loss = mean(mul(h, h));
    loss.backward();
    if (batch == 0) {
      old_loss = loss.node_ptr();
      old_hidden = h.node_ptr();
    }
    W.zero_grad();
  }
  CHECK(old_loss.expired());
  CHECK(old_hidden.expired());
  CHECK(W.node_ptr().use_count() == 1);  // no graph still holds the weight
}

// ---- anomaly mode ----------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("AnomalyGuard: forward NaN/Inf throws NumericError naming the op", T, float, double) {
  Var<T> zero = parameter(zeros<T>(1, 2));
  {
    Var<T> y = log(zero);  // off: -inf flows silently
    CHECK(std::isinf(y.value()(0, 0)));
  }
  {
    AnomalyGuard on;
    CHECK(anomaly_enabled());
    CHECK_THROWS_WITH_AS(log(zero), doctest::Contains("anomaly: op 'log' produced a non-finite value at (0, 0) = -inf"),
                         NumericError);
    CHECK_THROWS_WITH_AS(div(zero, zero), doctest::Contains("op 'div'"), NumericError);
    CHECK_THROWS_WITH_AS(exp(constant(full<T>(1, 1, T(1000)))), doctest::Contains("op 'exp'"), NumericError);
    CHECK_NOTHROW(tanh(zero));  // finite ops pass
  }
  CHECK_FALSE(anomaly_enabled());
  {
    AnomalyGuard on;
    {
      AnomalyGuard off(false);  // a scope can switch it off again (e.g. around a deliberate log(0))
      CHECK_FALSE(anomaly_enabled());
      CHECK_NOTHROW(log(zero));
    }
    CHECK(anomaly_enabled());
  }
}

TEST_CASE_TEMPLATE("AnomalyGuard: a non-finite gradient in backward throws naming the op", T, float, double) {
  // log of a tiny denormal is finite (about -737 in double, -92 in float), but its gradient 1/x overflows.
  const T tiny = std::numeric_limits<T>::denorm_min();
  Var<T> x = parameter(mat<T>({{T(1), tiny}}));
  {
    AnomalyGuard on;
    Var<T> y = sum(log(x));
    CHECK(std::isfinite(y.item()));
    CHECK_THROWS_WITH_AS(y.backward(),
                         doctest::Contains("anomaly: backward of 'log' gave a non-finite gradient for input 0 at (0, 1)"),
                         NumericError);
  }
  x.zero_grad();
  sum(log(x)).backward();  // off: no check
  CHECK(std::isinf(x.grad()(0, 1)));
}

// ---- backward's arguments --------------------------------------------------------------------------
TEST_CASE("backward: an output that is not 1×1 needs a seed of its shape") {
  VarD x = parameter(zeros<double>(2, 3));
  VarD y = tanh(x);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: without a seed gradient the output must be [1, 1], got [2, 3]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(y.backward(zeros<double>(3, 2)), doctest::Contains("backward: seed is [3, 2], output is [2, 3]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(VarD{}.backward(), doctest::Contains("backward: "), ShapeError);
  CHECK_THROWS_WITH_AS(y.item(), doctest::Contains("item: needs a [1, 1] value, got [2, 3]"), ShapeError);
  y.backward(full<double>(2, 3, 1.0));  // with a seed it works: d tanh at 0 is 1
  CHECK_MAT_NEAR(x.grad(), full<double>(2, 3, 1.0), 0);
}

TEST_CASE("topo_order: parents come before children, each node once") {
  VarD a = parameter(mat<double>({{1}}));
  VarD b = mul(a, a);
  VarD c = add(b, a);
  VarD d = mul(c, b);
  std::vector<Node<double>*> order = topo_order(d.node());
  REQUIRE(order.size() == 4);
  CHECK(order.front() == a.node());
  CHECK(order.back() == d.node());
  auto pos = [&](Node<double>* n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  CHECK(pos(b.node()) < pos(c.node()));
  d.backward();  // d = (a² + a) a² = a⁴ + a³: d' = 4 + 3 at a = 1
  CHECK(a.grad()(0, 0) == 7.0);
}

}  // TEST_SUITE
