// tests/test_data_loaders.cc — the corpus loaders on small fixtures written to a temp dir: Brown, sentiment,
// fortunes, UTF-8 handling, and every malformed case (missing file, empty corpus, bad token, bad JSON, bad UTF-8).
#include "models/data/brown.h"
#include "models/data/fortunes.h"
#include "models/data/sentiment.h"
#include "models/data/utf8.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace unroll::data;

namespace {
// A fresh folder per test case, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("unroll_test_data_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
  fs::path write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path / name, std::ios::binary) << bytes;
    return path / name;
  }
};
}  // namespace

TEST_CASE("utf8: valid text passes unchanged and decodes to code points") {
  const std::string s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // café € 😀
  const auto r = sanitize_utf8(s, Utf8Policy::replace, "t");
  CHECK(r.text == s);
  CHECK(r.replaced == 0);
  const auto cps = utf8_decode(s);
  REQUIRE(cps.size() == 8);
  CHECK(cps[3] == U'\u00E9');
  CHECK(cps[5] == U'\u20AC');
  CHECK(cps[7] == U'\U0001F600');
  CHECK(utf8_encode(cps) == s);
}

TEST_CASE("utf8: invalid bytes are replaced by U+FFFD and counted") {
  // lone continuation byte, truncated 3-byte sequence before ASCII, overlong '/', surrogate, byte 0xFF
  const std::string bad = std::string("a\x80") + "b\xE2\x82" + "c\xC0\xAF" + "d\xED\xA0\x80" + "e\xFF";
  const auto r = sanitize_utf8(bad, Utf8Policy::replace, "t");
  CHECK(r.replaced == 8);  // 1 + 1 (maximal subpart E2 82) + 2 (C0, AF) + 3 (ED, A0, 80) + 1
  CHECK(r.text.find('\x80') == std::string::npos);
  CHECK(sanitize_utf8(r.text, Utf8Policy::reject, "t").replaced == 0);  // the output is valid UTF-8
  CHECK(r.text.substr(0, 5) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("utf8: reject policy names the byte offset") {
  CHECK_THROWS_WITH_AS(sanitize_utf8("abc\xFFz", Utf8Policy::reject, "fortunes: x"),
                       doctest::Contains("fortunes: x: invalid UTF-8 at byte 3"), DataError);
}

TEST_CASE("brown: tag simplification follows DATA.md") {
  CHECK(simplify_brown_tag("NN-TL") == "nn");
  CHECK(simplify_brown_tag("np-tl-hl") == "np");
  CHECK(simplify_brown_tag("nns-hl-tl-nc") == "nns");
  CHECK(simplify_brown_tag("fw-in") == "in");
  CHECK(simplify_brown_tag("fw-nn-tl") == "nn");
  CHECK(simplify_brown_tag("ppss+md") == "ppss+md");
  CHECK(simplify_brown_tag("np$") == "np$");
  CHECK(is_name_tag("np+bez"));
  CHECK(is_name_tag("nps$"));
  CHECK_FALSE(is_name_tag("nn"));
}

TEST_CASE("brown: a line is a sentence, split at the last '/'") {
  const auto s = parse_brown("\n\n\tThe/at Fulton/np-tl 1/2/cd ./.\n\nHeadline/nn-hl here/rb \n", "ca01");
  REQUIRE(s.size() == 2);
  CHECK(s[0].words == std::vector<std::string>{"The", "Fulton", "1/2", "."});
  CHECK(s[0].tags == std::vector<std::string>{"at", "np", "cd", "."});
  CHECK(name_labels(s[0]) == std::vector<int>{0, 1, 0, 0});
  CHECK(s[1].words.size() == 2);  // a headline without the leading tab is a sentence too
}

TEST_CASE("brown: a token without '/' names file, line and token") {
  CHECK_THROWS_WITH_AS(parse_brown("\tThe/at dog/nn\n\n\tThe/at cat runs/vbz\n", "ca07"),
                       doctest::Contains("brown: ca07:3: token 2 'cat' has no '/'"), DataError);
  CHECK_THROWS_WITH_AS(parse_brown("\tok/at dog/\n", "ca07"), doctest::Contains("ca07:1: token 2 'dog/' has an empty tag"),
                       DataError);
  // a tag made only of what simplification strips would become the empty tag: refused, not a silent "" label
  CHECK_THROWS_WITH_AS(parse_brown("\tok/at\n\tThe/at dog/-tl\n", "ca07"),
                       doctest::Contains("ca07:2: token 2 'dog/-tl' has a tag that simplifies to nothing"), DataError);
  CHECK_THROWS_WITH_AS(parse_brown("\tword/FW-\n", "ca07"), doctest::Contains("ca07:1: token 1 'word/FW-'"),
                       DataError);
  CHECK_THROWS_WITH_AS(parse_brown("\tword/-tl-hl\n", "ca07"), doctest::Contains("simplifies to nothing"), DataError);
}

TEST_CASE("brown: files sorted by name, split by i % 10, other files ignored") {
  TempDir d("brown_split");
  const char* names[] = {"cb01", "ca02", "ca01", "ca03", "ca04", "ca05", "ca06", "ca07", "ca08", "ca09"};
  for (int i = 0; i < 10; ++i) d.write(names[i], std::string("\tw") + names[i] + "/nn x/np-tl\n\n\tsecond/jj-hl\n");
  d.write("README", "not/a corpus file");
  d.write("cats.txt", "ca01 news");
  const auto c = load_brown(d.path);
  CHECK(c.files == std::array<std::size_t, 3>{8, 1, 1});
  REQUIRE(c.train.size() == 16);
  CHECK(c.train[0].words[0] == "wca01");
  CHECK(c.dev[0].words[0] == "wca09");   // sorted index 8
  CHECK(c.test[0].words[0] == "wcb01");  // sorted index 9
  CHECK(c.train[1].tags == std::vector<std::string>{"jj"});
  CHECK(count_tokens(c.train) == 24);
}

TEST_CASE("brown: missing folder, empty corpus, empty file, invalid UTF-8") {
  TempDir d("brown_bad");
  CHECK_THROWS_WITH_AS(load_brown(d.path / "nope"), doctest::Contains("not found (run tools/fetch_data.sh"), DataError);
  CHECK_THROWS_WITH_AS(load_brown(d.path), doctest::Contains("empty corpus"), DataError);
  d.write("ca01", "\n\n  \n");
  CHECK_THROWS_WITH_AS(load_brown(d.path), doctest::Contains("ca01: empty file"), DataError);
  d.write("ca01", "\tna\xEFve/jj x/nn\n");
  const auto c = load_brown(d.path);
  CHECK(c.utf8_replaced == 1);
  CHECK(c.train[0].words[0] == "na\xEF\xBF\xBDve");
  CHECK_THROWS_WITH_AS(load_brown(d.path, Utf8Policy::reject), doctest::Contains("invalid UTF-8 at byte 3"), DataError);
}

TEST_CASE("sentiment: three files in order, bad entries dropped, split by i % 10") {
  TempDir d("senti");
  std::string amazon = "[";
  for (int i = 0; i < 8; ++i) amazon += R"({"text":"a)" + std::to_string(i) + R"(","class":)" + std::to_string(i % 2) + "},";
  amazon += R"({"text":"","class":null},{"text":"x","class":2},{"class":1},{"text":"y","class":"1"}])";
  d.write("amazon.json", amazon);
  d.write("imdb.json", R"([{"text":"i0","class":1},{"text":"i1","class":0}])");
  d.write("yelp.json", R"([{"text":"y0","class":0}])");
  const auto c = load_sentiment(d.path);
  CHECK(c.dropped == 4);
  CHECK(c.train.size() == 9);  // units 0-7 and 10
  REQUIRE(c.dev.size() == 1);
  REQUIRE(c.test.size() == 1);
  CHECK(c.dev[0].text == "i0");  // unit 8
  CHECK(c.test[0].text == "i1");  // unit 9
  CHECK(c.test[0].label == 0);
  CHECK(c.test[0].source == "imdb");
  CHECK(c.train.back().text == "y0");
}

TEST_CASE("sentiment: bad JSON, missing file, wrong shape, empty, invalid UTF-8") {
  TempDir d("senti_bad");
  d.write("amazon.json", R"([{"text":"ok","class":1}])");
  d.write("imdb.json", R"([{"text":"ok","class":1})");
  CHECK_THROWS_WITH_AS(load_sentiment(d.path), doctest::Contains("imdb.json: bad JSON at byte"), DataError);
  d.write("imdb.json", R"({"text":"ok","class":1})");
  CHECK_THROWS_WITH_AS(load_sentiment(d.path), doctest::Contains("expected a JSON array"), DataError);
  d.write("imdb.json", R"([{"text":"","class":1}])");
  CHECK_THROWS_WITH_AS(load_sentiment(d.path), doctest::Contains("imdb.json: empty corpus"), DataError);
  d.write("imdb.json", "[{\"text\":\"caf\xE9\",\"class\":1}]");
  CHECK_THROWS_WITH_AS(load_sentiment(d.path), doctest::Contains("yelp.json: no such file"), DataError);
  d.write("yelp.json", R"([{"text":"ok","class":0}])");
  const auto c = load_sentiment(d.path);
  CHECK(c.utf8_replaced == 1);
  CHECK(c.train[1].text == "caf\xEF\xBF\xBD");
  CHECK_THROWS_WITH_AS(load_sentiment(d.path, Utf8Policy::reject), doctest::Contains("imdb.json: invalid UTF-8 at byte 13"),
                       DataError);
}

TEST_CASE("fortunes: split on lines exactly '%', blank entries dropped, newlines stripped") {
  const auto f = split_fortunes("\n\nfirst\n  line two\n%\n\n \t\n%\n%\n50% off\n %\nlast\n\n");
  REQUIRE(f.size() == 2);
  CHECK(f[0] == "first\n  line two");
  CHECK(f[1] == "50% off\n %\nlast");
  CHECK(join_fortunes(f) == "first\n  line two\n%\n50% off\n %\nlast\n%\n");
  CHECK(split_fortunes("").empty());
}

TEST_CASE("fortunes: file list rules, order and split") {
  TempDir d("fortunes");
  std::string many;
  for (int i = 0; i < 9; ++i) many += "b" + std::to_string(i) + "\n%\n";
  d.write("b", many);
  d.write("a", "a0\n%\na1");
  d.write("a.dat", "binary index");
  d.write("c.u8", "ignored\n%\n");
  fs::create_symlink(d.path / "a", d.path / "link");
  const auto c = load_fortunes(d.path);
  CHECK(c.files == std::vector<std::string>{"a", "b"});
  REQUIRE(c.train.size() == 9);  // units 0-7 and 10
  CHECK(c.train[0] == "a0");
  CHECK(c.dev == std::vector<std::string>{"b6"});
  CHECK(c.test == std::vector<std::string>{"b7"});
  CHECK(c.train.back() == "b8");  // unit 10
}

TEST_CASE("fortunes: missing folder, empty corpus, invalid UTF-8") {
  TempDir d("fortunes_bad");
  CHECK_THROWS_WITH_AS(load_fortunes(d.path / "none"), doctest::Contains("not found"), DataError);
  d.write("a.dat", "x");
  CHECK_THROWS_WITH_AS(load_fortunes(d.path), doctest::Contains("empty corpus: no fortune file"), DataError);
  d.write("a", "\n%\n  \n%\n");
  CHECK_THROWS_WITH_AS(load_fortunes(d.path), doctest::Contains("hold no fortune"), DataError);
  d.write("a", "bad \xFE byte\n%\n");
  const auto c = load_fortunes(d.path);
  CHECK(c.utf8_replaced == 1);
  CHECK(c.train[0] == "bad \xEF\xBF\xBD byte");
  CHECK_THROWS_WITH_AS(load_fortunes(d.path, Utf8Policy::reject), doctest::Contains("invalid UTF-8 at byte 4"), DataError);
}
