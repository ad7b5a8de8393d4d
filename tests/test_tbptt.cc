// tests/test_tbptt.cc — truncated BPTT against the closed form of a tiny linear recurrence
// h_t = w·h_{t-1} + x_t with loss Σ_t c_t·h_t, and the gradient-flow norms ‖∂L/∂h_t‖ (nn/gradflow.h).
#include "engine/ops.h"
#include "nn/gradflow.h"
#include "nn/optim.h"
#include "nn/tbptt.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace unroll;

namespace {

struct Recurrence {
  std::size_t T;
  double w0;
  std::vector<double> x, c;  // inputs and loss weights per step
  double h0;
};

Recurrence make_rec(std::size_t T, double w, std::uint64_t seed) {
  Rng rng(seed);
  Recurrence r{T, w, {}, {}, rng.normal()};
  for (std::size_t t = 0; t < T; ++t) {
    r.x.push_back(rng.normal());
    r.c.push_back(rng.normal());
  }
  return r;
}

struct Grads {
  double dw = 0, dh0 = 0;
  std::vector<double> dx;
};

// Closed form of the truncated gradients. Within chunk [t0, t1) starting from the (constant) state s:
//   h_t = w^n s + Σ_{j=t0..t} w^{t-j} x_j,  n = t - t0 + 1
//   ∂h_t/∂w = n w^{n-1} s + Σ_j (t-j) w^{t-j-1} x_j;   ∂L/∂x_j = Σ_{t=j..t1-1} c_t w^{t-j}
//   ∂L/∂h0 = Σ_{t in the first chunk} c_t w^{t+1}   (later chunks start from a detached state)
Grads closed_form(const Recurrence& r, std::size_t k) {
  Grads g;
  g.dx.assign(r.T, 0.0);
  const double w = r.w0;
  double s = r.h0;  // the forward value entering the chunk (detach keeps values)
  for (std::size_t t0 = 0; t0 < r.T; t0 += k) {
    const std::size_t t1 = std::min(r.T, t0 + k);
    for (std::size_t t = t0; t < t1; ++t) {
      const double n = double(t - t0 + 1);
      double dh_dw = n * std::pow(w, n - 1) * s;
      for (std::size_t j = t0; j <= t; ++j) {
        if (t > j) dh_dw += double(t - j) * std::pow(w, double(t - j - 1)) * r.x[j];
        g.dx[j] += r.c[t] * std::pow(w, double(t - j));
      }
      g.dw += r.c[t] * dh_dw;
      if (t0 == 0) g.dh0 += r.c[t] * std::pow(w, double(t + 1));
    }
    for (std::size_t t = t0; t < t1; ++t) s = w * s + r.x[t];
  }
  return g;
}

struct Leaves {
  Var<double> w, h0;
  std::vector<Var<double>> x;
  std::vector<Var<double>> hs;  // every h_t of the last run (for gradient-flow checks)
};

Leaves make_leaves(const Recurrence& r) {
  Leaves l{parameter(full<double>(1, 1, r.w0), "w"), parameter(full<double>(1, 1, r.h0), "h0"), {}, {}};
  for (double v : r.x) l.x.push_back(parameter(full<double>(1, 1, v)));
  return l;
}

ChunkFn<double> chunk_fn(const Recurrence& r, Leaves& l) {
  return [&r, &l](std::size_t t0, std::size_t t1, const std::vector<Var<double>>& state) {
    Var<double> h = state[0], loss;
    for (std::size_t t = t0; t < t1; ++t) {
      h = add(mul(l.w, h), l.x[t]);
      l.hs.push_back(h);
      Var<double> term = scale(h, r.c[t]);
      loss = loss.defined() ? add(loss, term) : term;
    }
    return ChunkOutput<double>{loss, {h}};
  };
}

Grads run_tbptt(const Recurrence& r, std::size_t k, Leaves* keep = nullptr) {
  Leaves local = make_leaves(r);
  Leaves& l = keep ? *keep : local;
  if (keep) l = make_leaves(r);
  tbptt<double>(r.T, k, {l.h0}, chunk_fn(r, l));
  Grads g{l.w.grad()(0, 0), l.h0.grad()(0, 0), {}};
  for (auto& x : l.x) g.dx.push_back(x.grad()(0, 0));
  return g;
}

void check_close(const Grads& a, const Grads& b, double tol) {
  CHECK(a.dw == doctest::Approx(b.dw).epsilon(tol));
  CHECK(a.dh0 == doctest::Approx(b.dh0).epsilon(tol));
  REQUIRE(a.dx.size() == b.dx.size());
  for (std::size_t j = 0; j < a.dx.size(); ++j) CHECK(a.dx[j] == doctest::Approx(b.dx[j]).epsilon(tol));
}

}  // namespace

TEST_SUITE("nn.tbptt") {

TEST_CASE("tbptt: chunks cover the steps, the last one shorter") {
  using C = std::vector<std::pair<std::size_t, std::size_t>>;
  CHECK(tbptt_chunks(7, 3) == C{{0, 3}, {3, 6}, {6, 7}});
  CHECK(tbptt_chunks(6, 3) == C{{0, 3}, {3, 6}});
  CHECK(tbptt_chunks(2, 10) == C{{0, 2}});
  CHECK(tbptt_chunks(0, 4).empty());
  CHECK_THROWS_WITH_AS(tbptt_chunks(5, 0), doctest::Contains("chunk length k must be >= 1"), ShapeError);
}

TEST_CASE("tbptt: with k >= T it is full BPTT") {
  const Recurrence r = make_rec(7, 0.9, 1);
  // Full BPTT by hand: one graph over every step.
  Leaves l = make_leaves(r);
  Var<double> h = l.h0, loss;
  for (std::size_t t = 0; t < r.T; ++t) {
    h = add(mul(l.w, h), l.x[t]);
    loss = t ? add(loss, scale(h, r.c[t])) : scale(h, r.c[t]);
  }
  loss.backward();
  Grads full{l.w.grad()(0, 0), l.h0.grad()(0, 0), {}};
  for (auto& x : l.x) full.dx.push_back(x.grad()(0, 0));
  for (std::size_t k : {7u, 8u, 100u}) {
    CAPTURE(k);
    const Grads g = run_tbptt(r, k);
    CHECK(g.dw == full.dw);  // the same graph: bitwise
    CHECK(g.dh0 == full.dh0);
    CHECK(g.dx == full.dx);
  }
  check_close(full, closed_form(r, r.T), 1e-12);
}

TEST_CASE("tbptt: with k < T the gradient matches the truncated closed form and stops at chunk borders") {
  for (double w : {0.9, -1.3, 0.5}) {
    for (std::size_t k : {1u, 2u, 3u, 4u, 6u}) {
      CAPTURE(w);
      CAPTURE(k);
      const Recurrence r = make_rec(7, w, 2);
      check_close(run_tbptt(r, k), closed_form(r, k), 1e-12);
    }
  }
  // Loss only at the last step: nothing reaches the inputs before the last chunk, nor h0.
  Recurrence r = make_rec(7, 0.9, 3);
  std::fill(r.c.begin(), r.c.end(), 0.0);
  r.c[6] = 1.0;
  const Grads g = run_tbptt(r, 3);  // chunks [0,3) [3,6) [6,7)
  for (std::size_t j = 0; j < 6; ++j) CHECK(g.dx[j] == 0.0);
  CHECK(g.dx[6] == 1.0);
  CHECK(g.dh0 == 0.0);
  CHECK(g.dw == doctest::Approx(closed_form(r, 3).dw).epsilon(1e-12));
  // while full BPTT reaches x_0 with weight w^6
  CHECK(run_tbptt(r, 7).dx[0] == doctest::Approx(std::pow(0.9, 6)).epsilon(1e-12));
}

TEST_CASE("tbptt: the hook runs after each chunk's backward; states are detached and values carried") {
  const Recurrence r = make_rec(5, 0.8, 4);
  Leaves l = make_leaves(r);
  SGD<double> opt({{"w", l.w}}, {.lr = 0.01});
  std::vector<std::size_t> seen;
  std::vector<double> w_at_chunk;
  auto res = tbptt<double>(r.T, 2, {l.h0}, chunk_fn(r, l), [&](std::size_t i) {
    seen.push_back(i);
    CHECK(l.w.grad().size() == 1);
    opt.step();
    opt.zero_grad();
    w_at_chunk.push_back(l.w.value()(0, 0));
  });
  CHECK(seen == std::vector<std::size_t>{0, 1, 2});
  CHECK(res.chunk_losses.size() == 3);
  CHECK(res.total_loss == doctest::Approx(res.chunk_losses[0] + res.chunk_losses[1] + res.chunk_losses[2]));
  REQUIRE(res.final_state.size() == 1);
  CHECK(!res.final_state[0].requires_grad());
  CHECK(res.final_state[0].value()(0, 0) == l.hs.back().value()(0, 0));
  CHECK(w_at_chunk[0] != r.w0);  // the optimizer really stepped between chunks
}

TEST_CASE("tbptt: generic over the state vector (an LSTM-like pair), and the state size is checked") {
  Var<double> w = parameter(full<double>(1, 1, 0.7), "w");
  ChunkFn<double> two = [&](std::size_t t0, std::size_t t1, const std::vector<Var<double>>& st) {
    Var<double> h = st[0], c = st[1];
    for (std::size_t t = t0; t < t1; ++t) {
      h = add_scalar(mul(w, h), 1.0);
      c = add(c, h);
    }
    return ChunkOutput<double>{sum(c), {h, c}};
  };
  auto res = tbptt<double>(4, 2, {constant(zeros<double>(1, 1)), constant(zeros<double>(1, 1))}, two);
  REQUIRE(res.final_state.size() == 2);
  // h: 1, 1.7, 2.19, 2.533; c sums them
  CHECK(res.final_state[0].value()(0, 0) == doctest::Approx(2.533));
  CHECK(res.final_state[1].value()(0, 0) == doctest::Approx(1 + 1.7 + 2.19 + 2.533));
  ChunkFn<double> wrong = [&](std::size_t, std::size_t, const std::vector<Var<double>>& st) {
    return ChunkOutput<double>{sum(st[0]), {st[0]}};
  };
  CHECK_THROWS_WITH_AS(tbptt<double>(4, 2, {constant(zeros<double>(1, 1)), constant(zeros<double>(1, 1))}, wrong),
                       doctest::Contains("returned a state of 1 Vars for steps [0, 2), it was given 2"), ShapeError);
}

TEST_CASE("tbptt: StateCarry hands out the last state detached, across batches") {
  Var<double> w = parameter(full<double>(1, 1, 0.5), "w");
  StateCarry<double> carry({constant(full<double>(1, 1, 2.0)), Var<double>()});
  for (int batch = 0; batch < 3; ++batch) {
    Var<double> h = mul(w, carry.state()[0]);
    sum(h).backward();
    CHECK(w.grad()(0, 0) == doctest::Approx(carry.state()[0].value()(0, 0)));  // no gradient from earlier batches
    w.zero_grad();
    carry.carry({h, Var<double>()});
    CHECK(!carry.state()[0].requires_grad());
    CHECK(!carry.state()[1].defined());
  }
  CHECK(carry.state()[0].value()(0, 0) == doctest::Approx(2.0 * 0.125));
}

TEST_CASE("gradflow: |dL/dh_t| of a linear recurrence is |w|^(T-1-t) when the loss is h_T") {
  for (double w : {0.5, 1.5}) {
    Recurrence r = make_rec(6, w, 5);
    std::fill(r.c.begin(), r.c.end(), 0.0);
    r.c[5] = 1.0;
    Leaves l;
    run_tbptt(r, 100, &l);
    const auto n = grad_norms(l.hs);
    REQUIRE(n.size() == 6);
    for (std::size_t t = 0; t < 6; ++t) CHECK(n[t] == doctest::Approx(std::pow(w, double(5 - t))).epsilon(1e-12));
    // truncated at k = 2: the norm is 0 before the last chunk [4, 6)
    Leaves lt;
    run_tbptt(r, 2, &lt);
    const auto nt = grad_norms(lt.hs);
    CHECK(nt[3] == 0.0);
    CHECK(nt[4] == doctest::Approx(w));
  }
}

TEST_CASE("gradflow: per-row norms, accumulated statistics and a table") {
  // h_t = 0.5·h_{t-1} + x_t over a batch of 2, L = <h_3, R> with R's rows all 1 and all 2.
  Rng rng(6);
  std::vector<Var<double>> hs;
  Var<double> h = constant(zeros<double>(2, 3));
  for (int t = 0; t < 4; ++t) {
    h = add(scale(h, 0.5), parameter(rng.normal_mat<double>(2, 3)));
    hs.push_back(h);
  }
  Mat<double> R = mat<double>({{1, 1, 1}, {2, 2, 2}});
  sum(mask(h, R)).backward();
  const auto rows = grad_norms_per_row(hs);
  REQUIRE(rows.size() == 4);
  for (std::size_t t = 0; t < 4; ++t) {
    CHECK(rows[t][0] == doctest::Approx(std::pow(0.5, double(3 - t)) * std::sqrt(3.0)));
    CHECK(rows[t][1] == doctest::Approx(2 * std::pow(0.5, double(3 - t)) * std::sqrt(3.0)));
  }
  GradFlowStats stats;
  stats.add(grad_norms(hs));
  stats.add({1.0, 1.0});  // a shorter run
  CHECK(stats.runs() == 2);
  const auto m = stats.mean();
  REQUIRE(m.size() == 4);
  CHECK(m[0] == doctest::Approx((0.125 * std::sqrt(15.0) + 1.0) / 2));
  CHECK(m[3] == doctest::Approx(std::sqrt(15.0)));
  CHECK(stats.counts() == std::vector<std::size_t>{2, 2, 1, 1});
  CHECK(stats.first_to_last_ratio() == doctest::Approx(m[3] / m[0]));
  const std::string table = stats.table(3);
  CHECK(table.find("mean |dL/dh_t|") != std::string::npos);
  CHECK(std::count(table.begin(), table.end(), '\n') == 4);  // header + 3 rows (t = 0, 1, 3)
  // A step that took no gradient reads 0.
  CHECK(grad_norms(std::vector<Var<double>>{constant(zeros<double>(1, 2))})[0] == 0.0);
}

}  // TEST_SUITE
