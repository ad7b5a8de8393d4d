// tests/test_sentiment.cc — the sentiment classifier (models/sentiment/) on a tiny corpus the test writes itself
// (amazon/imdb/yelp.json with separable sentences): it overfits, a fixed seed reproduces training and predictions,
// batching/padding does not change a sentence's logit, model files round-trip, bad options are refused by name.
#include "models/sentiment/train.h"

#include "engine/ops.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace unroll;
using namespace unroll::sentiment;

namespace {

const std::vector<std::string> kGood = {"great", "love", "excellent", "wonderful", "good", "perfect"};
const std::vector<std::string> kBad = {"awful", "hate", "terrible", "broken", "bad", "worst"};
const std::vector<std::string> kFill = {"the", "phone", "movie", "food", "it", "was", "this", "really", "very", "and"};

// Three files of 20 items each; item k (counted over all files) is positive when k % 4 < 2, so train, dev
// (k % 10 == 8) and test (k % 10 == 9) all hold both classes; each sentence has 2-6 filler words
// and one or two sentiment words, so the label is learnable and dev/test use the same words as train.
fs::path write_corpus() {
  const fs::path dir = fs::temp_directory_path() / ("unroll_test_sentiment_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int k = 0;
  for (const char* source : {"amazon", "imdb", "yelp"}) {
    nlohmann::json arr = nlohmann::json::array();
    for (int i = 0; i < 20; ++i, ++k) {
      const bool pos = k % 4 < 2;
      const auto& sw = pos ? kGood : kBad;
      std::string text;
      const int n = 2 + k % 5;
      for (int j = 0; j < n; ++j) {
        if (j == (k % n)) text += sw[std::size_t(k + j) % sw.size()] + " ";
        text += kFill[std::size_t(k * 3 + j) % kFill.size()] + " ";
      }
      if (k % 3 == 0) text += sw[std::size_t(k) % sw.size()] + "!";
      arr.push_back({{"text", text}, {"class", pos ? 1 : 0}});
    }
    std::ofstream(dir / (std::string(source) + ".json")) << arr.dump();
  }
  return dir;
}

SentimentOptions tiny_options() {
  static const fs::path dir = write_corpus();
  SentimentOptions o = preset_options("tiny");
  o.data_dir = dir.string();
  o.quiet = true;
  o.epochs = 15;
  return o;
}

struct Trained {
  TrainResult result;
  LoadedSentiment model;
  std::string path;
};
Trained& trained() {
  static Trained t = [] {
    SentimentOptions o = tiny_options();
    o.checkpoint = (fs::path(o.data_dir) / "model.safetensors").string();
    Trained r;
    r.result = train_sentiment(o);
    r.model = load_sentiment_model(o.checkpoint);
    r.path = o.checkpoint;
    return r;
  }();
  return t;
}

}  // namespace

TEST_CASE("sentiment: overfits a tiny corpus") {
  const TrainResult& r = trained().result;
  REQUIRE(r.seeds.size() == 1);
  REQUIRE(!r.curve.empty());
  CHECK(r.train_items == 48);
  CHECK(r.test_items == 6);
  CHECK(r.curve.front().train_loss > r.curve.back().train_loss);
  CHECK(r.curve.back().train_acc >= 0.95);
  CHECK(r.curve.back().train_loss < 0.15);
  CHECK(r.mean_test_acc >= 0.8);  // dev/test sentences use the train words
  CHECK(fs::exists(fs::path(r.checkpoint).replace_extension(".curve.csv")));
  CHECK(fs::exists(fs::path(r.checkpoint).replace_extension(".curve.svg")));
  CHECK(fs::exists(fs::path(r.checkpoint).replace_extension(".scores.svg")));
  std::ifstream svg(fs::path(r.checkpoint).replace_extension(".curve.svg"));
  const std::string plot((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  CHECK(plot.find("dev loss, seed 1") != std::string::npos);  // the loss curve; accuracy is in .scores.svg
}

TEST_CASE("sentiment: a fixed seed reproduces training and predictions") {
  SentimentOptions o = tiny_options();
  o.epochs = 3;
  o.dropout = 0.5;  // dropout masks come from the seeded rng too
  o.embed_dropout = 0.2;
  o.word_dropout = 0.1;
  o.pooling = "mean";
  o.checkpoint = (fs::path(o.data_dir) / "a.safetensors").string();
  const TrainResult a = train_sentiment(o);
  o.checkpoint = (fs::path(o.data_dir) / "b.safetensors").string();
  const TrainResult b = train_sentiment(o);
  REQUIRE(a.curve.size() == b.curve.size());
  for (std::size_t i = 0; i < a.curve.size(); ++i) {
    CHECK(a.curve[i].train_loss == b.curve[i].train_loss);
    CHECK(a.curve[i].dev_loss == b.curve[i].dev_loss);
  }
  o.texts = {"great phone and really good", "the worst food, terrible"};
  const auto pa = predict_sentiment(o);
  o.checkpoint = (fs::path(o.data_dir) / "a.safetensors").string();
  const auto pb = predict_sentiment(o);
  REQUIRE(pa.size() == 2);
  CHECK(pa[0].p_positive == pb[0].p_positive);
  CHECK(pa[1].p_positive == pb[1].p_positive);
  // The trained model (max pooling) gets both right.
  Trained& t = trained();
  const auto p = predict_probs(*t.model.model, {encode_sentence(t.model.vocab, o.texts[0]),
                                                encode_sentence(t.model.vocab, o.texts[1])});
  CHECK(p[0] > 0.5);
  CHECK(p[1] < 0.5);
}

TEST_CASE("sentiment: a sentence's logit does not depend on the batch it is padded into") {
  for (const char* pooling : {"max", "mean", "last"}) {
    SentimentConfig c;
    c.vocab_size = 20;
    c.embed = 5;
    c.hidden = 4;
    c.pooling = pooling;
    Rng rng(7);
    SentimentModel<double> m(c, rng);
    m.eval();
    const std::vector<std::int64_t> s = {5, 6, 7};
    const Var<double> alone = m.forward(s, {3}, 3);
    // The same sentence as row 1 of a batch padded to 6 steps.
    const std::vector<std::int64_t> batch = {4, 5, 6, 7, 8, 9, /**/ 5, 6, 7, 0, 0, 0};
    const Var<double> both = m.forward(batch, {6, 3}, 6);
    CHECK(both.value()(1, 0) == doctest::Approx(alone.value()(0, 0)).epsilon(1e-12));
  }
}

TEST_CASE("sentiment: max pooling passes the gradient to the arg-max steps only") {
  SentimentConfig c;
  c.vocab_size = 10;
  c.embed = 3;
  c.hidden = 2;
  c.bidirectional = false;
  c.dropout = c.embed_dropout = 0;
  Rng rng(3);
  SentimentModel<double> m(c, rng);
  m.train();
  const Var<double> logit = m.forward({4, 5, 6, 0}, {3}, 4);
  sum(logit).backward();
  // The padding id never gets a gradient (padding_idx 0, padded step masked).
  const auto params = m.parameters();
  const Mat<double>& g = params[0].var.grad();
  for (std::size_t j = 0; j < 3; ++j) CHECK(g(0, j) == 0.0);
  double used = 0;
  for (std::size_t r = 4; r <= 6; ++r)
    for (std::size_t j = 0; j < 3; ++j) used += std::abs(g(r, j));
  CHECK(used > 0);
}

TEST_CASE("sentiment: model files round-trip") {
  Trained& t = trained();
  LoadedSentiment again = load_sentiment_model(t.path);
  CHECK(again.vocab.size() == t.model.vocab.size());
  const std::vector<std::vector<std::int64_t>> ids = {encode_sentence(again.vocab, "love it"),
                                                      encode_sentence(again.vocab, "!!!")};
  CHECK(ids[1] == std::vector<std::int64_t>{data::Vocab::unk});  // no token at all -> one <unk>
  CHECK(predict_probs(*again.model, ids) == predict_probs(*t.model.model, ids));
  SentimentOptions o = tiny_options();
  o.checkpoint = t.path;
  const EvalResult e = eval_sentiment(o);
  CHECK(e.items == 6);
  CHECK(e.accuracy == doctest::Approx(t.result.seeds[0].test_acc));
  o.ensemble = {t.path};  // the same model twice: the average is the model
  CHECK(eval_sentiment(o).accuracy == doctest::Approx(e.accuracy));
  CHECK_THROWS_WITH_AS(load_sentiment_model((fs::path(o.data_dir) / "missing.safetensors").string()),
                       doctest::Contains("missing.safetensors"), std::exception);
}

TEST_CASE("sentiment: bad options are refused with the field's name") {
  const auto bad = [](auto edit, const char* field) {
    SentimentOptions o = tiny_options();
    edit(o);
    CHECK_THROWS_WITH_AS(validate(o), doctest::Contains(field), std::invalid_argument);
    CHECK_THROWS_AS(train_sentiment(o), std::invalid_argument);
  };
  bad([](SentimentOptions& o) { o.batch = 0; }, "batch");
  bad([](SentimentOptions& o) { o.lr = 0; }, "lr");
  bad([](SentimentOptions& o) { o.lr = -1; }, "lr");
  bad([](SentimentOptions& o) { o.epochs = 0; }, "epochs");
  bad([](SentimentOptions& o) { o.hidden = 0; }, "hidden");
  bad([](SentimentOptions& o) { o.pooling = "min"; }, "pooling");
  bad([](SentimentOptions& o) { o.dropout = 1.0; }, "dropout");
  bad([](SentimentOptions& o) { o.num_seeds = 0; }, "num_seeds");
  bad([](SentimentOptions& o) { o.threads = 0; }, "threads");
  bad([](SentimentOptions& o) { o.time_limit = -1; }, "time_limit");
  bad([](SentimentOptions& o) { o.log_every = -1; }, "log_every");
  CHECK_THROWS_WITH_AS(preset_options("huge"), doctest::Contains("huge"), std::invalid_argument);
  SentimentOptions o = tiny_options();
  CHECK_THROWS_WITH_AS(predict_sentiment(o), doctest::Contains("no sentence"), std::exception);
  o.data_dir = "/nonexistent/unroll";
  CHECK_THROWS(train_sentiment(o));
}
