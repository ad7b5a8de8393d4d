// tests/test_common_lstm_lm.cc — models/common/lstm_lm.h (the LSTM LM both LMs share: float64 gradient check,
// config JSON, the word arch's output mask), lstm_lm_stream.h (stream scoring and the truncated-BPTT step),
// model_vocab.h (a vocabulary as a model file's list) and train_state.h (what --resume reads).
#include "models/common/lstm_lm.h"
#include "models/common/lstm_lm_stream.h"
#include "models/common/model_vocab.h"
#include "models/common/train_state.h"

#include "engine/gradcheck.h"
#include "engine/ops.h"
#include "models/data/vocab.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

using namespace unroll;
using namespace unroll::common;

namespace {
LstmLmConfig small_config(LstmLmArch arch, int layers) {
  LstmLmConfig c;
  c.arch = arch;
  c.vocab_size = 7;
  c.embed = 3;
  c.hidden = 4;
  c.layers = layers;
  return c;
}
}  // namespace

TEST_CASE("lstm_lm: float64 gradient check over every parameter, batch 1 and 2, length 1 and 3, 1 and 2 layers") {
  for (LstmLmArch arch : {LstmLmArch::chars, LstmLmArch::words})
    for (int layers : {1, 2})
      for (auto [B, T] : {std::pair<std::size_t, std::size_t>{1, 1}, {1, 3}, {2, 3}}) {
        Rng rng(17);
        LstmLm<double> model(small_config(arch, layers), rng);
        std::vector<std::int64_t> x(B * T);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::int64_t(4 + (i * 5 + 1) % 3);  // ids used twice
        std::vector<std::pair<std::string, Var<double>>> inputs;
        for (auto& p : model.parameters()) inputs.emplace_back(p.name, p.var);
        const GradCheckResult r = gradcheck(
            [&] {
              LstmState<double> s = model.zero_state(B);
              const Var<double> logits = model.forward(x, B, T, s);
              // The word arch's masked logits sit at -1e4: projecting them would only add rounding noise of
              // ~1e-5 to the central differences, so its check reads the outputs from <eos> on.
              return arch == LstmLmArch::words ? cols(logits, std::size_t(data::Vocab::eos), 7) : logits;
            },
            inputs);
        INFO(std::string(arch_name(arch)) << " layers " << layers << " B " << B << " T " << T);
        CHECK_MESSAGE(r.ok, r.report);
      }
}

TEST_CASE("lstm_lm: config JSON keys, names and arch are the model files' format") {
  LstmLmConfig c = small_config(LstmLmArch::words, 2);
  CHECK(c.to_json() ==
        R"({"arch":"word_lstm","dropout":0.0,"embed":3,"forget_bias":1.0,"hidden":4,"layers":2,"vocab_size":7})");
  const LstmLmConfig back = LstmLmConfig::from_json(c.to_json(), LstmLmArch::words);
  CHECK(back.to_json() == c.to_json());
  CHECK(back.describe() == "WordLM(V=7, E=3, LSTM 2x4)");
  CHECK(small_config(LstmLmArch::chars, 1).describe() == "CharLM(V=7, E=3, LSTM 1x4)");
  // files from before forget_bias and dropout were written: PyTorch's plain init, no dropout
  const LstmLmConfig old = LstmLmConfig::from_json(
      R"({"arch":"char_lstm","vocab_size":9,"embed":2,"hidden":3,"layers":1})", LstmLmArch::chars);
  CHECK(old.forget_bias == 0.0);
  CHECK(old.dropout == 0.0);
  CHECK_THROWS_WITH_AS(LstmLmConfig::from_json(c.to_json(), LstmLmArch::chars, "w.safetensors"),
                       doctest::Contains("w.safetensors: char LM config: expected {\"arch\":\"char_lstm\""),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      LstmLmConfig::from_json(R"({"arch":"char_lstm","vocab_size":9,"embed":2,"hidden":3,"layers":0})",
                              LstmLmArch::chars),
      doctest::Contains("\"layers\" must be a positive integer, got 0"), std::invalid_argument);
  Rng rng(1);
  LstmLm<float> model(c, rng);
  std::vector<std::string> names;
  for (const auto& p : model.parameters()) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0",
                                          "lstm.bias_ih_l0", "lstm.bias_hh_l0", "lstm.weight_ih_l1",
                                          "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                                          "decoder.weight", "decoder.bias"});
  c.embed = 0;
  CHECK_THROWS_WITH(LstmLm<float>(c, rng), doctest::Contains("WordLM: config needs positive sizes"));
}

TEST_CASE("lstm_lm: io_dropout on the embeddings and the decoder input: training only, in the JSON only when set") {
  LstmLmConfig c = small_config(LstmLmArch::words, 2);
  c.dropout = 0.5;
  c.io_dropout = 0.5;
  CHECK(c.to_json() == R"({"arch":"word_lstm","dropout":0.5,"embed":3,"forget_bias":1.0,"hidden":4,"io_dropout":0.5,)"
                       R"("layers":2,"vocab_size":7})");
  CHECK(LstmLmConfig::from_json(c.to_json(), LstmLmArch::words).io_dropout == 0.5);
  c.io_dropout = 1.0;
  Rng bad(1);
  CHECK_THROWS_WITH(LstmLm<float>(c, bad), doctest::Contains("io_dropout must be in [0, 1), got 1"));
  c.io_dropout = 0.5;
  // a model without io_dropout draws exactly the weights it drew before the field existed
  LstmLmConfig plain = small_config(LstmLmArch::words, 2);
  Rng r1(5), r2(5);
  LstmLm<double> a(plain, r1);
  LstmLmConfig with_drop = plain;
  with_drop.io_dropout = 0.3;
  LstmLm<double> b(with_drop, r2);
  for (std::size_t k = 0; k < a.parameters().size(); ++k)
    CHECK(a.parameters()[k].var.value() == b.parameters()[k].var.value());
  // training: two forwards differ (fresh masks), the same rng seed repeats them; eval: deterministic, no dropout
  Rng rng(3);
  LstmLm<double> m(c, rng);
  const std::vector<std::int64_t> x{4, 5, 6, 4, 5, 6};
  auto logits = [&](Rng* masks) {
    LstmState<double> s = m.zero_state(2);
    return Mat<double>(m.forward(x, 2, 3, s, masks).value());
  };
  m.train();
  Rng m1(9), m2(9);
  const Mat<double> t1 = logits(&m1), t2 = logits(&m2), t3 = logits(&m1);
  CHECK(t1 == t2);
  CHECK_FALSE(t1 == t3);
  m.eval();
  const Mat<double> e1 = logits(&m1), e2 = logits(nullptr);
  CHECK(e1 == e2);
  CHECK_FALSE(e1 == t1);
  // float64 gradient check through the dropout masks (the same masks at every evaluation: a fixed seed)
  m.train();
  std::vector<std::pair<std::string, Var<double>>> inputs;
  for (auto& p : m.parameters()) inputs.emplace_back(p.name, p.var);
  const GradCheckResult r = gradcheck(
      [&] {
        Rng masks(11);
        LstmState<double> s = m.zero_state(2);
        return cols(m.forward(x, 2, 3, s, &masks), std::size_t(data::Vocab::eos), 7);
      },
      inputs);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("lstm_lm: the word arch gives <pad> and <bos> probability 0, the char arch does not mask") {
  Rng rng(2);
  LstmLm<float> words(small_config(LstmLmArch::words, 1), rng), chars(small_config(LstmLmArch::chars, 1), rng);
  NoGradGuard no_grad;
  LstmState<float> sw = words.zero_state(1), sc = chars.zero_state(1);
  const Mat<float> pw = softmax(words.step({5}, sw)).value(), pc = softmax(chars.step({5}, sc)).value();
  CHECK(pw(0, std::size_t(data::Vocab::pad)) == 0.f);
  CHECK(pw(0, std::size_t(data::Vocab::bos)) == 0.f);
  CHECK(pw(0, std::size_t(data::Vocab::unk)) > 0.f);
  CHECK(pc(0, std::size_t(data::Vocab::pad)) > 0.f);
  // re-applied after weights come from elsewhere
  for (auto& p : words.parameters())
    if (p.name == "decoder.bias") p.var.value().fill(0.f);
  words.mask_unused_outputs();
  LstmState<float> s2 = words.zero_state(1);
  CHECK(softmax(words.step({5}, s2)).value()(0, std::size_t(data::Vocab::bos)) == 0.f);
}

TEST_CASE("lstm_lm_stream: scoring is independent of B, T and warm-up where it must be, and B = 1 is exact") {
  Rng rng(3);
  LstmLm<float> model(small_config(LstmLmArch::chars, 2), rng);
  std::vector<std::int64_t> ids{3};
  for (int i = 0; i < 29; ++i) ids.push_back(4 + (i * 7 + i / 3) % 3);
  // B = 1: the stream as one sequence, whatever T
  const StreamNats a = lm_stream_nats(model, ids, 1, 1, 4), b = lm_stream_nats(model, ids, 1, 1, 100);
  CHECK(a.tokens == 29);
  CHECK(a.nats == doctest::Approx(b.nats).epsilon(1e-5));
  // = the sum of -ln softmax over one forward pass
  NoGradGuard no_grad;
  LstmState<float> s = model.zero_state(1);
  const Mat<float> lp = log_softmax(model.forward({ids.begin(), ids.end() - 1}, 1, ids.size() - 1, s)).value();
  double nats = 0;
  for (std::size_t t = 0; t + 1 < ids.size(); ++t) nats -= double(lp(t, std::size_t(ids[t + 1])));
  CHECK(a.nats == doctest::Approx(nats).epsilon(1e-5));
  // B segments: every token scored once; a warm-up long enough to reach the start gives the B = 1 score
  const StreamNats c = lm_stream_nats(model, ids, 1, 3, 5);
  CHECK(c.tokens == 29);
  CHECK(std::isfinite(c.nats));
  const StreamNats d = lm_stream_nats(model, ids, 1, 3, 5, 100);
  CHECK(d.nats == doctest::Approx(a.nats).epsilon(1e-5));
  // a longer context is read but not scored
  CHECK(lm_stream_nats(model, ids, 4, 1, 8).tokens == 26);
  CHECK(lm_stream_nats(model, {3}, 1, 4, 8).tokens == 0);
  CHECK_THROWS_WITH(lm_stream_nats(model, ids, 0, 1, 8), doctest::Contains("context"));
}

TEST_CASE("lstm_lm_stream: the truncated-BPTT step learns a repeating stream and carries the state") {
  Rng rng(4);
  LstmLm<float> model(small_config(LstmLmArch::words, 1), rng);
  std::vector<std::int64_t> stream;
  for (int r = 0; r < 40; ++r)
    for (std::int64_t id : {4, 5, 6, 3}) stream.push_back(id);
  const data::StreamBatches batches(stream, 2, 6);
  const auto params = model.parameters();
  AdamOptions ao;
  ao.lr = 3e-2;
  Adam<float> opt(params, ao);
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 12; ++epoch) {
    LstmState<float> state = model.zero_state(2);
    double nats = 0, tokens = 0;
    for (std::size_t k = 0; k < batches.num_batches(); ++k) {
      const StepLoss l = lm_train_step(model, batches, k, state, opt, params, 1.0);
      CHECK(l.tokens > 0);
      CHECK(l.grad_norm > 0);
      CHECK(state.batch() == 2);
      nats += l.nats, tokens += double(l.tokens);
    }
    (epoch == 0 ? first : last) = nats / tokens;
  }
  CHECK(first > 1.0);
  CHECK(last < 0.2);
}

TEST_CASE("model_vocab: a vocabulary round-trips through a model file's list; bad lists name the file") {
  const data::CharVocab cv = data::CharVocab::build("héllo\n%");
  const std::vector<std::string> ce = vocab_entries(cv);
  CHECK(ce[0] == "<pad>");
  CHECK(ce[4] == "\n");
  const data::CharVocab cb = char_vocab_from_entries(ce, "m.st", cv.size());
  CHECK(cb.encode("hé%") == cv.encode("hé%"));
  CHECK_THROWS_WITH(char_vocab_from_entries(ce, "m.st", cv.size() + 1),
                    doctest::Contains("m.st: config says vocab_size"));
  std::vector<std::string> bad = ce;
  bad[5] = "ab";
  CHECK_THROWS_WITH(char_vocab_from_entries(bad, "m.st", cv.size()), doctest::Contains("is not one character"));
  bad = ce;
  std::swap(bad[0], bad[1]);
  CHECK_THROWS_WITH(char_vocab_from_entries(bad, "m.st", cv.size()),
                    doctest::Contains("m.st: vocabulary entry 0 is '<unk>', expected '<pad>'"));
  CHECK_THROWS_WITH(word_vocab_from_entries({"<pad>"}, "w.st", 4), doctest::Contains("at least the 4 reserved"));
  data::Vocab wv;
  wv.add("the");
  wv.add("cat");
  const data::Vocab wb = word_vocab_from_entries(vocab_entries(wv), "w.st", wv.size());
  CHECK(wb.id("cat") == wv.id("cat"));
  CHECK(wb.frozen());
}

TEST_CASE("train_state: weights, optimizer, rng and position round-trip; a bad file changes nothing") {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("unroll_test_train_state_" + std::to_string(::getpid()) + ".train.safetensors")).string();
  Rng rng(5);
  LstmLm<float> model(small_config(LstmLmArch::chars, 1), rng);
  const auto params = model.parameters();
  AdamOptions ao;
  ao.lr = 0.01;
  Adam<float> opt(params, ao);
  std::vector<std::int64_t> stream;
  for (int i = 0; i < 40; ++i) stream.push_back(4 + i % 3);
  const data::StreamBatches batches(stream, 2, 4);
  LstmState<float> state = model.zero_state(2);
  lm_train_step(model, batches, 0, state, opt, params, 0);
  opt.set_lr(0.005);
  save_train_state(path, params, opt, rng, {7, 1, 2, 1.25}, model.config().to_json());
  const double next_draw = Rng(rng).uniform();

  Rng rng2(99);
  LstmLm<float> fresh(small_config(LstmLmArch::chars, 1), rng2);
  const auto params2 = fresh.parameters();
  Adam<float> opt2(params2, AdamOptions{});
  const TrainPosition at = load_train_state(path, params2, opt2, rng2, -1);
  CHECK(at.step == 7);
  CHECK(at.epoch == 1);
  CHECK(at.batch == 2);
  CHECK(at.best_dev == 1.25);
  CHECK(opt2.lr() == doctest::Approx(0.005));
  CHECK(rng2.uniform() == next_draw);
  for (std::size_t i = 0; i < params.size(); ++i)
    CHECK(xt::all(xt::equal(params[i].var.value(), params2[i].var.value())));
  // an optimizer of another kind refuses the state before any weight is written
  Rng rng3(100);
  LstmLm<float> other(small_config(LstmLmArch::chars, 1), rng3);
  const auto params3 = other.parameters();
  const Mat<float> before = params3[0].var.value();
  SGD<float> sgd(params3, SGDOptions{});
  CHECK_THROWS(load_train_state(path, params3, sgd, rng3, -1));
  CHECK(xt::all(xt::equal(params3[0].var.value(), before)));
  std::filesystem::remove(path);
}
