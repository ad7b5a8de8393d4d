// tests/test_clip.cc — clip_grad_norm_ against torch.nn.utils.clip_grad_norm_ (fixture from
// tools/torch/make_optim_fixture.py), clip_grad_value_, the finite-gradient check and the clip counter.
#include "nn/clip.h"
#include "engine/ops.h"
#include "nn/embedding.h"
#include "nn/gradflow.h"
#include "nn/optim.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

using namespace unroll;
using nlohmann::json;

namespace {

const json& clip_fixture() {
  static const json j = [] {
    std::ifstream in(std::string(UNROLL_SOURCE_DIR) + "/tests/fixtures/optim/optim.json");
    REQUIRE_MESSAGE(in.good(), "missing tests/fixtures/optim/optim.json (run tools/torch/make_optim_fixture.py)");
    return json::parse(in)["clip"];
  }();
  return j;
}

Mat<double> to_mat(const json& rows) {
  Mat<double> m = zeros<double>(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < m.shape(0); ++i)
    for (std::size_t k = 0; k < m.shape(1); ++k) m(i, k) = rows[i][k].get<double>();
  return m;
}

// Parameters whose gradients are the fixture's.
std::vector<NamedParam<double>> with_grads(const json& grads) {
  std::vector<NamedParam<double>> ps;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    Mat<double> g = to_mat(grads[i]);
    Var<double> v = parameter(zeros<double>(g.shape(0), g.shape(1)), "p" + std::to_string(i));
    v.grad() = g;
    ps.push_back({"p" + std::to_string(i), v});
  }
  return ps;
}

template <class T>
std::vector<NamedParam<T>> small_params(T a, T b) {
  Var<T> x = parameter(zeros<T>(1, 2), "x"), y = parameter(zeros<T>(2, 1), "y");
  x.grad() = mat<T>({{a, b}});
  y.grad() = mat<T>({{T(1)}, {T(-2)}});
  return {{"x", x}, {"y", y}};
}

}  // namespace

TEST_SUITE("nn.clip") {

TEST_CASE("clip: clip_grad_norm_ matches torch for norm types 2, 1, 3 and inf") {
  const json& f = clip_fixture();
  double worst = 0;
  int fired = 0;
  for (const json& c : f["cases"]) {
    const double norm_type = c["norm_type"].is_string() ? kInfNorm : c["norm_type"].get<double>();
    const double max_norm = c["max_norm"];
    CAPTURE(norm_type);
    CAPTURE(max_norm);
    auto ps = with_grads(f["grads"]);
    ClipCounter counter;
    const double total = clip_grad_norm_(ps, max_norm, norm_type, true, &counter);
    const double want = c["total_norm"];
    CHECK(std::abs(total - want) <= 1e-12 * want);
    worst = std::max(worst, std::abs(total - want) / want);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const Mat<double> g = to_mat(c["grads_after"][i]);
      for (std::size_t k = 0; k < g.size(); ++k) {
        CHECK(std::abs(ps[i].var.grad().data()[k] - g.data()[k]) <= 1e-12);
        worst = std::max(worst, std::abs(ps[i].var.grad().data()[k] - g.data()[k]));
      }
    }
    CHECK(counter.calls == 1);
    CHECK(counter.clipped == (total > max_norm ? 1u : 0u));
    fired += int(counter.clipped);
  }
  CHECK(fired == 4);  // max_norm 1 clips, max_norm 100 does not
  MESSAGE("clip_grad_norm_ vs torch: max difference (relative norm / absolute grad) = ", worst);
}

TEST_CASE("clip: a norm under max_norm leaves the gradients bitwise unchanged") {
  auto ps = small_params<float>(0.5f, -0.25f);
  const Mat<float> gx = ps[0].var.grad();
  const double n = clip_grad_norm_(ps, 10.0);
  CHECK(n == doctest::Approx(std::sqrt(0.25 + 0.0625 + 1 + 4)));
  CHECK(std::memcmp(ps[0].var.grad().data(), gx.data(), sizeof(float) * 2) == 0);
}

TEST_CASE("clip: a norm over max_norm rescales to max_norm (PyTorch's 1e-6 in the denominator)") {
  auto ps = small_params<double>(3.0, 4.0);  // norm sqrt(9 + 16 + 1 + 4) = sqrt(30)
  const double n = clip_grad_norm_(ps, 1.0);
  CHECK(n == doctest::Approx(std::sqrt(30.0)).epsilon(1e-15));
  CHECK(grad_norm(ps) == doctest::Approx(1.0 / (1.0 + 1e-6 / std::sqrt(30.0))).epsilon(1e-14));
  CHECK(ps[1].var.grad()(1, 0) == doctest::Approx(-2.0 / (std::sqrt(30.0) + 1e-6)).epsilon(1e-14));
}

TEST_CASE("clip: a NaN or Inf gradient makes clip_grad_norm_ throw and leaves every gradient untouched") {
  for (double bad : {std::nan(""), double(INFINITY)}) {
    auto ps = small_params<double>(1.0, bad);
    ps[1].var.grad()(0, 0) = 100;  // would be clipped
    ClipCounter counter;
    CHECK_THROWS_WITH_AS(clip_grad_norm_(ps, 1.0, 2.0, true, &counter),
                         doctest::Contains("clip_grad_norm_: gradient of 'x' [1, 2] is not finite: (0, 1)"), NumericError);
    CHECK(ps[1].var.grad()(0, 0) == 100);
    CHECK(ps[0].var.grad()(0, 0) == 1.0);
    CHECK(counter.non_finite == 1);
    // error_if_nonfinite = false: PyTorch 1.13's default behaviour, the norm comes back non-finite.
    auto qs = small_params<double>(1.0, bad);
    const double n = clip_grad_norm_(qs, 1.0, 2.0, false);
    CHECK(!std::isfinite(n));
  }
  // A finite gradient whose squared sum overflows in float still has a finite norm (accumulated in double).
  auto big = small_params<float>(3e38f, 3e38f);
  CHECK(std::isfinite(clip_grad_norm_(big, 1.0)));
  CHECK(std::isfinite(big[0].var.grad()(0, 0)));
}

TEST_CASE("clip: check_finite_grads names the parameter, the entry and the caller") {
  auto ps = small_params<float>(1.0f, 2.0f);
  CHECK_NOTHROW(check_finite_grads(ps, "train step 7"));
  ps[1].var.grad()(1, 0) = -INFINITY;
  CHECK_THROWS_WITH_AS(check_finite_grads(ps, "train step 7"),
                       doctest::Contains("train step 7: gradient of 'y' [2, 1] is not finite: (1, 0) = -inf (1 non-finite "
                                         "entries); step refused, no weight changed"),
                       NumericError);
}

TEST_CASE("clip: clip_grad_value_ clamps every entry and keeps NaN") {
  auto ps = small_params<double>(0.3, -7.0);
  clip_grad_value_(ps, 0.5);
  CHECK(ps[0].var.grad()(0, 0) == 0.3);
  CHECK(ps[0].var.grad()(0, 1) == -0.5);
  CHECK(ps[1].var.grad()(0, 0) == 0.5);
  CHECK(ps[1].var.grad()(1, 0) == -0.5);
  auto qs = small_params<double>(std::nan(""), 1.0);
  clip_grad_value_(qs, 0.5);
  CHECK(std::isnan(qs[0].var.grad()(0, 0)));
  CHECK_THROWS_AS(clip_grad_value_(qs, -1.0), ShapeError);
}

TEST_CASE("clip: parameters without gradients are skipped") {
  Var<double> a = parameter(zeros<double>(2, 2), "a"), b = parameter(zeros<double>(1, 3), "b");
  b.grad() = mat<double>({{3, 0, 4}});
  std::vector<NamedParam<double>> ps{{"a", a}, {"b", b}};
  CHECK(clip_grad_norm_(ps, 1.0) == doctest::Approx(5.0));
  CHECK(a.grad().size() == 0);
  CHECK(grad_norm(ps, kInfNorm) == doctest::Approx(0.8 / (1 + 2e-7)));
}

TEST_CASE("clip: ClipCounter counts how often clipping fired") {
  ClipCounter c;
  for (int i = 0; i < 10; ++i) {
    auto ps = small_params<double>(double(i), 0.0);  // norm sqrt(i² + 5)
    clip_grad_norm_(ps, 3.0, 2.0, true, &c);
  }
  // sqrt(i² + 5) >= 3  <=>  i >= 2: 8 of 10. At exactly max_norm (i = 2) PyTorch's coefficient
  // 3 / (3 + 1e-6) < 1 still rescales the gradients, so that counts as fired.
  CHECK(c.calls == 10);
  CHECK(c.clipped == 8);
  CHECK(c.fraction() == doctest::Approx(0.8));
  CHECK(c.max_norm_seen == doctest::Approx(std::sqrt(86.0)));
  CHECK(c.describe().find("clipped 8 of 10 steps (80.0%)") == 0);
  c.reset();
  CHECK(c.calls == 0);
}

TEST_CASE("clip: clipping then stepping is the usual loop; the optimizer refuses what clipping let through") {
  Var<double> w = parameter(mat<double>({{1.0, 2.0}}), "w");
  std::vector<NamedParam<double>> ps{{"w", w}};
  SGD<double> opt(ps, {.lr = 1.0});
  w.grad() = mat<double>({{30.0, 40.0}});
  CHECK(clip_grad_norm_(ps, 5.0) == doctest::Approx(50.0));
  opt.step();
  CHECK(w.value()(0, 0) == doctest::Approx(1.0 - 3.0).epsilon(1e-6));
  w.grad() = mat<double>({{std::nan(""), 1.0}});
  clip_grad_value_(ps, 1.0);  // clamping keeps NaN
  const Mat<double> before = w.value();
  CHECK_THROWS_AS(opt.step(), NumericError);
  CHECK(std::memcmp(w.value().data(), before.data(), 2 * sizeof(double)) == 0);
}

}  // TEST_SUITE

TEST_CASE("clip: clipping an embedding's row-sparse gradient keeps it row-sparse and scales only its rows") {
  Rng rng(5);
  Embedding<float> emb(50, 4, rng);
  auto params = emb.parameters();
  const Var<float> out = emb({3, 7, 3});
  sum(mul(out, constant(full<float>(3, 4, 100.0f)))).backward();  // a large gradient: clipping fires
  REQUIRE(params[0].var.grad_rows() != nullptr);
  const std::vector<std::size_t> rows = *params[0].var.grad_rows();
  CHECK(rows == std::vector<std::size_t>{3, 7});
  const float before = std::as_const(params[0].var).grad()(3, 0);
  clip_grad_norm_(params, 1.0);
  REQUIRE(params[0].var.grad_rows() != nullptr);  // still sparse: the optimizer visits 2 rows, not 50
  CHECK(*params[0].var.grad_rows() == rows);
  CHECK(std::as_const(params[0].var).grad()(3, 0) < before);
  CHECK(grad_norm(params) == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(std::as_const(params[0].var).grad()(0, 0) == 0.0f);
  clip_grad_value_(params, 0.01);
  REQUIRE(params[0].var.grad_rows() != nullptr);
  CHECK(std::as_const(params[0].var).grad()(7, 1) <= 0.01f);
}
