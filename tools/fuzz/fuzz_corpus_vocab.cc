// tools/fuzz/fuzz_corpus_vocab.cc — libFuzzer target for the tokenizers and vocabularies of models/data
// (tokenize.h, vocab.h, batching.h) on arbitrary bytes (invalid UTF-8 included).
// Built by tools/fuzz/build_more.sh with clang -fsanitize=fuzzer,address,undefined.
//
// The bytes are used three ways; the only accepted failure is DataError (anything else escaping is a finding,
// a broken property aborts with "FUZZ FINDING"):
//   as text      split_whitespace / to_lower_ascii / tokenize_sentiment keep their contracts; a Vocab built from
//                the tokens (min count and max size from the first bytes) encodes and decodes them back, and
//                survives save_text/load_text and save_json/load_json; a CharVocab built from the sanitized text
//                decodes its own encoding back to the text and survives its JSON form; a LabelSet likewise
//   as a file    Vocab::load_text, Vocab::load_json, CharVocab::load_json and LabelSet::from_json on the raw bytes:
//                DataError or a vocabulary that is consistent (reserved ids first, token(id(t)) == t, frozen)
//   as lengths   plan_batches is a partition of the items, pad_batch pads exactly, StreamBatches' targets are the
//                next ids of its inputs
#include "models/data/batching.h"
#include "models/data/common.h"
#include "models/data/tokenize.h"
#include "models/data/utf8.h"
#include "models/data/vocab.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

using namespace unroll::data;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void finding(const char* what, int line) {
  std::fprintf(stderr, "FUZZ FINDING: %s (fuzz_corpus_vocab.cc:%d)\n", what, line);
  std::abort();
}
#define PROPERTY(cond)                      \
  do {                                      \
    if (!(cond)) finding(#cond, __LINE__);  \
  } while (0)

const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("unroll_fuzz_vocab_" + std::to_string(::getpid()));
    fs::create_directories(d);
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
bool is_word_byte(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; }

void check_tokenizers(std::string_view raw, const std::vector<std::string>& tokens) {
  std::string joined, squeezed;
  for (const auto& t : tokens) {
    PROPERTY(!t.empty());
    for (char c : t) PROPERTY(!is_space(c));
    joined += t;
  }
  for (char c : raw)
    if (!is_space(c)) squeezed += c;
  PROPERTY(joined == squeezed);

  const std::string lower = to_lower_ascii(raw);
  PROPERTY(lower.size() == raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    PROPERTY(lower[i] == (c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c));
  }
  PROPERTY(starts_upper_ascii(raw) == (!raw.empty() && raw[0] >= 'A' && raw[0] <= 'Z'));

  std::string words;
  for (const auto& t : tokenize_sentiment(raw)) {
    PROPERTY(!t.empty());
    for (char c : t) PROPERTY(is_word_byte(c));
    words += t;
  }
  std::string kept;
  for (char c : lower)
    if (is_word_byte(c)) kept += c;
  PROPERTY(words == kept);
}

void check_vocab(const Vocab& v) {
  PROPERTY(v.size() >= Vocab::num_reserved);
  for (std::size_t i = 0; i < Vocab::num_reserved; ++i) PROPERTY(v.token(std::int64_t(i)) == Vocab::reserved_names[i]);
  for (std::size_t i = 0; i < v.size(); ++i) PROPERTY(v.id(v.token(std::int64_t(i))) == std::int64_t(i));
  bool threw = false;
  try {
    (void)v.token(std::int64_t(v.size()));
  } catch (const DataError&) {
    threw = true;
  }
  PROPERTY(threw);
}

bool same_tokens(const Vocab& a, const Vocab& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.token(std::int64_t(i)) != b.token(std::int64_t(i))) return false;
  return true;
}

void fuzz_vocab(std::string_view raw, const std::string& clean) {
  const std::vector<std::string> tokens = split_whitespace(raw);
  check_tokenizers(raw, tokens);

  Counter counts;
  counts.add_all(tokens);
  VocabOptions opt;
  opt.min_count = raw.empty() ? 1 : 1 + (static_cast<unsigned char>(raw[0]) % 3);
  opt.max_size = raw.size() < 2 ? 0 : static_cast<unsigned char>(raw[1]) % 8;
  Vocab all = Vocab::build(counts), some = Vocab::build(counts, opt);
  check_vocab(all);
  check_vocab(some);
  PROPERTY(all.frozen() && some.frozen());
  if (opt.max_size) PROPERTY(some.size() <= Vocab::num_reserved + opt.max_size);
  std::set<std::string> distinct(tokens.begin(), tokens.end());
  std::size_t reserved_spelled = 0;
  for (auto r : Vocab::reserved_names) reserved_spelled += distinct.count(std::string(r));
  PROPERTY(all.size() == Vocab::num_reserved + distinct.size() - reserved_spelled);
  // every token was seen: encode/decode is the identity (reserved spellings map to their reserved ids)
  PROPERTY(all.decode(all.encode(tokens), false) == tokens);
  const auto ids = some.encode(tokens, true, true);
  PROPERTY(ids.size() == tokens.size() + 2 && ids.front() == Vocab::bos && ids.back() == Vocab::eos);
  std::size_t unknown = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::int64_t id = ids[i + 1];
    PROPERTY(id >= 0 && std::size_t(id) < some.size());
    if (some.contains(tokens[i])) PROPERTY(some.token(id) == tokens[i]);
    else {
      PROPERTY(id == Vocab::unk);
      ++unknown;
    }
  }
  PROPERTY(some.count_unknown(tokens) == unknown);

  // text form (tokens never hold a newline: they come from split_whitespace)
  const fs::path text = scratch() / "vocab.txt";
  all.save_text(text);
  PROPERTY(same_tokens(Vocab::load_text(text), all));

  // JSON form needs valid UTF-8: build from the sanitized text
  Counter clean_counts;
  clean_counts.add_all(split_whitespace(clean));
  const Vocab cv = Vocab::build(clean_counts);
  const fs::path json = scratch() / "vocab.json";
  cv.save_json(json);
  const Vocab back = Vocab::load_json(json);
  PROPERTY(same_tokens(back, cv) && back.frozen());
  PROPERTY(same_tokens(Vocab::from_json(nlohmann::json::parse(cv.to_json().dump())), cv));

  LabelSet labels;
  for (const auto& t : split_whitespace(clean)) labels.add(t);
  labels.freeze();
  const LabelSet lb = LabelSet::from_json(nlohmann::json::parse(labels.to_json().dump()));
  PROPERTY(lb.size() == labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    PROPERTY(lb.label(std::int64_t(i)) == labels.label(std::int64_t(i)));
    PROPERTY(lb.id(labels.label(std::int64_t(i))) == std::int64_t(i));
  }
}

void fuzz_char_vocab(std::string_view raw, const std::string& clean) {
  for (bool sorted : {true, false}) {
    const CharVocab v = CharVocab::build(clean, sorted);
    PROPERTY(v.frozen());
    const auto ids = v.encode(clean);
    for (auto id : ids) PROPERTY(id >= std::int64_t(Vocab::num_reserved) && std::size_t(id) < v.size());
    PROPERTY(v.decode(ids) == clean);
    for (auto id : v.encode(raw)) PROPERTY(id >= 0 && std::size_t(id) < v.size());
    const CharVocab back = CharVocab::from_json(nlohmann::json::parse(v.to_json().dump()));
    PROPERTY(back.size() == v.size() && back.frozen());
    for (std::size_t i = Vocab::num_reserved; i < v.size(); ++i)
      PROPERTY(back.code_point(std::int64_t(i)) == v.code_point(std::int64_t(i)));
    const fs::path json = scratch() / "chars.json";
    v.save_json(json);
    PROPERTY(CharVocab::load_json(json).encode(clean) == ids);
  }
}

// The raw bytes as a vocabulary file of each kind.
void fuzz_vocab_files(std::string_view raw) {
  const fs::path file = scratch() / "input";
  write_file(file, raw);
  try {
    const Vocab v = Vocab::load_text(file);
    check_vocab(v);
    PROPERTY(v.frozen());
  } catch (const DataError&) {
  }
  try {
    const Vocab v = Vocab::load_json(file);
    check_vocab(v);
  } catch (const DataError&) {
  }
  try {
    const CharVocab v = CharVocab::load_json(file);
    std::vector<std::int64_t> ids;
    for (std::size_t i = Vocab::num_reserved; i < v.size(); ++i) {
      const char32_t cp = v.code_point(std::int64_t(i));
      PROPERTY(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
      PROPERTY(v.id(cp) == std::int64_t(i));
      ids.push_back(std::int64_t(i));
    }
    const std::string text = v.decode(ids);
    PROPERTY(sanitize_utf8(text, Utf8Policy::replace, "decoded").replaced == 0);  // decode gives valid UTF-8
  } catch (const DataError&) {
  }
  // LabelSet has no file loader: from_json on whatever JSON the bytes hold
  nlohmann::json j = nlohmann::json::parse(raw.begin(), raw.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    for (int kind = 0; kind < 3; ++kind) {
      try {
        if (kind == 0) check_vocab(Vocab::from_json(j));
        if (kind == 1) (void)CharVocab::from_json(j);
        if (kind == 2) {
          const LabelSet s = LabelSet::from_json(j);
          for (std::size_t i = 0; i < s.size(); ++i) PROPERTY(s.id(s.label(std::int64_t(i))) == std::int64_t(i));
        }
      } catch (const DataError&) {
      }
    }
  }
}

// The bytes as sequence lengths and batch options.
void fuzz_batching(std::string_view raw) {
  if (raw.size() < 3) return;
  const auto u = [&](std::size_t i) { return static_cast<unsigned char>(raw[i]); };
  BatchPlanOptions o;
  o.batch_size = u(0) % 9;  // 0 is refused
  o.pool_batches = u(1) % 4;
  o.shuffle = u(2) & 1;
  o.drop_last = u(2) & 2;
  o.seed = u(2);
  std::vector<std::size_t> lengths;
  std::vector<std::vector<std::int64_t>> seqs;
  for (std::size_t i = 3; i < raw.size() && i < 67; ++i) {
    lengths.push_back(u(i) % 12);
    seqs.emplace_back(lengths.back(), std::int64_t(i));
  }
  try {
    const auto batches = plan_batches(lengths, o);
    PROPERTY(o.batch_size > 0);
    std::vector<int> seen(lengths.size(), 0);
    for (const auto& b : batches) {
      PROPERTY(!b.empty() && b.size() <= o.batch_size);
      if (o.drop_last) PROPERTY(b.size() == o.batch_size);
      for (std::size_t i : b) ++seen.at(i);
      const Batch p = pad_batch(seqs, b, -7);
      PROPERTY(p.B == b.size() && p.ids.size() == p.B * p.T);
      for (std::size_t r = 0; r < p.B; ++r) {
        PROPERTY(std::size_t(p.lengths[r]) == seqs[b[r]].size() && p.index[r] == b[r]);
        for (std::size_t t = 0; t < p.T; ++t)
          PROPERTY(p.at(r, t) == (t < seqs[b[r]].size() ? seqs[b[r]][t] : -7));
      }
    }
    std::size_t total = 0;
    for (int s : seen) {
      PROPERTY(s <= 1);
      total += std::size_t(s);
    }
    if (!o.drop_last) PROPERTY(total == lengths.size());
  } catch (const DataError&) {
    PROPERTY(o.batch_size == 0);
  }
  std::vector<std::int64_t> stream;
  for (char c : raw) stream.push_back(static_cast<unsigned char>(c));
  const std::size_t B = u(0) % 5, T = u(1) % 7;
  try {
    StreamBatches sb(stream, B, T);
    PROPERTY(B > 0 && T > 0 && stream.size() > B);
    std::vector<std::int64_t> x, y;
    std::size_t covered = 0;
    for (std::size_t k = 0; k < sb.num_batches(); ++k) {
      const std::size_t steps = sb.get(k, x, y);
      PROPERTY(steps >= 1 && steps <= T && x.size() == B * steps && y.size() == B * steps);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < steps; ++t) {
          const std::size_t p = b * sb.column_length() + covered + t;
          PROPERTY(x[b * steps + t] == stream[p] && y[b * steps + t] == stream[p + 1]);
        }
      covered += steps;
    }
    PROPERTY(covered == sb.column_length());
  } catch (const DataError&) {
    PROPERTY(B == 0 || T == 0 || stream.size() <= B);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::string clean = sanitize_utf8(raw, Utf8Policy::replace, "fuzz").text;
  fuzz_vocab(raw, clean);
  fuzz_char_vocab(raw, clean);
  fuzz_vocab_files(raw);
  fuzz_batching(raw);
  return 0;
}
