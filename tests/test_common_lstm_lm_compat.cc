// tests/test_common_lstm_lm_compat.cc — model files written before the two LMs shared models/common/lstm_lm.h
// still load and compute the same thing. tests/fixtures/lstm_lm_head/ holds a char LM and a word LM (2 layers) and a
// char LM training state written by the `unroll` program at commit 941f992, and expected.json, what that code
// computed from them (logits of fixed inputs, samples, scores, perplexity); the fixture's README says how.
#include "models/char_lm/train.h"
#include "models/word_lm/train.h"

#include "engine/ops.h"
#include "nn/checkpoint.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace unroll;
namespace fs = std::filesystem;

namespace {
const fs::path kDir = fs::path(UNROLL_SOURCE_DIR) / "tests" / "fixtures" / "lstm_lm_head";

const nlohmann::json& expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(kDir / "expected.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

std::string bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// logits [R, V] against the stored row-major list; the engine may change the last bits, not more.
void check_logits(const Mat<float>& got, const nlohmann::json& want) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.shape(0); ++i)
    for (std::size_t j = 0; j < got.shape(1); ++j)
      worst = std::max(worst, std::abs(double(got(i, j)) - want[i * got.shape(1) + j].get<double>()));
  CHECK(worst < 1e-5);
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("lstm_lm compat: a char LM file of the old code loads, gives its logits, samples and scores") {
  const nlohmann::json& e = expected()["char_lm"];
  char_lm::LoadedCharLm lm = char_lm::load_char_lm((kDir / "char_lm.safetensors").string());
  CHECK(lm.model->config().to_json() == e["config"].get<std::string>());
  CHECK(lm.vocab.size() == e["vocab_size"].get<std::size_t>());
  const auto ids = e["ids"].get<std::vector<std::int64_t>>();
  CHECK(lm.vocab.encode("the cat\n%\nsun!") == ids);
  {
    NoGradGuard no_grad;
    auto state = lm.model->zero_state(2);
    check_logits(lm.model->forward(ids, 2, 7, state).value(), e["logits"]);
    check_logits(lm.model->forward(e["next_ids"].get<std::vector<std::int64_t>>(), 2, 1, state).value(),
                 e["next_logits"]);
  }
  char_lm::SampleOptions so;
  so.temperature = 0.9;
  so.max_chars = 60;
  Rng r(3);
  CHECK(char_lm::sample_text(*lm.model, lm.vocab, so, r).text == e["sample_seed3_t0.9"].get<std::string>());
  so.top_k = 4;
  so.prompt = "the ";
  CHECK(char_lm::sample_text(*lm.model, lm.vocab, so, r).text == e["sample_then_topk4_prompt"].get<std::string>());
  CHECK(char_lm::score_text(*lm.model, lm.vocab, "the dog sat.").log_prob ==
        doctest::Approx(e["score_log_prob"].get<double>()).epsilon(1e-6));
  // The `unroll` program's numbers at the old commit (eval charlm on tests/fixtures/fortunes_tiny, score charlm).
  char_lm::CharLmOptions o = char_lm::preset_options("tiny");
  o.quiet = true;
  o.data_dir = (fs::path(UNROLL_SOURCE_DIR) / "tests" / "fixtures" / "fortunes_tiny").string();
  o.checkpoint = (kDir / "char_lm.safetensors").string();
  CHECK(char_lm::eval_char_lm(o).bits_per_char == doctest::Approx(4.4015).epsilon(2e-5));
  CHECK(char_lm::score_text(*lm.model, lm.vocab, "The cat sleeps.").log_prob == doctest::Approx(-45.132).epsilon(2e-5));
  // Saved again, the file is byte for byte the old one: tensor names, shapes, config, vocabulary, metadata.
  const fs::path dir = temp_dir("unroll_test_compat_char_");
  char_lm::save_char_lm((dir / "again.safetensors").string(), *lm.model, lm.vocab);
  CHECK(bytes(dir / "again.safetensors") == bytes(kDir / "char_lm.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("lstm_lm compat: a word LM file of the old code loads with its mask, logits and perplexity") {
  const nlohmann::json& e = expected()["word_lm"];
  word_lm::LoadedWordLm lm = word_lm::load_word_lm((kDir / "word_lm.safetensors").string());
  CHECK(lm.model->config().to_json() == e["config"].get<std::string>());
  CHECK(lm.vocab.size() == e["vocab_size"].get<std::size_t>());
  const auto ids = e["ids"].get<std::vector<std::int64_t>>();
  {
    NoGradGuard no_grad;
    auto state = lm.model->zero_state(3);
    const Var<float> logits = lm.model->forward(ids, 3, 4, state);
    check_logits(logits.value(), e["logits"]);
    const Mat<float> p = softmax(logits).value();
    for (std::size_t r = 0; r < p.shape(0); ++r) {
      CHECK(p(r, std::size_t(data::Vocab::pad)) == 0.f);
      CHECK(p(r, std::size_t(data::Vocab::bos)) == 0.f);
    }
  }
  CHECK(word_lm::evaluate_ppl(*lm.model, ids, 2, 3).perplexity ==
        doctest::Approx(e["ppl_B2_T3"].get<double>()).epsilon(1e-6));
  const fs::path dir = temp_dir("unroll_test_compat_word_");
  word_lm::save_word_lm((dir / "again.safetensors").string(), *lm.model, lm.vocab);
  CHECK(bytes(dir / "again.safetensors") == bytes(kDir / "word_lm.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("lstm_lm compat: a char LM run of the old code resumes from its training state") {
  const fs::path dir = temp_dir("unroll_test_compat_resume_");
  fs::copy_file(kDir / "char_lm.safetensors", dir / "char_lm.safetensors");
  fs::copy_file(kDir / "char_lm.train.safetensors", dir / "char_lm.train.safetensors");
  // The run that wrote it: --preset tiny --embed 8 --hidden 16 --layers 2 --epochs 3 --seed 5.
  char_lm::CharLmOptions o = char_lm::preset_options("tiny");
  o.quiet = true;
  o.num_samples = 0;
  o.embed = 8;
  o.hidden = 16;
  o.layers = 2;
  o.seed = 5;
  o.epochs = 4;
  o.resume = true;
  o.data_dir = (fs::path(UNROLL_SOURCE_DIR) / "tests" / "fixtures" / "fortunes_tiny").string();
  o.checkpoint = (dir / "char_lm.safetensors").string();
  const char_lm::TrainResult r = char_lm::train_char_lm(o);
  REQUIRE(r.curve.size() == 1);  // the fourth epoch only
  CHECK(r.curve[0].epoch == doctest::Approx(4.0));
  CHECK(r.steps == r.curve[0].step);
  CHECK(r.steps % 4 == 0);       // 4 epochs of the same number of steps
  CHECK(std::isfinite(r.test_bpc));
  char_lm::load_char_lm(o.checkpoint);  // still a model file the loader takes
  fs::remove_all(dir);
}
