// tests/test_dates.cc — models/data/dates.h's checks: format_date refuses a month or day that does not exist,
// make_date_corpus refuses more test pairs than train leaves sources for (it used to draw forever), and the test
// split is still the first n_test fresh pairs of the test seed's stream.
#include "models/data/common.h"
#include "models/data/dates.h"

#include <doctest/doctest.h>

#include <unordered_set>

using namespace unroll::data;

TEST_CASE("dates: format_date refuses a month out of 1..12 and a day the month does not have") {
  CHECK_THROWS_WITH_AS(format_date(1987, 0, 3, 0), doctest::Contains("month 0 out of range, expected 1..12"),
                       DataError);
  CHECK_THROWS_WITH_AS(format_date(1987, 13, 3, 4), doctest::Contains("month 13 out of range"), DataError);
  CHECK_THROWS_WITH_AS(format_date(2023, 2, 29, 1), doctest::Contains("2023-02-29 is not a date"), DataError);
  CHECK_THROWS_WITH_AS(format_date(1987, 4, 31, 1), doctest::Contains("1987-04-31 is not a date"), DataError);
  CHECK_THROWS_WITH_AS(format_date(1987, 4, 0, 1), doctest::Contains("is not a date"), DataError);
  CHECK(format_date(2024, 2, 29, 1) == "2/29/24");  // a leap day is a date
  CHECK(format_date(1987, 12, 31, 10) == "december 31 1987");
  CHECK(format_date(1950, 1, 1, 5) == "01/01/1950");
}

TEST_CASE("dates: the generator's sources are 36,525 days times 12 formats, all different") {
  CHECK(num_date_sources() == 36525u * 12u);
  std::unordered_set<std::string> seen;
  for (int k = 0; k < num_date_formats; ++k)
    for (int d = 1; d <= 28; ++d) seen.insert(format_date(2001, 2, d, k));
  CHECK(seen.size() == std::size_t(28 * num_date_formats));
}

TEST_CASE("dates: make_date_corpus refuses more test pairs than there are fresh sources") {
  CHECK_THROWS_WITH_AS(make_date_corpus(0, num_date_sources() + 1),
                       doctest::Contains("n_test = 438301 exceeds the 438300 date sources that are not in train"),
                       DataError);
  CHECK_THROWS_WITH_AS(make_date_corpus(500, num_date_sources() - 10), doctest::Contains("train uses"), DataError);
}

TEST_CASE("dates: the test split is the first n_test pairs of the test stream whose source is not in train") {
  const DateCorpus c = make_date_corpus(3000, 700);
  REQUIRE(c.test.size() == 700);
  std::unordered_set<std::string> train;
  for (const auto& p : c.train) train.insert(p.source);
  std::vector<DatePair> want;
  for (const auto& p : generate_dates(5000, dates_test_seed)) {
    if (train.count(p.source)) continue;
    want.push_back(p);
    if (want.size() == 700) break;
  }
  REQUIRE(want.size() == 700);
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(c.test[i].source == want[i].source);
    CHECK(c.test[i].target == want[i].target);
  }
}
