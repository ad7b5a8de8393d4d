// tests/test_tagger.cc — the Brown tagger (models/tagger/) on a tiny Brown-format corpus the test writes itself
// (ten files ca01..ca10, so the i % 10 split gives 8 train, 1 dev, 1 test file): it overfits both heads, a fixed
// seed reproduces training and predictions, a sentence's tags do not depend on the batch it is padded into, model
// files round-trip, bad options are refused by name.
#include "models/tagger/train.h"

#include "engine/ops.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace unroll;
using namespace unroll::tagger;

namespace {

const std::vector<std::string> kNames = {"John", "Mary", "Paris", "Smith", "London", "Kennedy"};
const std::vector<std::string> kNouns = {"dog", "cat", "house", "park", "car", "book"};
const std::vector<std::string> kVerbs = {"saw", "liked", "found", "sold"};
const std::vector<std::string> kAdjs = {"old", "big", "red", "small"};

// Six sentences per file, from templates with rotating fillers (words in Brown's word/TAG form).
std::string brown_file(int f) {
  const auto pick = [&](const std::vector<std::string>& v, int k) { return v[std::size_t(f + k) % v.size()]; };
  std::string s;
  s += "\tThe/at " + pick(kNouns, 0) + "/nn " + pick(kVerbs, 0) + "/vbd " + pick(kNames, 0) + "/np ./.\n\n";
  s += "\t" + pick(kNames, 1) + "/np " + pick(kVerbs, 1) + "/vbd the/at " + pick(kAdjs, 0) + "/jj " + pick(kNouns, 1) +
       "/nn ./.\n\n";
  s += "\tNew/jj-tl York/np-tl is/bez " + pick(kAdjs, 1) + "/jj ./.\n\n";
  s += "\tHe/pps went/vbd to/in " + pick(kNames, 2) + "/np-tl with/in " + pick(kNames, 3) + "/np " + pick(kNames, 4) +
       "/np ./.\n\n";
  s += "\tA/at " + pick(kNouns, 2) + "/nn ran/vbd ./.\n\n";
  s += "\tThey/ppss " + pick(kVerbs, 2) + "/vbd " + pick(kNames, 5) + "/np$ " + pick(kNouns, 3) + "/nns in/in the/at " +
       pick(kNouns, 4) + "/nn ./.\n";
  return s;
}

fs::path write_corpus() {
  const fs::path dir = fs::temp_directory_path() / ("unroll_test_tagger_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (int f = 1; f <= 10; ++f) std::ofstream(dir / fmt::format("ca{:02}", f)) << brown_file(f);
  std::ofstream(dir / "README") << "not a corpus file\n";
  return dir;
}

TaggerOptions tiny_options() {
  static const fs::path dir = write_corpus();
  TaggerOptions o = preset_options("tiny");
  o.data_dir = dir.string();
  o.quiet = true;
  o.epochs = 20;
  return o;
}

struct Trained {
  TrainResult result;
  LoadedTagger tagger;
  std::string path;
};
Trained& trained() {
  static Trained t = [] {
    TaggerOptions o = tiny_options();
    o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
    Trained r;
    r.result = train_tagger(o);
    r.tagger = load_tagger(o.checkpoint);
    r.path = o.checkpoint;
    return r;
  }();
  return t;
}

}  // namespace

TEST_CASE("tagger: overfits both heads on a tiny Brown corpus") {
  Trained& t = trained();
  const TrainResult& r = t.result;
  REQUIRE(!r.curve.empty());
  CHECK(r.train_tokens == 8 * 36);
  CHECK(r.curve.front().train_loss > 2 * r.curve.back().train_loss);
  const data::BrownCorpus corpus = data::load_brown(tiny_options().data_dir);
  const TagScores tr = evaluate(*t.tagger.model, t.tagger.words, t.tagger.chars, t.tagger.tags, corpus.train);
  CHECK(tr.pos_acc >= 0.97);
  CHECK(tr.ner_f1 >= 0.95);
  CHECK(r.test.tokens == 36);
  CHECK(r.test.pos_acc >= 0.85);  // test = ca10, the same templates with other fillers
  CHECK(r.test.ner_f1 >= 0.8);
  CHECK(fs::exists(fs::path(r.checkpoint).replace_extension(".curve.csv")));
  CHECK(fs::exists(fs::path(r.checkpoint).replace_extension(".curve.svg")));
}

TEST_CASE("tagger: a fixed seed reproduces training and predictions") {
  TaggerOptions o = tiny_options();
  o.epochs = 2;
  o.dropout = 0.3;      // dropout masks and <unk> replacement come from the seeded rng too
  o.unk_replace = 0.5;
  o.checkpoint = (fs::path(o.data_dir) / "a.safetensors").string();
  const TrainResult a = train_tagger(o);
  o.checkpoint = (fs::path(o.data_dir) / "b.safetensors").string();
  const TrainResult b = train_tagger(o);
  REQUIRE(a.curve.size() == b.curve.size());
  for (std::size_t i = 0; i < a.curve.size(); ++i) {
    CHECK(a.curve[i].train_loss == b.curve[i].train_loss);
    CHECK(a.curve[i].dev_loss == b.curve[i].dev_loss);
  }
  CHECK(a.test.pos_acc == b.test.pos_acc);
  o.texts = {"The dog saw Mary .", "Kennedy liked the red car ."};
  const auto pa = predict_tagger(o);
  o.checkpoint = (fs::path(o.data_dir) / "a.safetensors").string();
  const auto pb = predict_tagger(o);
  REQUIRE(pa.size() == 2);
  CHECK(pa[0].tags == pb[0].tags);
  CHECK(pa[1].tags == pb[1].tags);
  // The overfit model tags these right, names included.
  Trained& t = trained();
  const auto tt = tag_sentences(*t.tagger.model, t.tagger.words, t.tagger.chars, t.tagger.tags,
                                {{"The", "dog", "saw", "Mary", "."}});
  CHECK(tt[0].tags == std::vector<std::string>{"at", "nn", "vbd", "np", "."});
  CHECK(tt[0].names == std::vector<int>{0, 0, 0, 1, 0});
}

TEST_CASE("tagger: a sentence's logits do not depend on the batch it is padded into") {
  TaggerConfig c;
  c.word_vocab = 12;
  c.char_vocab = 10;
  c.num_tags = 5;
  c.word_embed = 4;
  c.char_embed = 3;
  c.char_hidden = 2;
  c.hidden = 3;
  Rng rng(5);
  TaggerModel<double> m(c, rng);
  m.eval();
  TaggerInput alone;
  alone.B = 1, alone.T = 2;
  alone.word_ids = {5, 6};
  alone.lengths = {2};
  alone.words = {{4, 5, 6}, {7}};
  alone.token_word = {0, 1};
  TaggerInput batch;  // the same sentence as row 1, padded to 4 steps; its words listed after row 0's
  batch.B = 2, batch.T = 4;
  batch.word_ids = {7, 8, 9, 10, /**/ 5, 6, 0, 0};
  batch.lengths = {4, 2};
  batch.words = {{8, 9}, {4}, {5, 5, 5, 6}, {9}, {4, 5, 6}, {7}};
  batch.token_word = {0, 1, 2, 3, /**/ 4, 5, 0, 0};
  const auto [pa, na] = m.forward(alone);
  const auto [pb, nb] = m.forward(batch);
  for (std::size_t t = 0; t < 2; ++t) {  // row t·B + b
    for (std::size_t j = 0; j < 5; ++j) CHECK(pb.value()(t * 2 + 1, j) == doctest::Approx(pa.value()(t, j)).epsilon(1e-12));
    for (std::size_t j = 0; j < 2; ++j) CHECK(nb.value()(t * 2 + 1, j) == doctest::Approx(na.value()(t, j)).epsilon(1e-12));
  }
  batch.token_word[3] = 6;  // out of range
  CHECK_THROWS_WITH_AS(m.forward(batch), doctest::Contains("points at word 6 of 6"), std::exception);
}

TEST_CASE("tagger: model files round-trip") {
  Trained& t = trained();
  LoadedTagger again = load_tagger(t.path);
  CHECK(again.words.size() == t.tagger.words.size());
  CHECK(again.chars.size() == t.tagger.chars.size());
  CHECK(again.tags.size() == t.tagger.tags.size());
  TaggerOptions o = tiny_options();
  o.checkpoint = t.path;
  const TagScores s = eval_tagger(o);
  CHECK(s.tokens == 36);
  CHECK(s.pos_acc == doctest::Approx(t.result.test.pos_acc));
  CHECK(s.ner_f1 == doctest::Approx(t.result.test.ner_f1));
  CHECK_THROWS_WITH_AS(load_tagger((fs::path(o.data_dir) / "missing.safetensors").string()),
                       doctest::Contains("missing.safetensors"), std::exception);
  o.texts = {"The dog ran .", " \t "};  // a sentence without a token is refused before the model file is read
  CHECK_THROWS_WITH_AS(predict_tagger(o), doctest::Contains("sentence 2 of 2 has no token"), std::exception);
  o.texts = {"The dog ran ."};
  o.quiet = true;
  const std::vector<TaggedText> tagged = predict_tagger(o);
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0].words == std::vector<std::string>{"The", "dog", "ran", "."});
  CHECK(tagged[0].tags.size() == 4);
  CHECK(tagged[0].names.size() == 4);
}

TEST_CASE("tagger: bad options are refused with the field's name") {
  const auto bad = [](auto edit, const char* field) {
    TaggerOptions o = tiny_options();
    edit(o);
    CHECK_THROWS_WITH_AS(validate(o), doctest::Contains(field), std::invalid_argument);
    CHECK_THROWS_AS(train_tagger(o), std::invalid_argument);
  };
  bad([](TaggerOptions& o) { o.batch = 0; }, "batch");
  bad([](TaggerOptions& o) { o.lr = 0; }, "lr");
  bad([](TaggerOptions& o) { o.epochs = -1; }, "epochs");
  bad([](TaggerOptions& o) { o.hidden = 0; }, "hidden");
  bad([](TaggerOptions& o) { o.char_hidden = 0; }, "char_hidden");
  bad([](TaggerOptions& o) { o.dropout = 1.5; }, "dropout");
  bad([](TaggerOptions& o) { o.unk_replace = -0.1; }, "unk_replace");
  bad([](TaggerOptions& o) { o.max_word_chars = 1; }, "max_word_chars");
  bad([](TaggerOptions& o) { o.lr_decay = 0; }, "lr_decay");
  bad([](TaggerOptions& o) { o.threads = 0; }, "threads");
  CHECK_THROWS_WITH_AS(preset_options("large"), doctest::Contains("large"), std::invalid_argument);
  TaggerOptions o = tiny_options();
  CHECK_THROWS_WITH_AS(predict_tagger(o), doctest::Contains("no sentence"), std::exception);
  o.data_dir = "/nonexistent/unroll";
  CHECK_THROWS(train_tagger(o));
}
