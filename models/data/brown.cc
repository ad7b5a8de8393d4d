// models/data/brown.cc — Brown loader: file list, line parser with file:line errors, tag simplification.
#include "models/data/brown.h"

#include "models/data/tokenize.h"
#include "models/data/vocab.h"

#include <algorithm>
#include <fmt/format.h>

namespace unroll::data {

std::string simplify_brown_tag(std::string_view raw) {
  std::string t = to_lower_ascii(raw);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view suffix : {"-tl", "-hl", "-nc"}) {
      if (t.size() >= suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) {
        t.resize(t.size() - suffix.size());
        changed = true;
      }
    }
  }
  if (t.rfind("fw-", 0) == 0) t.erase(0, 3);
  return t;
}

std::vector<int> name_labels(const TaggedSentence& s) {
  std::vector<int> out(s.tags.size());
  for (std::size_t i = 0; i < s.tags.size(); ++i) out[i] = is_name_tag(s.tags[i]) ? 1 : 0;
  return out;
}

std::vector<TaggedSentence> parse_brown(std::string_view text, std::string_view file) {
  std::vector<TaggedSentence> out;
  std::size_t start = 0, line_no = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    const auto tokens = split_whitespace(text.substr(start, end - start));
    start = end + 1;
    if (tokens.empty()) continue;  // blank lines separate sentences
    TaggedSentence s;
    s.words.reserve(tokens.size());
    s.tags.reserve(tokens.size());
    for (std::size_t k = 0; k < tokens.size(); ++k) {
      const std::string& tok = tokens[k];
      const auto slash = tok.rfind('/');
      if (slash == std::string::npos)
        throw DataError(fmt::format("brown: {}:{}: token {} '{}' has no '/' (expected word/tag)", file, line_no,
                                    k + 1, tok));
      if (slash == 0 || slash + 1 == tok.size())
        throw DataError(fmt::format("brown: {}:{}: token {} '{}' has an empty {} (expected word/tag)", file,
                                    line_no, k + 1, tok, slash == 0 ? "word" : "tag"));
      std::string tag = simplify_brown_tag(std::string_view(tok).substr(slash + 1));
      if (tag.empty())  // e.g. 'word/-tl' or 'word/fw-': only suffixes/prefixes that simplification removes
        throw DataError(fmt::format("brown: {}:{}: token {} '{}' has a tag that simplifies to nothing (expected "
                                    "word/tag)", file, line_no, k + 1, tok));
      s.words.push_back(tok.substr(0, slash));
      s.tags.push_back(std::move(tag));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::filesystem::path default_brown_dir() { return data_root() / "brown" / "package"; }

namespace {
bool is_brown_file_name(const std::string& n) {
  return n.size() == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' && n[2] >= '0' && n[2] <= '9' && n[3] >= '0' &&
         n[3] <= '9';
}
}  // namespace

BrownCorpus load_brown(const std::filesystem::path& dir, Utf8Policy policy) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw DataError(fmt::format("brown: corpus folder {} not found (run tools/fetch_data.sh, or set UNROLL_DATA)",
                                dir.string()));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && is_brown_file_name(e.path().filename().string()))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty())
    throw DataError(fmt::format("brown: empty corpus: no file named c[a-r]NN in {}", dir.string()));

  BrownCorpus corpus;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto path = dir / names[i];
    const std::string bytes = read_file_bytes(path, "brown");
    const auto clean = sanitize_utf8(bytes, policy, fmt::format("brown: {}", path.string()));
    corpus.utf8_replaced += clean.replaced;
    auto sentences = parse_brown(clean.text, path.string());
    if (sentences.empty()) throw DataError(fmt::format("brown: {}: empty file (no sentence)", path.string()));
    const Split s = split_of(i);
    ++corpus.files[static_cast<std::size_t>(s)];
    auto& dst = s == Split::train ? corpus.train : s == Split::dev ? corpus.dev : corpus.test;
    for (auto& sent : sentences) dst.push_back(std::move(sent));
  }
  return corpus;
}

std::size_t count_tokens(const std::vector<TaggedSentence>& sentences) {
  std::size_t n = 0;
  for (const auto& s : sentences) n += s.words.size();
  return n;
}

}  // namespace unroll::data

// ---- word-LM view ------------------------------------------------------------------------------------------

namespace unroll::data {

std::vector<std::vector<std::string>> lower_words(const std::vector<TaggedSentence>& sentences) {
  std::vector<std::vector<std::string>> out;
  out.reserve(sentences.size());
  for (const auto& s : sentences) out.push_back(to_lower_ascii(s.words));
  return out;
}

Vocab brown_lm_vocab(const std::vector<TaggedSentence>& train) {
  Counter counts;
  for (const auto& s : train)
    for (const auto& w : s.words) counts.add(to_lower_ascii(w));
  return Vocab::build(counts, {.min_count = 1, .max_size = brown_lm_max_words});
}

std::vector<std::int64_t> brown_lm_stream(const std::vector<TaggedSentence>& sentences, const Vocab& vocab) {
  std::vector<std::int64_t> ids;
  ids.reserve(count_tokens(sentences) + sentences.size());
  for (const auto& s : sentences) {
    for (const auto& w : s.words) ids.push_back(vocab.id(to_lower_ascii(w)));
    ids.push_back(Vocab::eos);
  }
  return ids;
}

}  // namespace unroll::data
