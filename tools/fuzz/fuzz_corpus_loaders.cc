// tools/fuzz/fuzz_corpus_loaders.cc — libFuzzer target for the corpus loaders of models/data (Brown, sentiment,
// fortunes) and the UTF-8 layer under them, on arbitrary bytes (invalid UTF-8 included).
// Built by tools/fuzz/build_more.sh with clang -fsanitize=fuzzer,address,undefined.
//
// The bytes are one corpus file. Every parser runs on them directly and through its directory loader (the bytes
// written as that corpus's file in a scratch folder), under both UTF-8 policies. The only accepted failure is
// DataError; anything else escaping is a finding (libFuzzer reports the uncaught exception), and so is a broken
// property (abort with "FUZZ FINDING"):
//   utf8   replace gives valid UTF-8 that reject accepts unchanged; reject throws iff something was replaced;
//          decode(raw) == decode(clean); encode(decode(clean)) == clean; code points are scalar values
//   brown  every sentence has words and tags of the same length, no empty word, no white space in a token;
//          load_brown == parse_brown of the sanitized text
//   sentiment  every entry has a non-empty text and a 0/1 label; load_sentiment gives 3x the entries
//   fortunes   every fortune is non-blank, has no leading/trailing newline and no "%" line;
//          split(join(split(x))) == split(x); load_fortunes == split of the sanitized text
#include "models/data/brown.h"
#include "models/data/common.h"
#include "models/data/fortunes.h"
#include "models/data/sentiment.h"
#include "models/data/utf8.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

using namespace unroll::data;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void finding(const char* what, int line) {
  std::fprintf(stderr, "FUZZ FINDING: %s (fuzz_corpus_loaders.cc:%d)\n", what, line);
  std::abort();
}
#define PROPERTY(cond)                      \
  do {                                      \
    if (!(cond)) finding(#cond, __LINE__);  \
  } while (0)

// A scratch folder per process (tmpfs when there is one: a file per corpus is written on every input).
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("unroll_fuzz_loaders_" + std::to_string(::getpid()));
    fs::create_directories(d / "brown");
    fs::create_directories(d / "sentiment");
    fs::create_directories(d / "fortunes");
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) finding("cannot write the scratch file", __LINE__);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void check_utf8(std::string_view raw, const Utf8Result& clean) {
  bool raw_valid = true;
  try {
    (void)sanitize_utf8(raw, Utf8Policy::reject, "fuzz");
  } catch (const DataError&) {
    raw_valid = false;
  }
  PROPERTY(raw_valid == (clean.replaced == 0));
  if (raw_valid) PROPERTY(clean.text == raw);
  const Utf8Result again = sanitize_utf8(clean.text, Utf8Policy::reject, "fuzz again");  // must not throw
  PROPERTY(again.text == clean.text && again.replaced == 0);
  const std::vector<char32_t> cps = utf8_decode(clean.text);
  PROPERTY(utf8_decode(raw) == cps);
  PROPERTY(utf8_encode(cps) == clean.text);
  std::size_t fffd = 0;
  for (char32_t c : cps) {
    PROPERTY(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF));
    fffd += c == 0xFFFD;
  }
  PROPERTY(fffd >= clean.replaced);
}

void check_brown(const std::vector<TaggedSentence>& sentences) {
  for (const auto& s : sentences) {
    PROPERTY(!s.words.empty());
    PROPERTY(s.words.size() == s.tags.size());
    for (const auto& w : s.words) {
      PROPERTY(!w.empty());
      for (char c : w) PROPERTY(!is_space(c));
    }
    for (const auto& t : s.tags)
      for (char c : t) PROPERTY(!is_space(c) && !(c >= 'A' && c <= 'Z'));
  }
}

bool same_sentences(const std::vector<TaggedSentence>& a, const std::vector<TaggedSentence>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].words != b[i].words || a[i].tags != b[i].tags) return false;
  return true;
}

void fuzz_brown(std::string_view raw, const Utf8Result& clean) {
  std::vector<TaggedSentence> direct;
  bool parsed = false;
  try {
    direct = parse_brown(clean.text, "fuzz");
    parsed = true;
    check_brown(direct);
  } catch (const DataError&) {
  }
  write_file(scratch() / "brown" / "ca01", raw);
  for (Utf8Policy policy : {Utf8Policy::replace, Utf8Policy::reject}) {
    try {
      BrownCorpus c = load_brown(scratch() / "brown", policy);
      PROPERTY(parsed && !direct.empty());
      PROPERTY(policy == Utf8Policy::replace || clean.replaced == 0);
      PROPERTY(c.utf8_replaced == clean.replaced);
      PROPERTY(c.files[0] == 1 && c.dev.empty() && c.test.empty());
      PROPERTY(same_sentences(c.train, direct));
      (void)lower_words(c.train);
    } catch (const DataError&) {
      PROPERTY(!parsed || direct.empty() || (policy == Utf8Policy::reject && clean.replaced > 0));
    }
  }
}

void fuzz_sentiment(std::string_view raw, const Utf8Result& clean) {
  for (std::string_view text : {raw, std::string_view(clean.text)}) {
    try {
      std::size_t dropped = 0;
      auto items = parse_sentiment_json(text, "fuzz.json", "fuzz", &dropped);
      for (const auto& it : items) PROPERTY(!it.text.empty() && (it.label == 0 || it.label == 1) && it.source == "fuzz");
    } catch (const DataError&) {
    }
  }
  std::size_t n = 0, dropped = 0;
  bool parsed = false;
  try {
    n = parse_sentiment_json(clean.text, "fuzz.json", "fuzz", &dropped).size();
    parsed = true;
  } catch (const DataError&) {
  }
  for (auto source : sentiment_sources) write_file(scratch() / "sentiment" / (std::string(source) + ".json"), raw);
  try {
    SentimentCorpus c = load_sentiment(scratch() / "sentiment", Utf8Policy::replace);
    PROPERTY(parsed && n > 0);
    PROPERTY(c.train.size() + c.dev.size() + c.test.size() == 3 * n);
    PROPERTY(c.dropped == 3 * dropped);
    PROPERTY(c.utf8_replaced == 3 * clean.replaced);
  } catch (const DataError&) {
    PROPERTY(!parsed || n == 0);
  }
}

void check_fortunes(const std::vector<std::string>& fs_) {
  for (const auto& f : fs_) {
    PROPERTY(!f.empty() && f.front() != '\n' && f.back() != '\n');
    PROPERTY(f.find_first_not_of(" \t\n\r\f\v") != std::string::npos);
    PROPERTY(f != "%" && f.rfind("%\n", 0) != 0 && f.find("\n%\n") == std::string::npos &&
             (f.size() < 2 || f.compare(f.size() - 2, 2, "\n%") != 0));
  }
}

void fuzz_fortunes(std::string_view raw, const Utf8Result& clean) {
  const auto direct = split_fortunes(clean.text);
  check_fortunes(direct);
  PROPERTY(split_fortunes(join_fortunes(direct)) == direct);
  check_fortunes(split_fortunes(raw));  // the splitter itself does not care about UTF-8
  write_file(scratch() / "fortunes" / "fuzz", raw);
  try {
    FortuneCorpus c = load_fortunes(scratch() / "fortunes", Utf8Policy::replace);
    PROPERTY(!direct.empty());
    PROPERTY(c.files == std::vector<std::string>{"fuzz"});
    PROPERTY(c.train.size() + c.dev.size() + c.test.size() == direct.size());
    for (std::size_t i = 0, k[3] = {0, 0, 0}; i < direct.size(); ++i) {  // fortune i went to split_of(i), in order
      const auto s = static_cast<std::size_t>(split_of(i));
      PROPERTY(c.split(split_of(i)).at(k[s]++) == direct[i]);
    }
  } catch (const DataError&) {
    PROPERTY(direct.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const Utf8Result clean = sanitize_utf8(raw, Utf8Policy::replace, "fuzz");
  check_utf8(raw, clean);
  fuzz_brown(raw, clean);
  fuzz_sentiment(raw, clean);
  fuzz_fortunes(raw, clean);
  return 0;
}
