// tests/test_seq2seq.cc — the dates seq2seq (models/seq2seq/): overfits a tiny fixture, greedy == beam width 1,
// beam search never scores below greedy, reproducible decoding, model-file round trip, bad options by name.
#include <doctest/doctest.h>

#include <fstream>

#include "engine/ops.h"
#include "models/data/dates.h"
#include "models/seq2seq/train.h"
#include "nn/clip.h"
#include "nn/loss.h"
#include "nn/optim.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

using namespace unroll;
using namespace unroll::seq2seq;

namespace {

struct Fixture {
  std::vector<data::DatePair> pairs;
  data::CharVocab vocab;
  std::unique_ptr<Seq2Seq<float>> model;
  std::vector<std::vector<std::int64_t>> src, tgt;
};

std::unique_ptr<Seq2Seq<float>> make_model(const data::CharVocab& vocab, std::uint64_t seed) {
  Seq2SeqConfig c;
  c.vocab_size = int(vocab.size());
  c.embed = 16;
  c.hidden = 48;
  Rng rng(seed);
  return std::make_unique<Seq2Seq<float>>(c, rng);
}

// 12 generated pairs, trained to memorisation (once, shared by the tests below).
Fixture& trained_fixture() {
  static Fixture f = [] {
    Fixture x;
    x.pairs = data::generate_dates(12, 4242);
    x.vocab = build_vocab(x.pairs);
    x.model = make_model(x.vocab, 7);
    for (const auto& p : x.pairs) {
      x.src.push_back(x.vocab.encode(p.source));
      x.tgt.push_back(x.vocab.encode(p.target));
    }
    std::vector<std::vector<std::int64_t>> tgt_eos = x.tgt;
    for (auto& t : tgt_eos) t.push_back(data::Vocab::eos);
    auto params = x.model->parameters();
    AdamOptions ao;
    ao.lr = 1e-2;
    Adam<float> opt(params, ao);
    const std::size_t L = 11;
    std::vector<std::vector<std::int64_t>> targets(L, std::vector<std::int64_t>(x.pairs.size()));
    for (std::size_t b = 0; b < x.pairs.size(); ++b)
      for (std::size_t t = 0; t < L; ++t) targets[t][b] = tgt_eos[b][t];
    for (int step = 0; step < 150; ++step) {
      x.model->zero_grad();
      Var<float> loss = sequence_cross_entropy(x.model->forward_teacher(x.src, tgt_eos), targets);
      loss.backward();
      clip_grad_norm_(params, 5.0);
      opt.step();
    }
    x.model->eval();
    return x;
  }();
  return f;
}

}  // namespace

TEST_CASE("seq2seq: overfits a tiny fixture of dates") {
  Fixture& f = trained_fixture();
  const EvalResult r = evaluate(*f.model, f.vocab, f.pairs, 3);
  CHECK(r.accuracy_greedy == doctest::Approx(1.0));
  CHECK(r.accuracy_beam == doctest::Approx(1.0));
  CHECK(r.n == f.pairs.size());
}

TEST_CASE("seq2seq: greedy equals beam width 1 and beam never scores below greedy") {
  Fixture& f = trained_fixture();
  // A half-trained model has less peaked distributions, where beam search can matter.
  auto fresh = make_model(f.vocab, 11);
  for (Seq2Seq<float>* m : {f.model.get(), fresh.get()}) {
    const std::vector<Hypothesis> greedy = greedy_decode(*m, f.src, 12, 5);
    for (std::size_t i = 0; i < f.src.size(); ++i) {
      const Hypothesis b1 = beam_decode(*m, f.src[i], 1, 12);
      CHECK(b1.ids == greedy[i].ids);
      CHECK(b1.ended == greedy[i].ended);
      CHECK(b1.log_prob == doctest::Approx(greedy[i].log_prob).epsilon(1e-5));
      const Hypothesis b4 = beam_decode(*m, f.src[i], 4, 12);
      if (greedy[i].ended) CHECK(b4.log_prob >= greedy[i].log_prob - 1e-5);
    }
  }
  // The decoders' scores are the model's: ln P(output | source) under teacher forcing.
  const Hypothesis h = beam_decode(*f.model, f.src[0], 3, 16);
  REQUIRE(h.ended);
  CHECK(score_pair(*f.model, f.src[0], h.ids) == doctest::Approx(h.log_prob).epsilon(1e-4));
}

TEST_CASE("seq2seq: decoding never emits reserved ids and is reproducible") {
  Fixture& f = trained_fixture();
  auto a = make_model(f.vocab, 3), b = make_model(f.vocab, 3);
  const auto ga = greedy_decode(*a, f.src, 8), gb = greedy_decode(*b, f.src, 8);
  for (std::size_t i = 0; i < f.src.size(); ++i) {
    CHECK(ga[i].ids == gb[i].ids);
    CHECK(ga[i].log_prob == gb[i].log_prob);
    const Hypothesis x = beam_decode(*a, f.src[i], 3, 8), y = beam_decode(*b, f.src[i], 3, 8);
    CHECK(x.ids == y.ids);
    CHECK(x.log_prob == y.log_prob);
    CHECK(x.ids.size() <= 8);
    for (auto id : x.ids) CHECK(id >= std::int64_t(data::Vocab::num_reserved));
    for (auto id : ga[i].ids) CHECK(id >= std::int64_t(data::Vocab::num_reserved));
  }
}

TEST_CASE("seq2seq: model file round trip keeps config, vocabulary and outputs") {
  Fixture& f = trained_fixture();
  const auto path = (std::filesystem::temp_directory_path() / "unroll_test_seq2seq.safetensors").string();
  save_seq2seq(path, *f.model, f.vocab);
  LoadedSeq2Seq m = load_seq2seq(path);
  CHECK(m.vocab.size() == f.vocab.size());
  CHECK(m.model->config().to_json() == f.model->config().to_json());
  for (std::size_t i = 0; i < 4; ++i) {
    const Hypothesis a = beam_decode(*f.model, f.src[i], 3, 12), b = beam_decode(*m.model, f.src[i], 3, 12);
    CHECK(a.ids == b.ids);
    CHECK(f.vocab.decode(a.ids) == f.pairs[i].target);
  }
  Seq2SeqOptions o = preset_options("tiny");
  o.checkpoint = path;
  o.inputs = {f.pairs[0].source};
  o.quiet = true;
  const auto pred = predict_seq2seq(o);
  REQUIRE(pred.size() == 1);
  CHECK(pred[0].output == f.pairs[0].target);
  std::filesystem::remove(path);
  CHECK_THROWS(load_seq2seq(path));
}

TEST_CASE("seq2seq: bad options and configs are refused by name") {
  const auto message = [](Seq2SeqOptions o) {
    try {
      validate(o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  Seq2SeqOptions o = preset_options("tiny");
  CHECK(message(o).empty());
  o.batch = 0;
  CHECK(message(o).find("batch") != std::string::npos);
  o = preset_options("tiny");
  o.hidden = 33;
  CHECK(message(o).find("hidden") != std::string::npos);
  o = preset_options("tiny");
  o.beam = 0;
  CHECK(message(o).find("beam") != std::string::npos);
  o = preset_options("tiny");
  o.lr = -1;
  CHECK(message(o).find("lr") != std::string::npos);
  o = preset_options("tiny");
  o.max_len = 0;
  CHECK(message(o).find("max_len") != std::string::npos);
  CHECK_THROWS_WITH_AS(preset_options("huge"), doctest::Contains("huge"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(Seq2SeqConfig::from_json("{\"arch\":\"seq2seq_lstm\",\"vocab_size\":20,\"embed\":0}"),
                       doctest::Contains("embed"), std::invalid_argument);
  CHECK_THROWS_AS(Seq2SeqConfig::from_json("not json"), std::invalid_argument);
}

TEST_CASE("seq2seq: the tiny preset trains end to end and reports its numbers") {
  Seq2SeqOptions o = preset_options("tiny");
  o.quiet = true;
  const TrainResult r = train_seq2seq(o);
  CHECK(r.epochs == o.epochs);
  CHECK(r.steps == std::uint64_t(o.epochs) * ((o.n_train + std::size_t(o.batch) - 1) / std::size_t(o.batch)));
  CHECK(r.curve.size() == std::size_t(o.epochs));
  CHECK(r.curve.back().train_loss < r.curve.front().train_loss * 1.5);
  CHECK(r.test_accuracy_greedy >= 0);
  CHECK(r.test_accuracy_beam <= 1);
  for (const auto& p : r.curve) CHECK((std::isfinite(p.dev_loss) && p.dev_loss > 0));
}

TEST_CASE("seq2seq: training writes its learning curve, train and dev loss per epoch, as CSV and SVG") {
  const auto dir = std::filesystem::temp_directory_path() / "unroll_test_seq2seq_curve";
  std::filesystem::remove_all(dir);
  Seq2SeqOptions o = preset_options("tiny");
  o.quiet = true;
  o.checkpoint = (dir / "s2s.safetensors").string();
  const TrainResult r = train_seq2seq(o);
  std::ifstream csv(dir / "s2s.curve.csv");
  REQUIRE(csv.good());
  std::string line;
  std::getline(csv, line);
  CHECK(line.find("train_loss") != std::string::npos);
  CHECK(line.find("dev_loss") != std::string::npos);
  std::size_t rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == r.curve.size());
  CHECK(std::filesystem::file_size(dir / "s2s.curve.svg") > 500);
  CHECK(r.curve.back().dev_loss < r.curve.front().dev_loss);  // the model learns: dev loss falls
  std::filesystem::remove_all(dir);
}
