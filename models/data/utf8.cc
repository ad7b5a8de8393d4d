// models/data/utf8.cc — a small strict UTF-8 decoder (rejects overlongs, surrogates and > U+10FFFF).
#include "models/data/utf8.h"

#include "models/data/common.h"

#include <fmt/format.h>

namespace unroll::data {
namespace {

// Length of the valid sequence starting at s[i], or 0 with `bad` = length of the maximal invalid subpart.
std::size_t valid_length(std::string_view s, std::size_t i, std::size_t& bad, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  bad = 1;
  if (c < 0x80) { cp = c; return 1; }
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range for the second byte
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3; cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4; cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) { bad = k; return 0; }
    const unsigned char t = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (t < l || t > h) { bad = k; return 0; }
    cp = (cp << 6) | (t & 0x3F);
  }
  return n;
}

}  // namespace

Utf8Result sanitize_utf8(std::string_view bytes, Utf8Policy policy, std::string_view what) {
  Utf8Result r;
  r.text.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t bad;
    char32_t cp;
    const std::size_t n = valid_length(bytes, i, bad, cp);
    if (n) {
      r.text.append(bytes.substr(i, n));
      i += n;
      continue;
    }
    if (policy == Utf8Policy::reject)
      throw DataError(fmt::format("{}: invalid UTF-8 at byte {} (byte 0x{:02X})", what, i,
                                  static_cast<unsigned char>(bytes[i])));
    r.text += "\xEF\xBF\xBD";
    ++r.replaced;
    i += bad;
  }
  return r;
}

std::vector<char32_t> utf8_decode(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t bad;
    char32_t cp;
    const std::size_t n = valid_length(text, i, bad, cp);
    if (n) { out.push_back(cp); i += n; }
    else { out.push_back(0xFFFD); i += bad; }
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_encode(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) utf8_append(out, c);
  return out;
}

}  // namespace unroll::data
