// tests/test_data_vocab.cc — Counter, Vocab (reserved ids, min count, max size, frozen, <unk>, text/JSON round
// trips), CharVocab, LabelSet, the tokenisers and the Brown word-LM view.
#include "models/data/brown.h"
#include "models/data/common.h"
#include "models/data/tokenize.h"
#include "models/data/vocab.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace unroll::data;

namespace {
fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("unroll_test_data_" + std::to_string(::getpid()) + "_" + name);
}
Counter counts_of(const std::vector<std::string>& tokens) {
  Counter c;
  c.add_all(tokens);
  return c;
}
}  // namespace

TEST_CASE("vocab: reserved ids come first and unknown words map to <unk>") {
  const auto v = Vocab::build(counts_of({"b", "a", "b", "c", "a", "b"}));
  CHECK(v.size() == 7);
  CHECK(v.token(Vocab::pad) == "<pad>");
  CHECK(v.token(Vocab::unk) == "<unk>");
  CHECK(v.token(Vocab::bos) == "<bos>");
  CHECK(v.token(Vocab::eos) == "<eos>");
  CHECK(v.id("b") == 4);  // most frequent first
  CHECK(v.id("a") == 5);
  CHECK(v.id("c") == 6);
  CHECK(v.id("zebra") == Vocab::unk);
  CHECK(v.encode({"a", "zebra"}, true, true) == std::vector<std::int64_t>{Vocab::bos, 5, Vocab::unk, Vocab::eos});
  CHECK(v.decode({Vocab::bos, 5, Vocab::unk, Vocab::eos, Vocab::pad}) == std::vector<std::string>{"a", "<unk>"});
  CHECK(v.count_unknown({"a", "q", "r"}) == 2);
  CHECK_THROWS_WITH_AS(v.token(7), doctest::Contains("id 7 out of range"), DataError);
}

TEST_CASE("vocab: min count and max size, ties broken by first occurrence") {
  const auto c = counts_of({"x", "y", "z", "y", "x", "w", "z", "v"});  // x2 y2 z2 w1 v1, first seen x, y, z, w, v
  const auto top2 = Vocab::build(c, {.min_count = 1, .max_size = 2});
  CHECK(top2.size() == 6);
  CHECK(top2.id("x") == 4);
  CHECK(top2.id("y") == 5);
  CHECK(top2.id("z") == Vocab::unk);
  const auto min2 = Vocab::build(c, {.min_count = 2});
  CHECK(min2.size() == 7);
  CHECK(min2.id("w") == Vocab::unk);
  CHECK(c.most_common().front() == std::pair<std::string, std::int64_t>{"x", 2});
}

TEST_CASE("vocab: frozen after building; add() to a frozen vocabulary throws") {
  auto v = Vocab::build(counts_of({"a"}));
  CHECK(v.frozen());
  CHECK(v.add("a") == 4);  // an existing word is fine
  CHECK_THROWS_WITH_AS(v.add("new"), doctest::Contains("frozen"), DataError);
  Vocab open;
  CHECK_FALSE(open.frozen());
  CHECK(open.add("hello") == 4);
  CHECK(open.add("hello") == 4);
  open.freeze();
  CHECK_THROWS_AS(open.add("world"), DataError);
}

TEST_CASE("vocab: text and JSON round trips keep every id; bad files are rejected") {
  const auto v = Vocab::build(counts_of({"the", "cat", "the", "caf\xC3\xA9"}));
  const auto txt = temp_file("vocab.txt"), js = temp_file("vocab.json");
  v.save_text(txt);
  v.save_json(js);
  for (const auto& w : Vocab::load_text(txt).decode({4, 5, 6})) CHECK(v.id(w) >= 4);
  const auto a = Vocab::load_text(txt), b = Vocab::load_json(js);
  REQUIRE(a.size() == v.size());
  REQUIRE(b.size() == v.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) {
    CHECK(a.token(i) == v.token(i));
    CHECK(b.token(i) == v.token(i));
  }
  CHECK(a.frozen());
  CHECK(b.frozen());
  std::ofstream(txt) << "<pad>\n<unk>\n<eos>\n<bos>\n";
  CHECK_THROWS_WITH_AS(Vocab::load_text(txt), doctest::Contains("id 2 is '<eos>', expected '<bos>'"), DataError);
  std::ofstream(js) << "{\"tokens\": [\"<pad>\"";
  CHECK_THROWS_WITH_AS(Vocab::load_json(js), doctest::Contains("bad JSON at byte"), DataError);
  CHECK_THROWS_WITH_AS(Vocab::load_json(temp_file("absent.json")), doctest::Contains("no such file"), DataError);
  fs::remove(txt);
  fs::remove(js);
}

TEST_CASE("char vocab: code points seen in train, reserved ids, unknown -> <unk>, JSON round trip") {
  const auto v = CharVocab::build("ab\xC3\xA9" "ba\n");  // a b é \n
  CHECK(v.size() == 4 + 4);
  CHECK(v.scored_size() == 5);  // 4 chars + <unk>
  CHECK(v.id(U'\n') == 4);      // sorted by code point
  CHECK(v.id(U'a') == 5);
  CHECK(v.id(U'\u00E9') == 7);
  CHECK(v.id(U'z') == Vocab::unk);
  const auto ids = v.encode("a\xC3\xA9z");
  CHECK(ids == std::vector<std::int64_t>{5, 7, Vocab::unk});
  CHECK(v.decode(ids) == "a\xC3\xA9");  // <unk> is skipped
  CHECK_THROWS_AS(v.code_point(Vocab::unk), DataError);
  auto w = CharVocab::from_json(v.to_json());
  CHECK(w.size() == v.size());
  CHECK(w.id(U'\u00E9') == 7);
  CHECK(w.frozen());
  CHECK_THROWS_WITH_AS(w.add(U'q'), doctest::Contains("frozen"), DataError);
}

TEST_CASE("label set: dense ids, unknown labels throw") {
  LabelSet tags;
  CHECK(tags.add("nn") == 0);
  CHECK(tags.add("at") == 1);
  CHECK(tags.add("nn") == 0);
  CHECK(tags.id("at") == 1);
  CHECK_THROWS_WITH_AS(tags.id("vb"), doctest::Contains("unknown label 'vb'"), DataError);
  const auto copy = LabelSet::from_json(tags.to_json());
  CHECK(copy.label(1) == "at");
  CHECK(copy.frozen());
}

TEST_CASE("tokenize: ASCII lower-casing, white space, sentiment tokens") {
  CHECK(to_lower_ascii("The CAT \xC3\x89") == "the cat \xC3\x89");
  CHECK(starts_upper_ascii("Fulton"));
  CHECK_FALSE(starts_upper_ascii("fulton"));
  CHECK(split_whitespace("\t a  b\n\nc ") == std::vector<std::string>{"a", "b", "c"});
  CHECK(tokenize_sentiment("Don't buy it!! 10/10, NOT great...") ==
        std::vector<std::string>{"don't", "buy", "it", "10", "10", "not", "great"});
  CHECK(tokenize_sentiment("caf\xC3\xA9 ok") == std::vector<std::string>{"caf", "ok"});
  CHECK(tokenize_sentiment("  ?! ").empty());
}

TEST_CASE("brown word LM view: lower-cased words, top-k vocabulary, <eos> after each sentence") {
  std::vector<TaggedSentence> train = {{{"The", "dog", "barks"}, {"at", "nn", "vbz"}}, {{"the", "Dog"}, {"at", "nn"}}};
  const auto v = brown_lm_vocab(train);
  CHECK(v.size() == 4 + 3);
  CHECK(v.id("the") == 4);
  CHECK(v.id("dog") == 5);
  CHECK(lower_words(train)[1] == std::vector<std::string>{"the", "dog"});
  const auto ids = brown_lm_stream({{{"The", "cat"}, {"at", "nn"}}}, v);
  CHECK(ids == std::vector<std::int64_t>{4, Vocab::unk, Vocab::eos});
}
