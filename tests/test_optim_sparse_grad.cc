// tests/test_optim_sparse_grad.cc — row-tracked embedding gradients (engine/var.h Node::sparse_grad,
// nn/embedding.h, nn/optim.h): the embedding's backward lists the rows it wrote; the optimizers' scan and
// zero_grad visit only those rows. Tracking must not change a single bit: every optimizer configuration is
// run with tracking on and off and compared bitwise (weights, state, gradients). Lazy sparse_rows against
// dense on the rows every step touches (float tolerance), untouched rows bitwise unchanged; tied weights,
// a mutable grad() access and NaN refusal fall back to dense.
#include "engine/ops.h"
#include "nn/embedding.h"
#include "nn/optim.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

using namespace unroll;

namespace {
template <class T>
bool bitwise_equal(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// A tiny model: embedding [V, E] -> linear head [E, K] -> squared loss against fixed targets.
template <class T>
struct Tiny {
  Rng rng{11};
  Embedding<T> emb{40, 3, rng};
  Var<T> head = parameter(rng.normal_mat<T>(3, 2), "head");
  std::vector<NamedParam<T>> params() { return {{"emb.weight", emb.weight()}, {"head", head}}; }
  Var<T> loss(const std::vector<std::int64_t>& ids) {
    Var<T> y = matmul(emb.forward(ids), head);
    return sum(mul(y, y));
  }
};

using Make = std::function<std::unique_ptr<Optimizer<float>>(std::vector<NamedParam<float>>)>;
struct Config {
  const char* name;
  Make make;
};
std::vector<Config> configs(bool sparse_rows) {
  return {
      {"SGD", [=](auto ps) { return std::make_unique<SGD<float>>(ps, SGDOptions{.lr = 0.1, .sparse_rows = sparse_rows}); }},
      {"SGD momentum wd",
       [=](auto ps) {
         return std::make_unique<SGD<float>>(
             ps, SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .sparse_rows = sparse_rows});
       }},
      {"Adagrad", [=](auto ps) { return std::make_unique<Adagrad<float>>(ps, AdagradOptions{.lr = 0.1, .sparse_rows = sparse_rows}); }},
      {"Adagrad wd",
       [=](auto ps) {
         return std::make_unique<Adagrad<float>>(ps, AdagradOptions{.lr = 0.1, .weight_decay = 1e-2, .sparse_rows = sparse_rows});
       }},
      {"RMSprop", [=](auto ps) { return std::make_unique<RMSprop<float>>(ps, RMSpropOptions{.lr = 0.01, .sparse_rows = sparse_rows}); }},
      {"RMSprop centered momentum",
       [=](auto ps) {
         return std::make_unique<RMSprop<float>>(
             ps, RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true, .sparse_rows = sparse_rows});
       }},
      {"Adam", [=](auto ps) { return std::make_unique<Adam<float>>(ps, AdamOptions{.lr = 0.01, .sparse_rows = sparse_rows}); }},
      {"AdamW amsgrad",
       [=](auto ps) {
         return std::make_unique<Adam<float>>(ps, AdamOptions{.lr = 0.01, .weight_decay = 0.01, .amsgrad = true,
                                                             .decoupled_weight_decay = true, .sparse_rows = sparse_rows});
       }},
  };
}
const std::vector<std::vector<std::int64_t>> kBatches = {{3, 7, 3}, {7, 12}, {0, 39, 5, 12}, {3}, {20, 21, 22}};
}  // namespace

TEST_SUITE("optim.sparse_grad") {

TEST_CASE("embedding backward lists the rows it wrote; zero_grad_in_place clears just those") {
  Tiny<float> m;
  CHECK(m.emb.sparse_grad());
  m.emb.weight().zero_grad();
  m.loss({5, 2, 5, 9}).backward();
  const Var<float>& w = m.emb.weight();
  const std::vector<std::size_t>* rows = w.grad_rows();
  REQUIRE(rows != nullptr);
  CHECK(*rows == std::vector<std::size_t>{2, 5, 9});
  m.loss({9, 30}).backward();  // accumulates: the union
  REQUIRE(w.grad_rows() != nullptr);
  CHECK(*w.grad_rows() == std::vector<std::size_t>{2, 5, 9, 30});
  Var<float> wv = m.emb.weight();
  wv.zero_grad_in_place();
  CHECK(w.grad_rows() != nullptr);
  CHECK(w.grad_rows()->empty());
  for (float v : w.grad()) CHECK(v == 0.f);
}

TEST_CASE("a table reached by another op (tied weights), a mutable grad() or tracking off is dense") {
  Tiny<float> m;
  Var<float> w = m.emb.weight();
  w.zero_grad();
  Var<float> tied = sum(matmul(m.emb.forward({1, 2}), transpose(w)));  // the table also used as a matrix
  tied.backward();
  CHECK(static_cast<const Var<float>&>(w).grad_rows() == nullptr);
  w.zero_grad();
  m.loss({1}).backward();
  CHECK(static_cast<const Var<float>&>(w).grad_rows() != nullptr);
  w.grad()(4, 0) = 1.f;  // a write the tape did not see
  CHECK(static_cast<const Var<float>&>(w).grad_rows() == nullptr);
  m.emb.set_sparse_grad(false);
  w.zero_grad();
  m.loss({1}).backward();
  CHECK(static_cast<const Var<float>&>(w).grad_rows() == nullptr);
}

TEST_CASE("every optimizer gives bitwise the same weights, state and gradients with tracking on and off") {
  for (bool sparse_rows : {false, true})
    for (const Config& c : configs(sparse_rows)) {
      CAPTURE(c.name);
      CAPTURE(sparse_rows);
      Tiny<float> a, b;
      b.emb.set_sparse_grad(false);
      auto oa = c.make(a.params()), ob = c.make(b.params());
      for (const auto& ids : kBatches) {
        oa->zero_grad();
        ob->zero_grad();
        a.loss(ids).backward();
        b.loss(ids).backward();
        oa->step();
        ob->step();
        CHECK(bitwise_equal(a.emb.weight().value(), b.emb.weight().value()));
        CHECK(bitwise_equal(a.head.value(), b.head.value()));
      }
      auto sa = oa->state(), sb = ob->state();
      REQUIRE(sa.size() == sb.size());
      for (std::size_t i = 0; i < sa.size(); ++i) {
        CAPTURE(sa[i].first);
        CHECK(bitwise_equal(sa[i].second, sb[i].second));
      }
      oa->zero_grad();
      for (float v : static_cast<const Var<float>&>(a.emb.weight()).grad()) CHECK(v == 0.f);
    }
}

TEST_CASE("lazy sparse_rows against dense: touched rows agree, untouched rows stay bitwise as they were") {
  const std::vector<std::int64_t> ids{4, 17, 4, 33};  // the same rows every step
  const std::vector<Config> dense_configs = configs(false), lazy_configs = configs(true);  // outlive the refs
  for (std::size_t k = 0; k < dense_configs.size(); ++k) {
    const Config& dense_c = dense_configs[k];
    const Config& lazy_c = lazy_configs[k];
    CAPTURE(dense_c.name);
    Tiny<float> d, l;
    const Mat<float> before = l.emb.weight().value();
    auto od = dense_c.make(d.params()), ol = lazy_c.make(l.params());
    for (int s = 0; s < 4; ++s) {
      od->zero_grad();
      ol->zero_grad();
      d.loss(ids).backward();
      l.loss(ids).backward();
      od->step();
      ol->step();
    }
    const Mat<float>& wd = d.emb.weight().value();
    const Mat<float>& wl = l.emb.weight().value();
    for (std::size_t r = 0; r < wd.shape(0); ++r) {
      const bool touched = r == 4 || r == 17 || r == 33;
      for (std::size_t c = 0; c < wd.shape(1); ++c) {
        CAPTURE(r);
        if (touched) {
          CHECK(std::abs(wd(r, c) - wl(r, c)) <= 1e-5f * (1.f + std::abs(wd(r, c))));
        } else {
          float a = wl(r, c), b = before(r, c);
          CHECK(std::memcmp(&a, &b, sizeof a) == 0);
        }
      }
    }
  }
}

TEST_CASE("a NaN written into an untouched row of a tracked gradient still refuses the step") {
  Tiny<float> m;
  Adam<float> opt(m.params(), AdamOptions{.sparse_rows = true});
  opt.zero_grad();
  m.loss({1, 2}).backward();
  m.emb.weight().grad()(30, 1) = std::nanf("");
  const Mat<float> w = m.emb.weight().value();
  CHECK_THROWS_AS(opt.step(), NumericError);
  CHECK(bitwise_equal(m.emb.weight().value(), w));
}

TEST_CASE("zero_grad(set_to_none) then backward starts a fresh row list") {
  Tiny<float> m;
  SGD<float> opt(m.params(), SGDOptions{.lr = 0.1});
  m.loss({1}).backward();
  opt.zero_grad(true);
  CHECK(m.emb.weight().grad().size() == 0);
  m.loss({6, 8}).backward();
  const Var<float>& w = m.emb.weight();
  REQUIRE(w.grad_rows() != nullptr);
  CHECK(*w.grad_rows() == std::vector<std::size_t>{6, 8});
  const Mat<float> before = w.value();
  opt.step();
  for (std::size_t r = 0; r < 40; ++r)
    if (r != 6 && r != 8) CHECK(std::memcmp(w.value().data() + r * 3, before.data() + r * 3, 3 * sizeof(float)) == 0);
  CHECK(w.value()(6, 0) != before(6, 0));
}

}  // TEST_SUITE
