// models/data/sentiment.cc — the three JSON files, parsed with nlohmann-json; bad entries dropped and counted.
#include "models/data/sentiment.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace unroll::data {

std::vector<LabelledText> parse_sentiment_json(std::string_view json_text, std::string_view file,
                                               std::string_view source, std::size_t* dropped) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(fmt::format("sentiment: {}: bad JSON at byte {}: {}", file, e.byte, e.what()));
  }
  if (!j.is_array())
    throw DataError(fmt::format("sentiment: {}: expected a JSON array of {{\"text\", \"class\"}}, got a {}", file,
                                j.type_name()));
  std::vector<LabelledText> out;
  std::size_t bad = 0;
  for (const auto& e : j) {
    const bool ok = e.is_object() && e.contains("text") && e["text"].is_string() &&
                    !e["text"].get_ref<const std::string&>().empty() && e.contains("class") &&
                    e["class"].is_number_integer() && (e["class"].get<long long>() == 0 || e["class"].get<long long>() == 1);
    if (!ok) { ++bad; continue; }
    out.push_back({e["text"].get<std::string>(), static_cast<int>(e["class"].get<long long>()), std::string(source)});
  }
  if (dropped) *dropped += bad;
  return out;
}

std::filesystem::path default_sentiment_dir() { return data_root() / "sentiment" / "package" / "test" / "fixtures"; }

SentimentCorpus load_sentiment(const std::filesystem::path& dir, Utf8Policy policy) {
  SentimentCorpus corpus;
  std::size_t unit = 0;
  for (auto source : sentiment_sources) {
    const auto path = dir / fmt::format("{}.json", source);
    const std::string bytes = read_file_bytes(path, "sentiment");
    const auto clean = sanitize_utf8(bytes, policy, fmt::format("sentiment: {}", path.string()));
    corpus.utf8_replaced += clean.replaced;
    auto items = parse_sentiment_json(clean.text, path.string(), source, &corpus.dropped);
    if (items.empty()) throw DataError(fmt::format("sentiment: {}: empty corpus (no usable entry)", path.string()));
    for (auto& it : items) {
      const Split s = split_of(unit++);
      (s == Split::train ? corpus.train : s == Split::dev ? corpus.dev : corpus.test).push_back(std::move(it));
    }
  }
  return corpus;
}

}  // namespace unroll::data
