// tests/test_loss_seq.cc — masked sequence losses: values against torch (fixture from
// tools/torch/make_optim_fixture.py), float64 gradient checks over shapes including batch 1 and length 1,
// padding that changes nothing, and the padded batch = each sequence alone property.
#include "engine/gradcheck.h"
#include "nn/loss.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace unroll;
using nlohmann::json;

namespace {

const json& loss_fixture() {
  static const json j = [] {
    std::ifstream in(std::string(UNROLL_SOURCE_DIR) + "/tests/fixtures/optim/optim.json");
    REQUIRE_MESSAGE(in.good(), "missing tests/fixtures/optim/optim.json (run tools/torch/make_optim_fixture.py)");
    return json::parse(in)["seq_losses"];
  }();
  return j;
}

Mat<double> to_mat(const json& rows) {
  Mat<double> m = zeros<double>(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < m.shape(0); ++i)
    for (std::size_t k = 0; k < m.shape(1); ++k) m(i, k) = rows[i][k].get<double>();
  return m;
}

std::vector<Var<double>> params_of(const json& steps) {
  std::vector<Var<double>> out;
  for (const json& s : steps) out.push_back(parameter(to_mat(s)));
  return out;
}

std::vector<Var<double>> random_steps(std::size_t T, std::size_t B, std::size_t n, Rng& rng, double sd = 1.5) {
  std::vector<Var<double>> out;
  for (std::size_t t = 0; t < T; ++t) out.push_back(parameter(rng.normal_mat<double>(B, n, 0, sd)));
  return out;
}

std::vector<std::pair<std::string, Var<double>>> named(const std::vector<Var<double>>& xs, const std::string& what) {
  std::vector<std::pair<std::string, Var<double>>> out;
  for (std::size_t t = 0; t < xs.size(); ++t) out.push_back({what + "[" + std::to_string(t) + "]", xs[t]});
  return out;
}

struct Shape {
  std::size_t T, B;
  Lengths lengths;
};
// batch 1, length 1, both; full batches; ragged batches including an empty sequence.
const std::vector<Shape> kShapes = {{1, 1, {}}, {3, 1, {}}, {1, 3, {}}, {4, 3, {4, 2, 1}}, {3, 2, {0, 3}}, {2, 3, {2, 2, 2}}};
const Reduction kReductions[] = {Reduction::Sum, Reduction::Mean, Reduction::None};

}  // namespace

TEST_SUITE("nn.loss") {

TEST_CASE("loss_seq: values match torch with lengths and an ignored token") {
  const json& f = loss_fixture();
  const Lengths lengths = f["lengths"].get<Lengths>();
  const auto targets = f["targets"].get<std::vector<std::vector<std::int64_t>>>();
  auto logits = params_of(f["logits"]);
  double worst = 0;
  auto check = [&](double got, const json& want) {
    const double d = std::abs(got - want.get<double>());
    worst = std::max(worst, d);
    CHECK(d < 1e-12);
  };
  check(sequence_cross_entropy(logits, targets, lengths, Reduction::Sum).item(), f["ce_sum"]);
  check(sequence_cross_entropy(logits, targets, lengths, Reduction::Mean).item(), f["ce_mean"]);
  CHECK(count_real_tokens(targets, lengths) == 6);  // 4 + 2 + 1 real steps, one of them ignored
  std::vector<Mat<double>> y;
  for (const json& s : f["bce_y"]) y.push_back(to_mat(s));
  auto bx = params_of(f["bce_x"]);
  check(sequence_bce_with_logits(bx, y, lengths, Reduction::Sum).item(), f["bce_sum"]);
  check(sequence_bce_with_logits(bx, y, lengths, Reduction::Mean).item(), f["bce_mean"]);
  auto mp = params_of(f["mse_p"]);
  std::vector<Var<double>> my;
  for (const json& s : f["mse_y"]) my.push_back(constant(to_mat(s)));
  check(sequence_mse(mp, my, lengths, Reduction::Sum).item(), f["mse_sum"]);
  check(sequence_mse(mp, my, lengths, Reduction::Mean).item(), f["mse_mean"]);
  MESSAGE("sequence losses vs torch: max |difference| = ", worst);
}

TEST_CASE("loss_seq: cross-entropy passes float64 gradient checks on every shape and reduction") {
  Rng rng(31);
  for (const Shape& s : kShapes) {
    for (Reduction red : kReductions) {
      CAPTURE(s.T);
      CAPTURE(s.B);
      CAPTURE(int(red));
      const std::size_t V = 4;
      auto logits = random_steps(s.T, s.B, V, rng);
      std::vector<std::vector<std::int64_t>> tg(s.T, std::vector<std::int64_t>(s.B));
      for (auto& row : tg)
        for (auto& v : row) v = std::int64_t(rng.below(V));
      if (s.T > 1 && s.B > 1) tg[1][1] = -100;  // an ignored token inside a real step
      auto r = gradcheck([&] { return sequence_cross_entropy(logits, tg, s.lengths, red); }, named(logits, "logits"));
      CHECK_MESSAGE(r.ok, r.report);
    }
  }
}

TEST_CASE("loss_seq: BCE-with-logits passes float64 gradient checks on every shape and reduction") {
  Rng rng(32);
  for (const Shape& s : kShapes) {
    for (Reduction red : kReductions) {
      CAPTURE(s.T);
      CAPTURE(s.B);
      CAPTURE(int(red));
      auto x = random_steps(s.T, s.B, 2, rng);
      std::vector<Mat<double>> y;
      for (std::size_t t = 0; t < s.T; ++t) y.push_back(rng.uniform_mat<double>(s.B, 2, 0, 1));
      auto r = gradcheck([&] { return sequence_bce_with_logits(x, y, s.lengths, red); }, named(x, "x"));
      CHECK_MESSAGE(r.ok, r.report);
    }
  }
}

TEST_CASE("loss_seq: MSE passes float64 gradient checks for predictions and targets") {
  Rng rng(33);
  for (const Shape& s : kShapes) {
    for (Reduction red : kReductions) {
      CAPTURE(s.T);
      CAPTURE(s.B);
      CAPTURE(int(red));
      auto p = random_steps(s.T, s.B, 3, rng), y = random_steps(s.T, s.B, 3, rng);
      auto inputs = named(p, "p");
      for (auto& e : named(y, "y")) inputs.push_back(e);
      auto r = gradcheck([&] { return sequence_mse(p, y, s.lengths, red); }, inputs);
      CHECK_MESSAGE(r.ok, r.report);
    }
  }
}

TEST_CASE("loss_seq: padded steps add nothing and get zero gradient, whatever they hold") {
  Rng rng(34);
  const std::size_t T = 3, B = 2, V = 5;
  const Lengths lengths{3, 1};
  auto logits = random_steps(T, B, V, rng);
  std::vector<std::vector<std::int64_t>> tg{{1, 2}, {3, 4}, {0, 1}};
  Var<double> l1 = sequence_cross_entropy(logits, tg, lengths, Reduction::Mean);
  l1.backward();
  for (std::size_t t = 1; t < T; ++t)
    for (std::size_t v = 0; v < V; ++v) CHECK(logits[t].grad()(1, v) == 0.0);
  // Garbage in the padding: out-of-range targets and huge logits change nothing.
  auto tg2 = tg;
  tg2[1][1] = 999;
  tg2[2][1] = -7;
  auto logits2 = logits;
  logits2[2] = parameter(Mat<double>(logits[2].value()));
  logits2[2].value()(1, 0) = 1e300;
  Var<double> l2 = sequence_cross_entropy(logits2, tg2, lengths, Reduction::Mean);
  CHECK(l2.item() == l1.item());
  // BCE with targets outside [0, 1] in the padding.
  std::vector<Mat<double>> y{full<double>(B, 2, 0.5), full<double>(B, 2, 0.5), full<double>(B, 2, 0.5)};
  auto x = random_steps(T, B, 2, rng);
  const double b1 = sequence_bce_with_logits(x, y, lengths).item();
  y[2](1, 0) = 42.0;
  CHECK(sequence_bce_with_logits(x, y, lengths).item() == b1);
}

TEST_CASE("loss_seq: a padded batch gives each sequence's own loss and gradient") {
  Rng rng(35);
  const std::size_t T = 4, V = 3;
  const Lengths lengths{4, 2, 3};
  auto logits = random_steps(T, 3, V, rng);
  std::vector<std::vector<std::int64_t>> tg(T, std::vector<std::int64_t>(3));
  for (auto& row : tg)
    for (auto& v : row) v = std::int64_t(rng.below(V));
  Var<double> per_seq = sequence_cross_entropy(logits, tg, lengths, Reduction::None);
  REQUIRE(per_seq.value().shape() == std::array<std::size_t, 2>{3, 1});
  sequence_cross_entropy(logits, tg, lengths, Reduction::Sum).backward();
  for (std::size_t b = 0; b < 3; ++b) {
    CAPTURE(b);
    std::vector<Var<double>> alone;
    std::vector<std::vector<std::int64_t>> tb;
    for (std::size_t t = 0; t < lengths[b]; ++t) {
      alone.push_back(parameter(Mat<double>(xt::view(logits[t].value(), xt::range(b, b + 1), xt::all()))));
      tb.push_back({tg[t][b]});
    }
    Var<double> l = sequence_cross_entropy(alone, tb, {}, Reduction::Sum);
    CHECK(l.item() == doctest::Approx(per_seq.value()(b, 0)).epsilon(1e-14));
    l.backward();
    for (std::size_t t = 0; t < lengths[b]; ++t)
      for (std::size_t v = 0; v < V; ++v) CHECK(alone[t].grad()(0, v) == doctest::Approx(logits[t].grad()(b, v)).epsilon(1e-14));
  }
  // Mean divides by the real tokens: 4 + 2 + 3.
  Var<double> mean = sequence_cross_entropy(logits, tg, lengths, Reduction::Mean);
  CHECK(mean.item() == doctest::Approx(xt::sum(per_seq.value())() / 9.0).epsilon(1e-14));
}

TEST_CASE("loss_seq: no real token gives 0 for every reduction") {
  Rng rng(36);
  auto logits = random_steps(2, 2, 3, rng);
  std::vector<std::vector<std::int64_t>> tg{{0, 1}, {2, -100}};
  for (Reduction red : {Reduction::Sum, Reduction::Mean})
    CHECK(sequence_cross_entropy(logits, tg, Lengths{0, 0}, red).item() == 0.0);
  CHECK(xt::sum(sequence_cross_entropy(logits, tg, Lengths{0, 0}, Reduction::None).value())() == 0.0);
  std::vector<Var<double>> y{constant(zeros<double>(2, 3)), constant(zeros<double>(2, 3))};
  CHECK(sequence_mse(logits, y, Lengths{0, 0}).item() == 0.0);
}

TEST_CASE("loss_seq: float gives the float64 value to float precision") {
  Rng rng(37);
  auto logits = random_steps(3, 2, 4, rng);
  std::vector<Var<float>> lf;
  for (auto& l : logits) lf.push_back(parameter(unroll::to_precision<float, double>(l.value())));
  std::vector<std::vector<std::int64_t>> tg{{0, 1}, {2, 3}, {1, 1}};
  const double d = sequence_cross_entropy(logits, tg, Lengths{3, 2}).item();
  const float f = sequence_cross_entropy(lf, tg, Lengths{3, 2}).item();
  CHECK(f == doctest::Approx(d).epsilon(1e-6));
}

TEST_CASE("loss_seq: shape and argument errors say what was expected") {
  Rng rng(38);
  auto logits = random_steps(2, 3, 4, rng);
  std::vector<std::vector<std::int64_t>> tg{{0, 1, 2}, {0, 1, 2}};
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(logits, {{0, 1, 2}}, {}), doctest::Contains("1 steps of targets for 2 steps"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(logits, {{0, 1, 2}, {0, 1}}, {}),
                       doctest::Contains("step 1 has 2 targets for logits of shape [3, 4]"), ShapeError);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(logits, tg, Lengths{2, 2}),
                       doctest::Contains("2 lengths for a batch of 3 sequences"), ShapeError);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(logits, tg, Lengths{2, 3, 1}),
                       doctest::Contains("length 3 of sequence 1 is longer than the 2 steps given"), ShapeError);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(logits, {{0, 1, 2}, {0, 9, 2}}, {}),
                       doctest::Contains("target 9 at row 1 is out of range [0, 4)"), ShapeError);
  auto ragged = logits;
  ragged[1] = parameter(zeros<double>(2, 4));
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(ragged, tg, {}), doctest::Contains("logits at step 1 is [2, 4], expected [3, 4]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(std::vector<Var<double>>{}, {}, {}), doctest::Contains("logits has no steps"),
                       ShapeError);
  std::vector<Mat<double>> y{zeros<double>(3, 4)};
  CHECK_THROWS_WITH_AS(sequence_bce_with_logits(logits, y), doctest::Contains("1 steps of targets for 2 steps"), ShapeError);
}

}  // TEST_SUITE
