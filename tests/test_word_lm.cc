// tests/test_word_lm.cc — the Brown word LM (models/word_lm/): overfits a tiny stream, <pad>/<bos> get no
// probability, the tiny preset trains end to end on a Brown-format fixture the test writes, model-file round
// trip, bad options by name.
#include "models/word_lm/train.h"

#include "engine/ops.h"
#include "nn/clip.h"
#include "nn/optim.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace unroll;
using namespace unroll::word_lm;

namespace {
// A Brown-format corpus of 10 files (file 8 = dev, file 9 = test), 6 sentences each.
std::filesystem::path write_brown_fixture(const std::string& name = "unroll_test_word_lm_brown") {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directories(dir);
  const char* nouns[] = {"cat", "dog", "man", "house", "city", "car"};
  const char* verbs[] = {"saw", "liked", "found"};
  for (int f = 0; f < 10; ++f) {
    std::ofstream out(dir / fmt::format("ca{:02}", f + 1));
    for (int s = 0; s < 6; ++s)
      out << "\n\tThe/at " << nouns[(f + s) % 6] << "/nn " << verbs[(f * 7 + s) % 3] << "/vbd the/at "
          << nouns[(f + 2 * s + 1) % 6] << "/nn ./.\n";
  }
  return dir;
}
}  // namespace

TEST_CASE("word LM: overfits a tiny repeating stream and never predicts pad or bos") {
  // ids 4.. are words; the stream repeats "4 5 6 7 <eos>".
  std::vector<std::int64_t> stream;
  for (int r = 0; r < 40; ++r)
    for (std::int64_t id : {4, 5, 6, 7, 3}) stream.push_back(id);
  WordLmConfig c;
  c.vocab_size = 12;
  c.embed = 8;
  c.hidden = 16;
  c.layers = 1;
  Rng rng(5);
  WordLm<float> model(c, rng);
  const double before = evaluate_ppl(model, stream, 2, 10).perplexity;
  auto params = model.parameters();
  AdamOptions ao;
  ao.lr = 2e-2;
  Adam<float> opt(params, ao);
  const std::size_t B = 4, T = 10;
  for (int step = 0; step < 60; ++step) {
    LstmState<float> state = model.zero_state(B);
    std::vector<std::int64_t> x(B * T), y(B * T);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < T; ++t) {
        x[b * T + t] = stream[b * 37 + t];
        y[t * B + b] = stream[b * 37 + t + 1];
      }
    model.zero_grad();
    Var<float> loss = cross_entropy(model.forward(x, B, T, state), y);
    loss.backward();
    clip_grad_norm_(params, 5.0);
    opt.step();
  }
  const double after = evaluate_ppl(model, stream, 2, 10).perplexity;
  CHECK(before > 5.0);
  CHECK(after < 1.3);
  // The masked outputs stay masked through training.
  NoGradGuard no_grad;
  LstmState<float> st = model.zero_state(1);
  const Mat<float> p = softmax(model.step({4}, st)).value();
  CHECK(p(0, std::size_t(data::Vocab::pad)) == 0.0f);
  CHECK(p(0, std::size_t(data::Vocab::bos)) == 0.0f);
  CHECK(p(0, 5) > 0.9f);
}

TEST_CASE("word LM: the tiny preset trains on a Brown fixture and its model file round-trips") {
  const auto dir = write_brown_fixture();
  WordLmOptions o = preset_options("tiny");
  o.data_dir = dir.string();
  o.quiet = true;
  o.epochs = 3;
  o.checkpoint = (dir / "model.safetensors").string();
  const TrainResult r = train_word_lm(o);
  CHECK(r.train_tokens == 8 * 6 * 7);
  CHECK(r.test_tokens == 6 * 7);
  CHECK(r.curve.size() == 3);
  CHECK(std::isfinite(r.test_ppl));
  CHECK(r.test_ppl > 1.0);
  CHECK(r.test_ppl < 20.0);  // vocabulary of 15 words + <unk> + <eos>: well under uniform
  CHECK(r.best_dev_ppl <= r.curve.front().dev_ppl);
  const EvalResult e = eval_word_lm(o);
  CHECK(e.tokens == r.test_tokens);
  CHECK(e.perplexity == doctest::Approx(r.test_ppl).epsilon(1e-4));
  LoadedWordLm m = load_word_lm(o.checkpoint);
  CHECK(m.vocab.token(data::Vocab::eos) == "<eos>");
  CHECK(m.vocab.contains("the"));

  // --init-from: a new run starts from those weights (its first dev evaluation is no worse than the file's best),
  // and a file of another shape is refused naming both sides
  WordLmOptions f = o;
  f.init_from = o.checkpoint;
  f.checkpoint = (dir / "finetuned.safetensors").string();
  f.epochs = 1;
  f.lr = 1e-4;
  const TrainResult fr = train_word_lm(f);
  CHECK(fr.curve.front().dev_ppl < r.curve.front().dev_ppl);
  CHECK(fr.curve.front().dev_ppl == doctest::Approx(r.best_dev_ppl).epsilon(0.05));
  f.hidden = o.hidden + 1;
  CHECK_THROWS_WITH_AS(train_word_lm(f), doctest::Contains("--init-from"), ShapeError);
  f = o;
  f.init_from = o.checkpoint;
  f.resume = true;
  CHECK_THROWS_WITH_AS(train_word_lm(f), doctest::Contains("resume and init_from"), std::invalid_argument);

  // --dropout: the file records it (between layers and on the embeddings/decoder input), evaluation runs without it
  WordLmOptions d = o;
  d.dropout = 0.3;
  d.checkpoint = (dir / "dropout.safetensors").string();
  const TrainResult dr = train_word_lm(d);
  CHECK(std::isfinite(dr.test_ppl));
  CHECK(dr.test_ppl < 20.0);
  LoadedWordLm dm = load_word_lm(d.checkpoint);
  CHECK(dm.model->config().dropout == 0.3);
  CHECK(dm.model->config().io_dropout == 0.3);
  CHECK(eval_word_lm(d).perplexity == doctest::Approx(dr.test_ppl).epsilon(1e-4));
  std::filesystem::remove_all(dir);
  CHECK_THROWS(load_word_lm(o.checkpoint));
}

TEST_CASE("word LM: learning curve files, lr decay on plateau and resume from the training state") {
  const auto dir = write_brown_fixture("unroll_test_word_lm_resume");
  WordLmOptions o = preset_options("tiny");
  o.data_dir = dir.string();
  o.quiet = true;
  o.epochs = 2;
  o.eval_every = 5;
  o.lr = 0.05;  // large: dev gets worse at some evaluations, so the decay fires
  o.plateau_decay = 0.5;
  o.checkpoint = (dir / "run" / "wlm.safetensors").string();
  const TrainResult a = train_word_lm(o);
  REQUIRE(a.curve.size() >= 4);
  // lr halves exactly at the evaluations that do not beat the best dev perplexity so far
  double best = a.curve[0].dev_ppl, lr = o.lr;
  CHECK(a.curve[0].lr == doctest::Approx(o.lr));
  bool decayed = false;
  for (std::size_t i = 1; i < a.curve.size(); ++i) {
    const bool improved = a.curve[i].dev_ppl < best;
    if (improved) best = a.curve[i].dev_ppl;
    else lr *= 0.5, decayed = true;
    CHECK(a.curve[i].lr == doctest::Approx(lr));
  }
  CHECK(decayed);
  CHECK(a.best_dev_ppl == doctest::Approx(best));
  // the curve next to the model file: a header and one line per evaluation, and the plot
  const auto lines = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) ++n;
    return n;
  };
  CHECK(lines(dir / "run" / "wlm.curve.csv") == a.curve.size() + 1);
  std::ifstream csv(dir / "run" / "wlm.curve.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "step,epoch,train_ppl,dev_ppl,lr,seconds");
  CHECK(std::filesystem::file_size(dir / "run" / "wlm.curve.svg") > 100);
  REQUIRE(std::filesystem::exists(dir / "run" / "wlm.train.safetensors"));
  // resume: one more epoch continues at the saved step, appends to the curve, keeps the decayed lr
  o.epochs = 3;
  o.resume = true;
  const TrainResult b = train_word_lm(o);
  const std::uint64_t per_epoch = a.steps / 2;
  CHECK(b.steps == 3 * per_epoch);
  REQUIRE(!b.curve.empty());
  CHECK(b.curve.front().step > a.steps);
  CHECK(b.curve.back().epoch == doctest::Approx(3.0));
  CHECK(b.curve.front().lr <= a.curve.back().lr);
  CHECK(lines(dir / "run" / "wlm.curve.csv") == a.curve.size() + b.curve.size() + 1);
  CHECK(b.best_dev_ppl <= a.best_dev_ppl);
  // the default keeps the lr: plateau_decay = 1
  o = preset_options("tiny");
  CHECK(o.plateau_decay == 1.0);
  o.data_dir = dir.string();
  o.quiet = true;
  o.eval_every = 5;
  o.lr = 0.05;
  for (const CurvePoint& p : train_word_lm(o).curve) CHECK(p.lr == doctest::Approx(0.05));
  // --resume without a training state names the file
  o.checkpoint = (dir / "none" / "x.safetensors").string();
  o.resume = true;
  CHECK_THROWS_WITH(train_word_lm(o), doctest::Contains("x.train.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("word LM: bad options are refused by name") {
  const auto message = [](WordLmOptions o) {
    try {
      validate(o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  WordLmOptions o = preset_options("tiny");
  CHECK(message(o).empty());
  o.seq_len = 0;
  CHECK(message(o).find("seq_len") != std::string::npos);
  o = preset_options("tiny");
  o.batch = -1;
  CHECK(message(o).find("batch") != std::string::npos);
  o = preset_options("tiny");
  o.lr = 0;
  CHECK(message(o).find("lr") != std::string::npos);
  o = preset_options("tiny");
  o.eval_batch = 0;
  CHECK(message(o).find("eval_batch") != std::string::npos);
  CHECK_THROWS_WITH_AS(preset_options("gigantic"), doctest::Contains("gigantic"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(common::LstmLmConfig::from_json(R"({"arch":"char_lstm"})", common::LstmLmArch::words, "m.st"),
                       doctest::Contains("m.st: word LM config: expected {\"arch\":\"word_lstm\""),
                       std::invalid_argument);
  o = preset_options("tiny");
  o.plateau_decay = 0;
  CHECK(message(o).find("plateau_decay") != std::string::npos);
  o = preset_options("tiny");
  o.dropout = 1.0;
  CHECK(message(o).find("dropout must be in [0, 1), got 1") != std::string::npos);
  o.dropout = -0.1;
  CHECK(message(o).find("dropout") != std::string::npos);
}

TEST_CASE("word LM: the full preset is the model card's measured run") {
  const WordLmOptions o = preset_options("full");
  CHECK_NOTHROW(validate(o));
  CHECK(o.embed == 128);
  CHECK(o.hidden == 512);
  CHECK(o.layers == 2);
  CHECK(o.batch == 32);
  CHECK(o.seq_len == 35);
  CHECK(o.lr == 2e-3);
  CHECK(o.clip == 5.0);
  CHECK(o.dropout == 0.4);
  CHECK(o.plateau_decay == 0.5);
  CHECK(o.eval_every == 435);
  CHECK(o.epochs == 14);
  CHECK(o.time_limit == 0);
}
