// tests/test_char_lm.cc — the character LM (models/char_lm/) on a tiny fortunes corpus the test writes itself:
// it overfits, evaluation scores every character, sampling is reproducible and never emits <unk>, scoring ranks a
// real sentence above its shuffled words and characters, model files round-trip, bad options are refused.
#include "models/char_lm/train.h"

#include "engine/ops.h"
#include "models/data/fortunes.h"
#include "models/data/utf8.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace unroll;
using namespace unroll::char_lm;

namespace {

const std::vector<std::string> kSentences = {
    "the cat sat on the mat.",          "a dog ran in the park.",
    "the sun is hot today.",            "we like to read old books.",
    "my friend has a red car.",         "the bird sings in the tree.",
    "it rains a lot in the fall.",      "she drinks tea with milk.",
    "they walk to school at eight.",    "the moon is bright tonight.",
    "he plays the piano well.",
};

// A fortunes folder of four files ("%" lines between fortunes), 44 fortunes: the 11 sentences four times, so
// every sentence is in train (units i % 10 < 8) and dev/test (i % 10 = 8, 9) hold repeats of train sentences.
fs::path write_corpus() {
  const fs::path dir = fs::temp_directory_path() / ("unroll_test_char_lm_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (int f = 0; f < 4; ++f) {
    std::ofstream out(dir / ("file" + std::to_string(f)));
    for (const auto& s : kSentences) out << s << "\n%\n";
  }
  std::ofstream(dir / "file0.dat") << "not a fortune file\n";  // skipped by the loader (has a '.')
  return dir;
}

CharLmOptions tiny_options() {
  CharLmOptions o = preset_options("tiny");
  o.data_dir = write_corpus().string();
  o.quiet = true;
  o.num_samples = 0;
  return o;
}

// Trained once, shared by the tests below (a few seconds).
struct Trained {
  TrainResult result;
  LoadedCharLm lm;
};
Trained& trained() {
  static Trained t = [] {
    CharLmOptions o = tiny_options();
    o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
    Trained r;
    r.result = train_char_lm(o);
    r.lm = load_char_lm(o.checkpoint);
    return r;
  }();
  return t;
}

std::string shuffled_words(const std::string& s) {
  std::vector<std::string> w;
  std::string cur;
  for (char c : s) {
    if (c == ' ') {
      w.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  w.push_back(cur);
  std::rotate(w.begin(), w.begin() + 2, w.end());  // a fixed permutation: deterministic test
  std::swap(w[0], w[1]);
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) out += (i ? " " : "") + w[i];
  return out;
}

std::string shuffled_chars(std::string s) {
  Rng rng(3);
  for (std::size_t i = s.size(); i > 1; --i) std::swap(s[i - 1], s[rng.below(i)]);
  return s;
}

}  // namespace

TEST_CASE("char_lm: overfits a tiny fortunes corpus") {
  const TrainResult& r = trained().result;
  REQUIRE(!r.curve.empty());
  CHECK(r.steps > 0);
  CHECK(r.curve.back().train_bpc < 0.8);   // from log2(V) ≈ 5 bits at the start
  CHECK(r.best_dev_bpc < 1.0);             // dev/test fortunes repeat the train sentences here
  CHECK(r.test_bpc < 1.0);
  std::size_t test_chars = 0;  // units 9, 19, 29, 39 = sentences 9, 8, 7, 6, each with its end mark
  for (std::size_t i : {9, 8, 7, 6}) test_chars += kSentences[i].size() + data::fortune_end_mark.size();
  CHECK(r.test_chars == test_chars);
}

TEST_CASE("char_lm: evaluation scores every character, independent of chunking") {
  LoadedCharLm& lm = trained().lm;
  const std::string text = kSentences[0] + "\n%\n" + kSentences[3] + "\n%\n";
  const EvalResult a = evaluate_bits(*lm.model, lm.vocab, text, 1, 5);
  const EvalResult b = evaluate_bits(*lm.model, lm.vocab, text, 1, 64);
  CHECK(a.chars == text.size());
  CHECK(a.bits_per_char == doctest::Approx(b.bits_per_char).epsilon(1e-5));
  // B = 1 is exactly the score of the text as one sequence from the start of a fortune.
  const ScoreItem s = score_text(*lm.model, lm.vocab, text);
  CHECK(a.bits_per_char == doctest::Approx(s.bits_per_char).epsilon(1e-5));
  // Several rows in parallel still score every character once.
  const EvalResult c = evaluate_bits(*lm.model, lm.vocab, text, 4, 8, 16);
  CHECK(c.chars == text.size());
  CHECK(std::isfinite(c.bits_per_char));
  CHECK(c.bits_per_char < 2.0);
}

TEST_CASE("char_lm: sampling with a fixed seed is reproducible and ends at the end mark") {
  LoadedCharLm& lm = trained().lm;
  SampleOptions so;
  so.temperature = 0.5;
  so.max_chars = 200;
  Rng r1(42), r2(42);
  const Sample a = sample_text(*lm.model, lm.vocab, so, r1);
  const Sample b = sample_text(*lm.model, lm.vocab, so, r2);
  CHECK(a.text == b.text);
  CHECK(a.ended);
  CHECK(a.text.find("\n%\n") == std::string::npos);
  // Low temperature on an overfit model: every word of the sample is a word of the corpus.
  INFO("sample: " << a.text);
  std::string corpus = " ";
  for (const auto& s : kSentences) corpus += s + " ";
  std::size_t start = 0;
  while (start < a.text.size()) {
    const std::size_t end = std::min(a.text.find(' ', start), a.text.size());
    CHECK(corpus.find(" " + a.text.substr(start, end - start) + " ") != std::string::npos);
    start = end + 1;
  }
  // A prompt is kept as the start of the fortune.
  so.prompt = "the ";
  Rng r3(1);
  CHECK(sample_text(*lm.model, lm.vocab, so, r3).text.rfind("the ", 0) == 0);
  // Through the entry point, from the model file.
  CharLmOptions o = tiny_options();
  o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
  o.num_samples = 2;
  o.seed = 9;
  const auto s1 = sample_char_lm(o), s2 = sample_char_lm(o);
  REQUIRE(s1.size() == 2);
  CHECK(s1[0].text == s2[0].text);
  CHECK(s1[1].text == s2[1].text);
}

TEST_CASE("char_lm: sampling never emits <unk> or another reserved id, even when it is the likeliest") {
  const data::CharVocab vocab = data::CharVocab::build("abc \n%");
  CharLmConfig c;
  c.vocab_size = int(vocab.size());
  c.embed = 4;
  c.hidden = 8;
  c.layers = 1;
  Rng rng(5);
  CharLm<float> model(c, rng);
  for (auto& p : model.parameters())
    if (p.name == "decoder.bias")
      for (std::size_t k = 0; k < data::Vocab::num_reserved; ++k) p.var.value()(0, k) = 50.f;  // reserved ids dominate
  SampleOptions so;
  so.temperature = 2.0;
  so.max_chars = 300;
  Rng srng(7);
  const Sample s = sample_text(model, vocab, so, srng);
  CHECK(!s.text.empty());
  for (char32_t cp : data::utf8_decode(s.text)) CHECK(vocab.contains(cp));
  // top-k = 1 is greedy: the same text whatever the seed
  so.top_k = 1;
  so.max_chars = 50;
  Rng a(1), b(2);
  CHECK(sample_text(model, vocab, so, a).text == sample_text(model, vocab, so, b).text);
}

TEST_CASE("char_lm: scoring ranks a real sentence above its shuffled words and characters") {
  LoadedCharLm& lm = trained().lm;
  for (const std::string& real : {kSentences[1], kSentences[5]}) {
    const ScoreItem r = score_text(*lm.model, lm.vocab, real);
    const ScoreItem w = score_text(*lm.model, lm.vocab, shuffled_words(real));
    const ScoreItem c = score_text(*lm.model, lm.vocab, shuffled_chars(real));
    CHECK(r.chars == real.size());
    CHECK(r.log_prob < 0);
    CHECK(r.log_prob > w.log_prob);
    CHECK(r.log_prob > c.log_prob);
    CHECK(r.bits == doctest::Approx(-r.log_prob / std::log(2.0)));
  }
  // The entry point returns the candidates best first.
  CharLmOptions o = tiny_options();
  o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
  o.texts = {shuffled_words(kSentences[2]), kSentences[2]};
  const auto ranked = score_char_lm(o);
  REQUIRE(ranked.size() == 2);
  CHECK(ranked[0].text == kSentences[2]);
}

TEST_CASE("char_lm: a model file round-trips weights, config and vocabulary") {
  LoadedCharLm& lm = trained().lm;
  const fs::path path = fs::temp_directory_path() / ("unroll_test_char_lm_rt_" + std::to_string(::getpid()) + ".safetensors");
  save_char_lm(path.string(), *lm.model, lm.vocab);
  LoadedCharLm back = load_char_lm(path.string());
  CHECK(back.vocab.size() == lm.vocab.size());
  CHECK(back.model->config().to_json() == lm.model->config().to_json());
  const std::string text = "the dog sat in the tree.";
  CHECK(score_text(*back.model, back.vocab, text).log_prob == score_text(*lm.model, lm.vocab, text).log_prob);
  fs::remove(path);
  // eval_char_lm reads the file and scores the test split
  CharLmOptions o = tiny_options();
  o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
  const EvalResult e = eval_char_lm(o);
  CHECK(e.bits_per_char == doctest::Approx(trained().result.test_bpc).epsilon(1e-5));
}

TEST_CASE("char_lm: bad options and files are refused with a clear message") {
  CharLmOptions o = tiny_options();
  o.batch = 0;
  CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("batch must be > 0, got 0"), std::invalid_argument);
  o = tiny_options();
  o.lr = 0;
  CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("lr must be > 0"), std::invalid_argument);
  o = tiny_options();
  o.temperature = -1;
  CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("temperature must be > 0"), std::invalid_argument);
  o = tiny_options();
  o.optimizer = "lbfgs";
  CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("optimizer must be adam or sgd"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(preset_options("huge"), doctest::Contains("unknown preset 'huge'"), std::invalid_argument);
  o = tiny_options();
  o.checkpoint = "/nonexistent/char_lm.safetensors";
  CHECK_THROWS(eval_char_lm(o));
  o = tiny_options();
  o.data_dir = "/nonexistent/fortunes";
  CHECK_THROWS_WITH(train_char_lm(o), doctest::Contains("not found"));
}
