// models/data/vocab.h — token <-> id maps. Vocab (words) and CharVocab (UTF-8 code points) share the reserved
// ids <pad>=0, <unk>=1, <bos>=2, <eos>=3; an unknown token always maps to <unk>, never to a real word.
// Built from counts (min count, max size, ties broken by first occurrence), then frozen: add() on a frozen
// vocabulary throws. LabelSet is the same map for output labels (tags), with no reserved ids and no <unk>.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace unroll::data {

// Counts tokens and remembers the order in which each was first seen (the tie-break when sorting by count).
class Counter {
 public:
  void add(std::string_view token, std::int64_t n = 1);
  void add_all(const std::vector<std::string>& tokens) { for (const auto& t : tokens) add(t); }
  std::int64_t count(std::string_view token) const;
  std::size_t size() const { return tokens_.size(); }
  // Tokens by count descending, ties by first occurrence (what Python's Counter.most_common does).
  std::vector<std::pair<std::string, std::int64_t>> most_common() const;

 private:
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::string> tokens_;
  std::vector<std::int64_t> counts_;
};

struct VocabOptions {
  std::int64_t min_count = 1;  // keep tokens seen at least this often, e.g. 2
  std::size_t max_size = 0;    // keep at most this many real tokens (reserved ids not counted); 0 = no limit
};

class Vocab {
 public:
  static constexpr std::int64_t pad = 0, unk = 1, bos = 2, eos = 3;
  static constexpr std::size_t num_reserved = 4;
  static constexpr std::array<std::string_view, 4> reserved_names = {"<pad>", "<unk>", "<bos>", "<eos>"};

  Vocab();  // just the reserved tokens, not frozen
  // Brown word LM (../shared/DATA.md): Vocab::build(counter, {.max_size = 9998}) = 9,998 words + reserved ids.
  static Vocab build(const Counter& counts, const VocabOptions& options = {});

  std::int64_t add(std::string_view token);  // id of token (new or existing); DataError if frozen and new
  void freeze() { frozen_ = true; }
  bool frozen() const { return frozen_; }

  std::int64_t id(std::string_view token) const;  // Vocab::unk when absent
  bool contains(std::string_view token) const { return index_.count(std::string(token)) > 0; }
  const std::string& token(std::int64_t id) const;  // DataError when out of range
  std::size_t size() const { return tokens_.size(); }  // including the reserved ids

  std::vector<std::int64_t> encode(const std::vector<std::string>& tokens, bool add_bos = false,
                                   bool add_eos = false) const;
  std::vector<std::string> decode(const std::vector<std::int64_t>& ids, bool skip_reserved = true) const;
  std::size_t count_unknown(const std::vector<std::string>& tokens) const;

  // Text: one token per line, line i holds id i (reserved first). JSON: {"kind":"vocab","frozen":b,"tokens":[...]}.
  void save_text(const std::filesystem::path& path) const;
  static Vocab load_text(const std::filesystem::path& path);
  nlohmann::json to_json() const;
  static Vocab from_json(const nlohmann::json& j, std::string_view what = "vocab json");
  void save_json(const std::filesystem::path& path) const;
  static Vocab load_json(const std::filesystem::path& path);

 private:
  std::unordered_map<std::string, std::int64_t> index_;
  std::vector<std::string> tokens_;
  bool frozen_ = false;
};

// Character vocabulary over Unicode code points: reserved ids as in Vocab, then every code point seen in the
// training text (sorted by code point, or in order of first occurrence). Unknown code points -> <unk>.
class CharVocab {
 public:
  CharVocab() = default;
  static CharVocab build(std::string_view utf8_train_text, bool sorted = true);

  std::int64_t add(char32_t cp);  // DataError if frozen and new
  void freeze() { frozen_ = true; }
  bool frozen() const { return frozen_; }
  std::int64_t id(char32_t cp) const;
  bool contains(char32_t cp) const { return index_.count(cp) > 0; }
  char32_t code_point(std::int64_t id) const;  // DataError for reserved or out-of-range ids
  std::size_t size() const { return Vocab::num_reserved + chars_.size(); }
  // Number of outcomes the n-gram baseline scores: characters seen in train + <unk> (../shared/DATA.md).
  std::size_t scored_size() const { return chars_.size() + 1; }

  std::vector<std::int64_t> encode(std::string_view utf8) const;
  std::string decode(const std::vector<std::int64_t>& ids) const;  // reserved ids are skipped

  nlohmann::json to_json() const;
  static CharVocab from_json(const nlohmann::json& j, std::string_view what = "char vocab json");
  void save_json(const std::filesystem::path& path) const;
  static CharVocab load_json(const std::filesystem::path& path);

 private:
  std::unordered_map<char32_t, std::int64_t> index_;
  std::vector<char32_t> chars_;  // id = num_reserved + position
  bool frozen_ = false;
};

// Output labels (POS tags, classes): dense ids 0..n-1 in order of addition, no <unk>; id() of an unknown label throws.
class LabelSet {
 public:
  std::int64_t add(std::string_view label);  // DataError if frozen and new
  void freeze() { frozen_ = true; }
  bool frozen() const { return frozen_; }
  std::int64_t id(std::string_view label) const;  // DataError if unknown
  bool contains(std::string_view label) const { return index_.count(std::string(label)) > 0; }
  const std::string& label(std::int64_t id) const;
  std::size_t size() const { return labels_.size(); }
  nlohmann::json to_json() const;
  static LabelSet from_json(const nlohmann::json& j, std::string_view what = "label json");

 private:
  std::unordered_map<std::string, std::int64_t> index_;
  std::vector<std::string> labels_;
  bool frozen_ = false;
};

}  // namespace unroll::data
