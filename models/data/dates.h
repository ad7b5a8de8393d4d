// models/data/dates.h — generated seq2seq data (../shared/DATA.md section 4): human-readable dates -> ISO
// "YYYY-MM-DD". Deterministic on every platform: only raw std::mt19937_64 output is used (no <random>
// distributions, whose algorithms are implementation-defined). Dates are uniform over 1950-01-01..2049-12-31 so a
// two-digit year is unambiguous (50..99 -> 19xx, 00..49 -> 20xx).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace unroll::data {

struct DatePair {
  std::string source;  // e.g. "tuesday, march 3 1987", "3/3/87", "03.03.1987", "March 3rd, 1987"
  std::string target;  // "1987-03-03"
};

// The formats, one per index; format_date(y, m, d, k) renders date (y, m, d) in format k. Throws DataError for a
// format out of 0..11, a month out of 1..12 or a day the month does not have.
inline constexpr int num_date_formats = 12;
std::string format_date(int year, int month, int day, int format);
// Day of week, 0 = monday ... 6 = sunday (proleptic Gregorian).
int day_of_week(int year, int month, int day);

// n pairs from `seed`: each picks a uniform day in the range and a uniform format.
std::vector<DatePair> generate_dates(std::size_t n, std::uint64_t seed);
// How many different source strings the generator can produce: 36,525 days × 12 formats = 438,300 (every format
// names day, month and year, so no two (date, format) pairs give the same string).
std::size_t num_date_sources();

// The zoo's split: 10,000 train pairs from seed 20260101 and 1,000 test pairs from seed 20260202, the test set
// skipping any source string that occurs in train (so exact-match accuracy measures generalisation). Throws
// DataError when n_test exceeds the sources train leaves (num_date_sources() minus train's distinct sources),
// instead of drawing forever.
inline constexpr std::uint64_t dates_train_seed = 20260101, dates_test_seed = 20260202;
struct DateCorpus {
  std::vector<DatePair> train, test;
};
DateCorpus make_date_corpus(std::size_t n_train = 10000, std::size_t n_test = 1000);

}  // namespace unroll::data
