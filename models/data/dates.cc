// models/data/dates.cc — the date generator: civil-date arithmetic (H. Hinnant's days_from_civil) and formats.
#include "models/data/dates.h"

#include "models/data/common.h"

#include <array>
#include <fmt/format.h>
#include <random>
#include <unordered_set>

namespace unroll::data {
namespace {

constexpr std::array<const char*, 12> kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                                 "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<const char*, 7> kDays = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::string cap(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}
std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}
std::string ordinal(int d) {
  const char* suf = (d % 10 == 1 && d != 11) ? "st" : (d % 10 == 2 && d != 12) ? "nd" : (d % 10 == 3 && d != 13) ? "rd" : "th";
  return fmt::format("{}{}", d, suf);
}

// Uniform in [0, n) from one raw 64-bit draw (multiply-high; the bias is below n / 2^64).
std::uint64_t below(std::mt19937_64& g, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(g()) * n) >> 64);
}

}  // namespace

int day_of_week(int year, int month, int day) {
  const std::int64_t z = days_from_civil(year, month, day);  // 1970-01-01 was a thursday (3)
  return static_cast<int>(((z % 7) + 7 + 3) % 7);
}

std::size_t num_date_sources() {
  const std::int64_t days = days_from_civil(2049, 12, 31) - days_from_civil(1950, 1, 1) + 1;
  return static_cast<std::size_t>(days) * num_date_formats;
}

std::string format_date(int y, int m, int d, int format) {
  if (m < 1 || m > 12) throw DataError(fmt::format("format_date: month {} out of range, expected 1..12", m));
  int y2, m2, d2;  // a day the month does not have (2023-02-30) comes back as another date
  civil_from_days(days_from_civil(y, m, d), y2, m2, d2);
  if (d < 1 || y2 != y || m2 != m || d2 != d)
    throw DataError(fmt::format("format_date: {:04}-{:02}-{:02} is not a date (day {} out of range for the month)",
                                y, m, d, d));
  const std::string month = kMonths[static_cast<std::size_t>(m - 1)];
  const std::string mon = month.substr(0, 3);
  const std::string wday = kDays[static_cast<std::size_t>(day_of_week(y, m, d))];
  switch (format) {
    case 0: return fmt::format("{}, {} {} {}", wday, month, d, y);             // tuesday, march 3 1987
    case 1: return fmt::format("{}/{}/{:02}", m, d, y % 100);                  // 3/3/87
    case 2: return fmt::format("{:02}.{:02}.{}", d, m, y);                     // 03.03.1987
    case 3: return fmt::format("{} {} {}", d, mon, y);                         // 3 mar 1987
    case 4: return fmt::format("{} {}, {}", cap(month), ordinal(d), y);        // March 3rd, 1987
    case 5: return fmt::format("{:02}/{:02}/{}", m, d, y);                     // 03/03/1987
    case 6: return fmt::format("{} {}, {}", mon, d, y);                        // mar 3, 1987
    case 7: return fmt::format("{}, {} {} {}", cap(wday.substr(0, 3)), d, cap(mon), y);  // Tue, 3 Mar 1987
    case 8: return fmt::format("{} {} {}", d, upper(month), y);                // 3 MARCH 1987
    case 9: return fmt::format("the {} of {}, {}", ordinal(d), month, y);      // the 3rd of march, 1987
    case 10: return fmt::format("{} {} {}", month, d, y);                      // march 3 1987
    case 11: return fmt::format("{} {} '{:02}", ordinal(d), mon, y % 100);     // 3rd mar '87
    default: break;
  }
  throw DataError(fmt::format("format_date: format {} out of range, expected 0..{}", format, num_date_formats - 1));
}

std::vector<DatePair> generate_dates(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  const std::int64_t lo = days_from_civil(1950, 1, 1), hi = days_from_civil(2049, 12, 31);
  std::vector<DatePair> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t z = lo + static_cast<std::int64_t>(below(g, static_cast<std::uint64_t>(hi - lo + 1)));
    const int format = static_cast<int>(below(g, num_date_formats));
    int y, m, d;
    civil_from_days(z, y, m, d);
    out.push_back({format_date(y, m, d, format), fmt::format("{:04}-{:02}-{:02}", y, m, d)});
  }
  return out;
}

DateCorpus make_date_corpus(std::size_t n_train, std::size_t n_test) {
  DateCorpus c;
  c.train = generate_dates(n_train, dates_train_seed);
  std::unordered_set<std::string> seen;
  for (const auto& p : c.train) seen.insert(p.source);
  const std::size_t fresh = num_date_sources() - seen.size();  // sources the test stream can still draw
  if (n_test > fresh)
    throw DataError(fmt::format("make_date_corpus: n_test = {} exceeds the {} date sources that are not in train "
                                "({} possible, train uses {} of them with n_train = {})",
                                n_test, fresh, num_date_sources(), seen.size(), n_train));
  // Draw from the test seed in growing chunks until n_test fresh pairs are found. Deterministic: the stream is
  // fixed and the test set is its first n_test fresh pairs, whatever the chunk size.
  std::size_t drawn = 0;
  while (c.test.size() < n_test) {
    drawn = drawn == 0 ? n_test : 2 * drawn;
    const auto pool = generate_dates(drawn, dates_test_seed);
    c.test.clear();
    for (const auto& p : pool) {
      if (seen.count(p.source)) continue;
      c.test.push_back(p);
      if (c.test.size() == n_test) break;
    }
  }
  return c;
}

}  // namespace unroll::data
