// models/data/sentiment.h — UCI Sentiment Labelled Sentences from npm sentiment@5.0.2 (../shared/DATA.md
// section 2): amazon.json, imdb.json, yelp.json, each a JSON array of {"text", "class"}; entries whose class is
// not 0/1 or whose text is empty are dropped (one per file); unit = item in file order; split by i % 10.
#pragma once

#include "models/data/common.h"
#include "models/data/utf8.h"

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace unroll::data {

struct LabelledText {
  std::string text;
  int label = 0;       // 1 = positive, 0 = negative
  std::string source;  // "amazon", "imdb", "yelp" (the file stem)
};

struct SentimentCorpus {
  std::vector<LabelledText> train, dev, test;
  std::size_t dropped = 0;        // entries dropped (bad class or empty text)
  std::size_t utf8_replaced = 0;  // invalid UTF-8 sequences replaced by U+FFFD
  const std::vector<LabelledText>& split(Split s) const { return s == Split::train ? train : s == Split::dev ? dev : test; }
};

// Parses one file's JSON text; `file` names it in errors ("sentiment: imdb.json: bad JSON at byte 17: ...").
// Adds the number of dropped entries to *dropped when given.
std::vector<LabelledText> parse_sentiment_json(std::string_view json_text, std::string_view file,
                                               std::string_view source, std::size_t* dropped = nullptr);

std::filesystem::path default_sentiment_dir();  // data_root()/sentiment/package/test/fixtures
inline constexpr std::array<std::string_view, 3> sentiment_sources = {"amazon", "imdb", "yelp"};
SentimentCorpus load_sentiment(const std::filesystem::path& dir = default_sentiment_dir(),
                               Utf8Policy policy = Utf8Policy::replace);

}  // namespace unroll::data
