// tests/test_data_batching.cc — padding to [B, T], the portable seeded shuffle, bucketed batch plans, LM streams,
// the split rule and the dates generator (formats, determinism, train/test separation).
#include "models/data/batching.h"
#include "models/data/common.h"
#include "models/data/dates.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>

using namespace unroll::data;

TEST_CASE("split: i % 10 == 9 is test, 8 is dev, else train") {
  CHECK(split_of(0) == Split::train);
  CHECK(split_of(7) == Split::train);
  CHECK(split_of(8) == Split::dev);
  CHECK(split_of(9) == Split::test);
  CHECK(split_of(19) == Split::test);
  CHECK(std::string(split_name(Split::dev)) == "dev");
}

TEST_CASE("batching: pad_batch gives a row-major [B, T] id matrix and lengths") {
  const std::vector<std::vector<std::int64_t>> seqs = {{5, 6, 7}, {8}, {9, 10}};
  const auto b = pad_batch(seqs, {2, 0, 1});
  CHECK(b.B == 3);
  CHECK(b.T == 3);
  CHECK(b.ids == std::vector<std::int64_t>{9, 10, 0, 5, 6, 7, 8, 0, 0});
  CHECK(b.lengths == std::vector<std::int64_t>{2, 3, 1});
  CHECK(b.index == std::vector<std::size_t>{2, 0, 1});
  CHECK(b.at(1, 2) == 7);
  CHECK(pad_all(seqs, -1).at(1, 2) == -1);  // labels can pad with -1
  CHECK(pad_all(seqs).ids.size() == 9);
  CHECK_THROWS_WITH_AS(pad_batch(seqs, {3}), doctest::Contains("index 3 out of range"), DataError);
}

TEST_CASE("batching: the seeded shuffle is a fixed permutation per seed") {
  std::vector<std::size_t> a(10), b(10), c(10);
  std::iota(a.begin(), a.end(), 0);
  b = a;
  c = a;
  shuffle_indices(a, 42);
  shuffle_indices(b, 42);
  shuffle_indices(c, 43);
  CHECK(a == b);
  CHECK(a != c);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // Pinned: mt19937_64 is specified by the standard and the shuffle uses only its raw output.
  CHECK(a == std::vector<std::size_t>{3, 4, 1, 2, 9, 8, 0, 6, 5, 7});
  CHECK(uniform_below(~std::uint64_t{0}, 10) == 9);
  CHECK(uniform_below(0, 10) == 0);
}

TEST_CASE("batching: plans cover every item once; buckets group similar lengths") {
  std::vector<std::size_t> lengths(100);
  for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (i * 37) % 50 + 1;
  const auto plain = plan_batches(lengths, {.batch_size = 8, .shuffle = false});
  CHECK(plain.size() == 13);
  CHECK(plain[0] == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(plain.back().size() == 4);
  CHECK(plan_batches(lengths, {.batch_size = 8, .shuffle = false, .drop_last = true}).size() == 12);

  const BatchPlanOptions bucketed{.batch_size = 10, .shuffle = true, .seed = 7, .pool_batches = 10};
  const auto plan = plan_batches(lengths, bucketed);
  std::vector<std::size_t> seen;
  std::size_t spread = 0;
  for (const auto& batch : plan) {
    seen.insert(seen.end(), batch.begin(), batch.end());
    std::size_t lo = 1000, hi = 0;
    for (auto i : batch) { lo = std::min(lo, lengths[i]); hi = std::max(hi, lengths[i]); }
    spread = std::max(spread, hi - lo);
  }
  std::sort(seen.begin(), seen.end());
  std::vector<std::size_t> all(100);
  std::iota(all.begin(), all.end(), 0);
  CHECK(seen == all);
  CHECK(spread <= 6);  // one pool holds every item: each batch is 10 neighbours in sorted length order
  CHECK(plan == plan_batches(lengths, bucketed));  // same seed, same plan
  CHECK(plan != plan_batches(lengths, {.batch_size = 10, .shuffle = true, .seed = 8, .pool_batches = 10}));
  CHECK_THROWS_AS(plan_batches(lengths, {.batch_size = 0}), DataError);
}

TEST_CASE("batching: StreamBatches cuts a stream into B columns, targets shifted by one") {
  std::vector<std::int64_t> stream(11);
  std::iota(stream.begin(), stream.end(), 100);  // 100..110
  StreamBatches sb(stream, 2, 3);                 // L = 5: columns 100..105 and 105..110
  CHECK(sb.column_length() == 5);
  REQUIRE(sb.num_batches() == 2);
  std::vector<std::int64_t> x, y;
  CHECK(sb.get(0, x, y) == 3);
  CHECK(x == std::vector<std::int64_t>{100, 101, 102, 105, 106, 107});
  CHECK(y == std::vector<std::int64_t>{101, 102, 103, 106, 107, 108});
  CHECK(sb.get(1, x, y) == 2);
  CHECK(x == std::vector<std::int64_t>{103, 104, 108, 109});
  CHECK(y == std::vector<std::int64_t>{104, 105, 109, 110});
  CHECK_THROWS_AS(sb.get(2, x, y), DataError);
  CHECK_THROWS_WITH_AS(StreamBatches(stream, 20, 3), doctest::Contains("too short"), DataError);
}

TEST_CASE("dates: every format renders 3 March 1987, a tuesday") {
  CHECK(day_of_week(1987, 3, 3) == 1);
  CHECK(day_of_week(2000, 2, 29) == 1);  // a tuesday too
  CHECK(day_of_week(1970, 1, 1) == 3);
  const std::vector<std::string> want = {"tuesday, march 3 1987", "3/3/87",       "03.03.1987",   "3 mar 1987",
                                         "March 3rd, 1987",       "03/03/1987",   "mar 3, 1987",  "Tue, 3 Mar 1987",
                                         "3 MARCH 1987",          "the 3rd of march, 1987", "march 3 1987", "3rd mar '87"};
  REQUIRE(want.size() == static_cast<std::size_t>(num_date_formats));
  for (int k = 0; k < num_date_formats; ++k) CHECK(format_date(1987, 3, 3, k) == want[static_cast<std::size_t>(k)]);
  CHECK(format_date(2011, 11, 11, 4) == "November 11th, 2011");
  CHECK(format_date(2022, 1, 22, 9) == "the 22nd of january, 2022");
  CHECK_THROWS_AS(format_date(1987, 3, 3, num_date_formats), DataError);
}

TEST_CASE("dates: generation is deterministic per seed and pinned across runs") {
  const auto a = generate_dates(200, 5), b = generate_dates(200, 5), c = generate_dates(200, 6);
  REQUIRE(a.size() == 200);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].source == b[i].source);
    CHECK(a[i].target == b[i].target);
    CHECK(a[i].target.size() == 10);
    CHECK(a[i].target >= "1950-01-01");
    CHECK(a[i].target <= "2049-12-31");
  }
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i].source == c[i].source;
  CHECK(same < 5);
  const auto first = generate_dates(1, dates_train_seed)[0];  // pinned value: the zoo's numbers depend on it
  CHECK(first.source == "July 18th, 1968");
  CHECK(first.target == "1968-07-18");
}

TEST_CASE("dates: the corpus has 10,000 train and 1,000 unseen test pairs") {
  const auto c = make_date_corpus(2000, 300);
  CHECK(c.train.size() == 2000);
  CHECK(c.test.size() == 300);
  std::set<std::string> train;
  for (const auto& p : c.train) train.insert(p.source);
  for (const auto& p : c.test) CHECK(train.count(p.source) == 0);
  std::set<int> formats_seen;
  for (const auto& p : c.train)
    for (int k = 0; k < num_date_formats; ++k) {
      const int y = std::stoi(p.target.substr(0, 4)), m = std::stoi(p.target.substr(5, 2)),
                d = std::stoi(p.target.substr(8, 2));
      if (format_date(y, m, d, k) == p.source) formats_seen.insert(k);
    }
  CHECK(formats_seen.size() == static_cast<std::size_t>(num_date_formats));
}
