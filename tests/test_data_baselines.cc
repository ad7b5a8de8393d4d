// tests/test_data_baselines.cc — the count baselines on tiny fixtures whose numbers can be checked by hand:
// most-frequent-tag tagger, span F1, binary naive Bayes, interpolated absolute discounting and Kneser-Ney.
#include "models/baselines/naive_bayes.h"
#include "models/baselines/ngram.h"
#include "models/baselines/run_baselines.h"
#include "models/baselines/tagger_baseline.h"
#include "models/data/common.h"
#include "models/data/metrics.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace unroll;
using data::TaggedSentence;

TEST_CASE("metrics: spans are maximal runs of 1s; F1 counts exact matches") {
  CHECK(data::label_spans({0, 1, 1, 0, 1}) == std::vector<std::pair<std::size_t, std::size_t>>{{1, 3}, {4, 5}});
  data::SpanCounts s;
  s.add({0, 1, 1, 0, 1, 0}, {0, 1, 0, 0, 1, 1});  // gold [1,3) [4,5); pred [1,2) [4,6): no exact match
  s.add({1, 1, 0}, {1, 1, 0});                    // one match
  CHECK(s.tp == 1);
  CHECK(s.fp == 2);
  CHECK(s.fn == 2);
  CHECK(s.f1() == doctest::Approx(1.0 / 3.0));
  CHECK_THROWS_AS(s.add({1}, {1, 0}), data::DataError);
}

TEST_CASE("baseline tagger: most frequent tag per word, first-seen tie break, np/nn for unknown words") {
  const std::vector<TaggedSentence> train = {
      {{"The", "run", "ended"}, {"at", "nn", "vbd"}},
      {{"run", "run", "Smith"}, {"vb", "vb", "np"}},
      {{"left", "left"}, {"vbd", "jj"}},
  };
  baselines::MostFrequentTagTagger t;
  t.fit(train);
  CHECK(t.num_words() == 5);
  CHECK(t.predict("run") == "vb");    // 2 x vb beats 1 x nn
  CHECK(t.predict("left") == "vbd");  // tie: the tag seen first
  CHECK(t.predict("Jones") == "np");  // unknown, capitalised
  CHECK(t.predict("zorp") == "nn");   // unknown
  CHECK(t.predict("the") == "nn");    // case is kept: "the" was never seen
  const std::vector<TaggedSentence> test = {{{"Smith", "run", "Jones", "Co"}, {"np", "vb", "np", "nn"}}};
  const auto s = baselines::evaluate(t, test);
  CHECK(s.pos.correct == 3);
  CHECK(s.pos.total == 4);
  CHECK(s.name_token.value() == doctest::Approx(0.75));
  // gold spans [0,1) [2,3); predicted [0,1) [2,4)
  CHECK(s.name_spans.tp == 1);
  CHECK(s.name_spans.fp == 1);
  CHECK(s.name_spans.fn == 1);
}

TEST_CASE("naive Bayes: binary counts, add-one smoothing, hand-computed scores") {
  baselines::BinaryNaiveBayes nb;
  nb.fit({{"good", "good", "fun"}, {"bad"}, {"bad", "boring"}}, {1, 0, 0});
  CHECK(nb.vocabulary_size() == 4);
  // class 1: 1 doc, word counts good 1 (binary), fun 1: total 2; class 0: bad 2, boring 1: total 3; V = 4
  const auto s = nb.log_scores({"good", "good", "unseen"});
  CHECK(s[1] == doctest::Approx(std::log(1.0 / 3) + std::log(2.0 / 6)));
  CHECK(s[0] == doctest::Approx(std::log(2.0 / 3) + std::log(1.0 / 7)));
  CHECK(nb.predict({"good", "fun"}) == 1);
  CHECK(nb.predict({"bad"}) == 0);
  CHECK(nb.predict({}) == 0);  // the prior decides
  CHECK_THROWS_WITH_AS(nb.fit({{"a"}}, {2}), doctest::Contains("label 2 of document 0"), data::DataError);
  CHECK_THROWS_AS(nb.fit({{"a"}}, {}), data::DataError);
}

TEST_CASE("ngram: absolute discounting by hand (unigram and bigram)") {
  // sequence 0 1 0 1 0: c(0)=3 c(1)=2 (5 tokens, 2 types); bigram context 0: c(0 1)=2; context 1: c(1 0)=2
  baselines::InterpolatedNgram lm({.order = 2, .discount = 0.5, .kneser_ney = false, .id_space = 2, .num_outcomes = 2});
  lm.fit({{0, 1, 0, 1, 0}});
  const std::int64_t none[1] = {0};
  CHECK(lm.prob(none, 0, 0) == doctest::Approx((3 - 0.5 + 0.5 * 2 * 0.5) / 5));  // 0.6
  CHECK(lm.prob(none, 0, 1) == doctest::Approx(0.4));
  const std::int64_t h0[1] = {0};
  CHECK(lm.prob(h0, 1, 1) == doctest::Approx((2 - 0.5 + 0.5 * 1 * 0.4) / 2));  // 0.85
  CHECK(lm.prob(h0, 1, 0) == doctest::Approx(0.5 * 1 * 0.6 / 2));             // 0.15
  CHECK(lm.log2_prob({0, 1}) == doctest::Approx(std::log2(0.6) + std::log2(0.85)));
  CHECK(lm.num_ngrams(2) == 2);
}

TEST_CASE("ngram: Kneser-Ney uses continuation counts below the top order") {
  // bigrams (0 1) (2 1) (0 2): N1+(. 1) = 2, N1+(. 2) = 1, N1+(. 0) = 0; 3 bigram types, 2 continuation types
  baselines::InterpolatedNgram lm({.order = 2, .discount = 0.5, .kneser_ney = true, .id_space = 3, .num_outcomes = 3});
  lm.fit({{0, 1}, {2, 1}, {0, 2}});
  const std::int64_t none[1] = {0};
  const double p1 = (2 - 0.5 + 0.5 * 2 / 3.0) / 3, p2 = (1 - 0.5 + 0.5 * 2 / 3.0) / 3, p0 = (0.5 * 2 / 3.0) / 3;
  CHECK(lm.prob(none, 0, 1) == doctest::Approx(p1));
  CHECK(lm.prob(none, 0, 2) == doctest::Approx(p2));
  CHECK(lm.prob(none, 0, 0) == doctest::Approx(p0));
  const std::int64_t h0[1] = {0};
  CHECK(lm.prob(h0, 1, 1) == doctest::Approx((1 - 0.5 + 0.5 * 2 * p1) / 2));
  const std::int64_t h1[1] = {1};  // context 1 was never followed by anything: falls back to the unigram
  CHECK(lm.prob(h1, 1, 2) == doctest::Approx(p2));
}

TEST_CASE("ngram: distributions sum to one for seen and unseen contexts (both smoothing kinds)") {
  const std::vector<std::vector<std::int64_t>> seqs = {{0, 1, 2, 3, 1, 2, 0, 0, 1}, {3, 3, 2, 1, 0, 2, 2}};
  for (bool kn : {false, true}) {
    baselines::InterpolatedNgram lm({.order = 3, .discount = 0.75, .kneser_ney = kn, .id_space = 4, .num_outcomes = 4});
    lm.fit(seqs);
    for (const auto& h : std::vector<std::vector<std::int64_t>>{{}, {1}, {1, 2}, {3, 0}, {2, 2}}) {
      double sum = 0;
      for (std::int64_t w = 0; w < 4; ++w) sum += lm.prob(h.data(), h.size(), w);
      CHECK(sum == doctest::Approx(1.0));
    }
  }
}

TEST_CASE("ngram: bad options and ids are rejected") {
  CHECK_THROWS_AS(baselines::InterpolatedNgram({.order = 0, .id_space = 4, .num_outcomes = 4}), data::DataError);
  CHECK_THROWS_AS(baselines::InterpolatedNgram({.order = 2, .discount = 1.5, .id_space = 4, .num_outcomes = 4}), data::DataError);
  CHECK_THROWS_WITH_AS(baselines::InterpolatedNgram({.order = 5, .id_space = 1u << 20, .num_outcomes = 10}),
                       doctest::Contains("does not fit a 64-bit key"), data::DataError);
  baselines::InterpolatedNgram lm({.order = 2, .id_space = 4, .num_outcomes = 4});
  CHECK_THROWS_WITH_AS(lm.fit({{0, 4}}), doctest::Contains("id 4 out of range"), data::DataError);
}

TEST_CASE("run_baselines: an unknown baseline name is rejected before any corpus is read") {
  CHECK_THROWS_WITH_AS(baselines::run_baselines("bogus"), doctest::Contains("unknown baseline 'bogus'"), data::DataError);
  CHECK(baselines::baseline_names().size() == 5);
}
