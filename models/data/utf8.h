// models/data/utf8.h — UTF-8 validation/decoding for the corpora: invalid bytes are either replaced with
// U+FFFD and counted, or rejected with the byte offset. Code points are char32_t; no locale is involved.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace unroll::data {

enum class Utf8Policy { replace, reject };

struct Utf8Result {
  std::string text;          // valid UTF-8 (invalid sequences replaced by U+FFFD "\xEF\xBF\xBD")
  std::size_t replaced = 0;  // how many invalid sequences were replaced
};

// Validates `bytes`. With Utf8Policy::reject, throws DataError "<what>: invalid UTF-8 at byte <offset>".
// Each maximal invalid subpart counts as one replacement (the Unicode "best practice", as Python does).
Utf8Result sanitize_utf8(std::string_view bytes, Utf8Policy policy, std::string_view what);

// Decodes valid UTF-8 (e.g. the output of sanitize_utf8) into code points; invalid input -> U+FFFD each.
std::vector<char32_t> utf8_decode(std::string_view text);
// Appends one code point as UTF-8.
void utf8_append(std::string& out, char32_t cp);
std::string utf8_encode(const std::vector<char32_t>& cps);

}  // namespace unroll::data
