// tests/test_common_next_token.cc — models/common/next_token.h: which ids may be emitted, ln softmax of a row,
// the likeliest emittable id, and draws with temperature and top-k.
#include "models/common/next_token.h"

#include "models/data/vocab.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace unroll;
using namespace unroll::common;

namespace {
// One row of logits [1, V].
Mat<float> row(const std::vector<float>& v) {
  Mat<float> m = zeros<float>(1, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) m(0, i) = v[i];
  return m;
}
}  // namespace

TEST_CASE("next_token: reserved ids are never emittable, <eos> only where it ends the output") {
  for (std::size_t id = 0; id < data::Vocab::num_reserved; ++id) {
    CHECK_FALSE(emittable(id, false));
    CHECK(emittable(id, true) == (id == std::size_t(data::Vocab::eos)));
  }
  CHECK(emittable(data::Vocab::num_reserved, false));
  CHECK(emittable(data::Vocab::num_reserved + 7, true));
}

TEST_CASE("next_token: row_log_softmax is ln softmax in double, stable at large logits") {
  const Mat<float> m = row({1.f, 2.f, 3.f, 1e4f, -1e4f});
  const std::vector<double> lp = row_log_softmax(m, 0);
  REQUIRE(lp.size() == 5);
  CHECK(lp[3] == doctest::Approx(0.0));
  CHECK(std::isfinite(lp[4]));
  CHECK(lp[4] == doctest::Approx(-2e4));
  const std::vector<double> small = row_log_softmax(row({0.f, std::log(3.f)}), 0);  // probabilities 1/4, 3/4
  CHECK(small[0] == doctest::Approx(std::log(0.25)));
  CHECK(small[1] == doctest::Approx(std::log(0.75)));
}

TEST_CASE("next_token: best_emittable skips reserved ids and takes the lowest id on ties") {
  //                    pad  unk  bos  eos   a    b    c
  const std::vector<double> lp{9.0, 9.0, 9.0, 1.0, 2.0, 5.0, 5.0};
  CHECK(best_emittable(lp, true) == 5);
  CHECK(best_emittable(lp, false) == 5);
  const std::vector<double> eos_best{9.0, 9.0, 9.0, 8.0, 2.0};
  CHECK(best_emittable(eos_best, true) == 3);
  CHECK(best_emittable(eos_best, false) == 4);
  CHECK_THROWS_WITH(best_emittable({1.0, 2.0, 3.0}, false), doctest::Contains("no emittable id"));
}

TEST_CASE("next_token: sample_emittable follows the softmax, honours top-k and never draws reserved ids") {
  // reserved ids dominate the logits; ids 4, 5, 6 have probabilities 1/7, 2/7, 4/7 at temperature 1
  const Mat<float> m = row({50.f, 50.f, 50.f, 50.f, 0.f, std::log(2.f), std::log(4.f)});
  Rng rng(11);
  std::vector<int> counts(7, 0);
  const int n = 7000;
  for (int i = 0; i < n; ++i) ++counts[std::size_t(sample_emittable(m, 0, 1.0, 0, false, rng))];
  for (std::size_t id = 0; id < 4; ++id) CHECK(counts[id] == 0);
  CHECK(counts[4] == doctest::Approx(n / 7.0).epsilon(0.15));
  CHECK(counts[5] == doctest::Approx(2 * n / 7.0).epsilon(0.1));
  CHECK(counts[6] == doctest::Approx(4 * n / 7.0).epsilon(0.1));
  // top-k 1 is greedy, whatever the seed; top-k 2 never draws the least likely
  Rng a(1), b(2);
  for (int i = 0; i < 50; ++i) {
    CHECK(sample_emittable(m, 0, 1.0, 1, false, a) == 6);
    CHECK(sample_emittable(m, 0, 1.0, 2, false, b) != 4);
  }
  // <eos> is drawn only when allowed
  Rng c(3);
  bool eos_seen = false;
  for (int i = 0; i < 200; ++i) eos_seen |= sample_emittable(m, 0, 1.0, 0, true, c) == data::Vocab::eos;
  CHECK(eos_seen);
  // a low temperature sharpens: almost always the likeliest
  Rng d(4);
  int top = 0;
  for (int i = 0; i < 200; ++i) top += sample_emittable(m, 0, 0.05, 0, false, d) == 6;
  CHECK(top >= 198);
  CHECK_THROWS_WITH(sample_emittable(m, 0, 0.0, 0, false, d), doctest::Contains("temperature must be > 0"));
}
