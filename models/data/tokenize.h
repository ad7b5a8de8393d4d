// models/data/tokenize.h — the few tokenisers the zoo uses. Lower-casing is ASCII-only on purpose: Brown and
// the sentiment sentences are ASCII apart from a handful of bytes, and a locale must not change ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace unroll::data {

std::string to_lower_ascii(std::string_view s);
std::vector<std::string> to_lower_ascii(const std::vector<std::string>& words);
bool starts_upper_ascii(std::string_view s);  // "capitalised" in the Brown baseline (first byte A-Z)

// Splits on ASCII white space (space, \t, \n, \r, \f, \v); no empty tokens.
std::vector<std::string> split_whitespace(std::string_view s);

// Sentiment tokenizer: lower-case, tokens are maximal runs of ASCII [a-z0-9']; everything else (punctuation,
// spaces, non-ASCII bytes) separates tokens and is dropped.
// "Don't buy it!!" -> {"don't", "buy", "it"}. With it the naive Bayes baseline gets DATA.md's 0.820.
std::vector<std::string> tokenize_sentiment(std::string_view text);

}  // namespace unroll::data
