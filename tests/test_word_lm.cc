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
std::filesystem::path write_brown_fixture() {
  const auto dir = std::filesystem::temp_directory_path() / "unroll_test_word_lm_brown";
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
  std::filesystem::remove_all(dir);
  CHECK_THROWS(load_word_lm(o.checkpoint));
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
  CHECK_THROWS_AS(WordLmConfig::from_json("{\"arch\":\"char_lstm\"}"), std::invalid_argument);
}
