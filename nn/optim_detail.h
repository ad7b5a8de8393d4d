// nn/optim_detail.h — internals shared by nn/optim.cc (the base) and nn/optim_rules.cc (the update rules):
// metadata formatting/parsing for optimizer state and the blocked square root of the update loops.
// Not a public header: nothing outside those two files includes it.
#pragma once

#include "engine/check.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace unroll::optim_detail {

// Shortest decimal that reads back to the same double (fmt's default), so saved hyperparameters
// restore bitwise.
inline std::string num(double v) { return fmt::format("{}", v); }
inline std::string flag(bool v) { return v ? "true" : "false"; }

inline const std::string& need(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  auto it = m.find(key);
  UNROLL_CHECK(it != m.end(), "{}.load_state: metadata key '{}' is missing", who, key);
  return it->second;
}
inline double parse_num(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  const std::string& s = need(m, key, who);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  UNROLL_CHECK(used == s.size() && !s.empty(), "{}.load_state: metadata '{}' = '{}' is not a number", who, key, s);
  return v;
}
inline bool parse_flag(const std::map<std::string, std::string>& m, const std::string& key, const std::string& who) {
  const std::string& s = need(m, key, who);
  UNROLL_CHECK(s == "true" || s == "false", "{}.load_state: metadata '{}' = '{}' is not true/false", who, key, s);
  return s == "true";
}
inline std::uint64_t parse_count(const std::string& s, const std::string& key, const std::string& who) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  UNROLL_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(),
               "{}.load_state: metadata '{}' = '{}' is not a non-negative integer", who, key, s);
  return v;
}

// Update loops run in blocks of this many entries (a stack buffer of square roots).
constexpr std::size_t kBlock = 256;

// x := √x over a span. GCC will not vectorize std::sqrt without -fno-math-errno, so the SSE2 path uses
// the packed instruction, which is the same correctly rounded IEEE square root (bitwise equal results).
inline void sqrt_span(float* x, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}
inline void sqrt_span(double* x, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(x + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

}  // namespace unroll::optim_detail
