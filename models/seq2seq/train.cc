// models/seq2seq/train.cc — presets, option checks, the teacher-forced training loop and the entry points.
// Training: each epoch shuffles the train pairs (seeded), runs batches of `batch` pairs through the
// encoder–decoder with teacher forcing, mean cross-entropy per target character (the <eos> included), Adam,
// gradients clipped by global norm. After each epoch the dev exact match (greedy) is measured; the best dev model
// is kept (file and memory). Training stops at the epoch count, the time limit or the target dev accuracy; the
// test numbers (greedy and beam) are the best dev model's.
#include "models/seq2seq/train.h"

#include "engine/check.h"
#include "engine/gemm.h"
#include "engine/ops.h"
#include "models/common/best_params.h"
#include "models/common/learning_curve.h"
#include "models/common/run_paths.h"
#include "models/common/stopwatch.h"
#include "models/common/train_loop.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/progress.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

namespace unroll::seq2seq {

namespace {
[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("seq2seq options: " + msg); }

// Dev pairs: from their own seed, sources in neither train nor test.
std::vector<data::DatePair> make_dev(const data::DateCorpus& c, std::size_t n, std::uint64_t seed) {
  std::unordered_set<std::string> seen;
  for (const auto& p : c.train) seen.insert(p.source);
  for (const auto& p : c.test) seen.insert(p.source);
  UNROLL_CHECK(n <= data::num_date_sources() - seen.size(),
               "seq2seq: n_dev = {} exceeds the {} date sources in neither train nor test", n,
               data::num_date_sources() - seen.size());
  std::vector<data::DatePair> dev;
  for (std::size_t drawn = 2 * n + 16; dev.size() < n; drawn *= 2) {
    dev.clear();
    std::unordered_set<std::string> mine;
    for (const auto& p : data::generate_dates(drawn, seed)) {
      if (seen.count(p.source) || !mine.insert(p.source).second) continue;
      dev.push_back(p);
      if (dev.size() == n) break;
    }
  }
  return dev;
}
}  // namespace

Seq2SeqOptions preset_options(const std::string& name) {
  Seq2SeqOptions o;
  if (name == "full") {
    o.time_limit = 1800;
    o.epochs = 60;
  } else if (name == "demo") {
    o.time_limit = 600;
    o.epochs = 30;
  } else if (name == "tiny") {
    o.n_train = 200;
    o.n_test = 50;
    o.n_dev = 50;
    o.embed = 16;
    o.hidden = 32;
    o.batch = 32;
    o.epochs = 2;
    o.beam = 3;
    o.log_every = 0;
    o.checkpoint = "";
  } else {
    throw std::invalid_argument(fmt::format("seq2seq: unknown preset '{}' (expected demo, full or tiny)", name));
  }
  return o;
}

void validate(const Seq2SeqOptions& o) {
  if (o.n_train == 0) fail("n_train must be > 0, got 0");
  if (o.embed <= 0) fail(fmt::format("embed must be > 0, got {}", o.embed));
  if (o.hidden <= 0 || o.hidden % 2 != 0)
    fail(fmt::format("hidden must be even and > 0 (the encoder runs hidden/2 per direction), got {}", o.hidden));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (o.time_limit < 0 || !std::isfinite(o.time_limit))
    fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (o.clip < 0) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (!(o.target_dev_accuracy > 0 && o.target_dev_accuracy <= 1))
    fail(fmt::format("target_dev_accuracy must be in (0, 1], got {}", o.target_dev_accuracy));
  if (o.log_every < 0) fail(fmt::format("log_every must be >= 0, got {}", o.log_every));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
  if (o.beam <= 0) fail(fmt::format("beam must be > 0 (1 = greedy), got {}", o.beam));
  if (o.max_len <= 0) fail(fmt::format("max_len must be > 0, got {}", o.max_len));
}

// ---- training ------------------------------------------------------------------------------------------
TrainResult train_seq2seq(const Seq2SeqOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const data::DateCorpus corpus = data::make_date_corpus(o.n_train, o.n_test);
  const std::vector<data::DatePair> dev = o.n_dev ? make_dev(corpus, o.n_dev, o.dev_seed) : std::vector<data::DatePair>{};
  const data::CharVocab vocab = build_vocab(corpus.train);
  std::vector<std::vector<std::int64_t>> src, tgt;
  for (const auto& p : corpus.train) {
    src.push_back(vocab.encode(p.source));
    tgt.push_back(vocab.encode(p.target));
    tgt.back().push_back(data::Vocab::eos);
  }

  Seq2SeqConfig config;
  config.vocab_size = int(vocab.size());
  config.embed = o.embed;
  config.hidden = o.hidden;
  config.attention = o.attention;
  Rng rng(o.seed);
  Seq2Seq<float> model(config, rng);
  const std::vector<NamedParam<float>> params = model.parameters();
  AdamOptions ao;
  ao.lr = o.lr;
  Adam<float> opt(params, ao);
  if (!o.checkpoint.empty()) common::make_parent_dir(o.checkpoint);

  const std::size_t N = src.size(), B = std::size_t(o.batch);
  const common::LoopPlan plan{std::size_t(o.epochs), (N + B - 1) / B, 0, o.time_limit};
  if (!o.quiet)
    fmt::print(stderr, "[seq2seq] {} ({} parameters) train {} dev {} test {} | B={} ({} steps/epoch) lr={} clip={} "
               "threads={} time_limit={}\n",
               model.describe(), model.num_parameters(), N, dev.size(), corpus.test.size(), B, plan.batches, o.lr,
               o.clip, o.threads, o.time_limit > 0 ? common::hms(o.time_limit) : std::string("none"));

  TrainResult res;
  res.checkpoint = o.checkpoint;
  res.beam = o.beam;
  common::BestParams best(params, common::Better::higher);
  std::vector<std::size_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  double loss_sum = 0;
  std::size_t loss_n = 0;
  // Model selection on dev (the first 500 train pairs when there is no dev set).
  const std::vector<data::DatePair>& sel = dev.empty() ? corpus.train : dev;
  const std::vector<data::DatePair> sel_cut(sel.begin(), sel.begin() + long(std::min<std::size_t>(sel.size(), 500)));

  // Teacher-forced mean cross-entropy per target character of pairs [begin, end) of (s, t), and its graph.
  const auto batch_loss = [&](const std::vector<std::vector<std::int64_t>>& s, const std::vector<std::vector<std::int64_t>>& t,
                              const auto& index, std::size_t begin, std::size_t end, std::size_t& target_chars) {
    std::vector<std::vector<std::int64_t>> bs, bt;
    for (std::size_t j = begin; j < end; ++j) {
      bs.push_back(s[index(j)]);
      bt.push_back(t[index(j)]);
    }
    std::size_t L = 0;
    Lengths lengths;
    target_chars = 0;
    for (const auto& y : bt) {
      L = std::max(L, y.size());
      lengths.push_back(y.size());
      target_chars += y.size();
    }
    std::vector<std::vector<std::int64_t>> targets(L, std::vector<std::int64_t>(bt.size(), -100));
    for (std::size_t b = 0; b < bt.size(); ++b)
      for (std::size_t k = 0; k < bt[b].size(); ++k) targets[k][b] = bt[b][k];
    return sequence_cross_entropy(model.forward_teacher(bs, bt), targets, lengths);
  };
  // The dev loss of the learning curve: the same teacher-forced loss over the selection pairs, no graph.
  std::vector<std::vector<std::int64_t>> sel_src, sel_tgt;
  for (const auto& p : sel_cut) {
    sel_src.push_back(vocab.encode(p.source));
    sel_tgt.push_back(vocab.encode(p.target));
    sel_tgt.back().push_back(data::Vocab::eos);
  }
  const auto dev_loss = [&] {
    NoGradGuard no_grad;
    double total = 0;
    std::size_t chars = 0;
    for (std::size_t j = 0; j < sel_src.size(); j += B) {
      std::size_t n = 0;
      const Var<float> l = batch_loss(sel_src, sel_tgt, [](std::size_t i) { return i; }, j,
                                      std::min(sel_src.size(), j + B), n);
      total += double(l.value()(0, 0)) * double(n);
      chars += n;
    }
    return chars ? total / double(chars) : 0.0;
  };
  common::LearningCurve curve(o.checkpoint,
                              {"train_loss", "dev_loss", "seq2seq dates: " + model.describe(),
                               "cross-entropy per target character (nats)"},
                              false);
  std::unique_ptr<Progress> progress;
  if (!o.quiet && o.log_every > 0)
    progress = std::make_unique<Progress>(plan.epochs * plan.batches, std::size_t(o.log_every));

  common::LoopCallbacks cb;
  cb.begin_epoch = [&](std::size_t) {
    for (std::size_t i = N; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher–Yates
    loss_sum = 0;
    loss_n = 0;
  };
  cb.step = [&](const common::LoopPosition& at) {
    model.zero_grad();
    std::size_t target_chars = 0;
    Var<float> loss = batch_loss(src, tgt, [&](std::size_t j) { return order[j]; }, at.batch * B,
                                 std::min(N, (at.batch + 1) * B), target_chars);
    loss.backward();
    if (o.clip > 0) clip_grad_norm_(params, o.clip);
    opt.step();
    loss_sum += double(loss.value()(0, 0));
    ++loss_n;
    if (progress) progress->update(at.epoch + 1, double(loss.value()(0, 0)), target_chars);
  };
  // Once per epoch (and where the time limit stops a run): dev exact match, the best model, its file.
  cb.evaluate = [&](const common::LoopPosition& at) {
    CurvePoint cp;
    cp.step = at.step;
    cp.epoch = int(std::ceil(at.epochs_done));  // a partial last epoch counts as one
    cp.train_loss = loss_n ? loss_sum / double(loss_n) : 0;
    cp.dev_accuracy = evaluate(model, vocab, sel_cut, 0, o.max_len).accuracy_greedy;
    cp.seconds = at.seconds;
    cp.dev_loss = dev_loss();
    res.curve.push_back(cp);
    curve.add({cp.step, at.epochs_done, cp.train_loss, cp.dev_loss, opt.lr(), cp.seconds});
    const bool improved = best.offer(cp.dev_accuracy);
    if (improved && !o.checkpoint.empty()) save_seq2seq(o.checkpoint, model, vocab);
    if (!o.quiet)
      fmt::print(stderr, "[seq2seq] epoch {} done: train loss {:.4f}, dev exact match {:.2f}%{} ({})\n", cp.epoch,
                 cp.train_loss, 100 * cp.dev_accuracy, improved ? " (best)" : "", common::hms(cp.seconds));
    return cp.dev_accuracy >= o.target_dev_accuracy;
  };
  model.train();
  const common::LoopResult loop = common::run_train_loop(plan, cb);
  if (progress) progress->finish();
  res.steps = loop.steps;
  res.epochs = int(std::ceil(loop.epochs));
  res.seconds = loop.seconds;
  res.cpu_seconds = loop.cpu_seconds;
  res.best_dev_accuracy = best.best();
  best.restore();
  model.eval();
  const EvalResult test = evaluate(model, vocab, corpus.test, o.beam, o.max_len);
  res.test_accuracy_greedy = test.accuracy_greedy;
  res.test_accuracy_beam = test.accuracy_beam;
  res.eval_seconds = test.seconds;
  if (!o.quiet) {
    for (std::size_t i = 0; i < std::min<std::size_t>(5, test.errors.size()); ++i)
      fmt::print(stderr, "[seq2seq] miss: '{}' -> '{}'\n", test.errors[i].first, test.errors[i].second);
    fmt::print("seq2seq dates: {} | {} epochs, {} steps, {} wall, {} CPU, {} thread(s)\n", model.describe(),
               res.epochs, res.steps, common::hms(res.seconds), common::hms(res.cpu_seconds), o.threads);
    fmt::print("best dev exact match {:.2f}%\ntest exact match: greedy {:.2f}%, beam {} {:.2f}% ({} pairs, {:.1f}s)\n",
               100 * res.best_dev_accuracy, 100 * test.accuracy_greedy, o.beam, 100 * test.accuracy_beam, test.n,
               test.seconds);
  }
  return res;
}

EvalResult eval_seq2seq(const Seq2SeqOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  UNROLL_CHECK(!o.checkpoint.empty(), "seq2seq eval: no model file given (checkpoint is empty)");
  LoadedSeq2Seq m = load_seq2seq(o.checkpoint);
  const data::DateCorpus corpus = data::make_date_corpus(o.n_train, o.n_test);
  const EvalResult r = evaluate(*m.model, m.vocab, corpus.test, o.beam, o.max_len);
  if (!o.quiet)
    fmt::print("{}: test exact match greedy {:.2f}%, beam {} {:.2f}% ({} pairs, {:.1f}s)\n", o.checkpoint,
               100 * r.accuracy_greedy, o.beam, 100 * r.accuracy_beam, r.n, r.seconds);
  return r;
}

std::vector<Prediction> predict_seq2seq(const Seq2SeqOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  UNROLL_CHECK(!o.checkpoint.empty(), "seq2seq predict: no model file given (checkpoint is empty)");
  LoadedSeq2Seq m = load_seq2seq(o.checkpoint);
  std::vector<Prediction> out;
  for (const auto& s : o.inputs) {
    UNROLL_CHECK(!s.empty(), "seq2seq predict: an input date is empty");
    const Hypothesis h = beam_decode(*m.model, m.vocab.encode(s), o.beam, o.max_len);
    out.push_back({s, m.vocab.decode(h.ids), h.log_prob});
    if (!o.quiet) fmt::print("{}\t{}\t{:.4f}\n", s, out.back().output, h.log_prob);
  }
  return out;
}

}  // namespace unroll::seq2seq
