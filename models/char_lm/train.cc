// models/char_lm/train.cc — presets, option checks, the truncated-BPTT training loop and the entry points.
// Training: the train split as one character stream cut into B columns (models/data/batching.h StreamBatches);
// each step runs T characters of every column, the LSTM state is carried to the next chunk and detached (so
// gradients flow back at most T steps); Adam or SGD; gradients clipped by global norm; dev bits/char every
// eval_every steps and at each epoch's end; the best dev model is kept (file and memory), the lr decays
// when dev does not improve; training stops at the epoch count or the time limit. The final test bits/char
// is the best dev model's.
#include "models/char_lm/train.h"

#include "engine/gemm.h"
#include "models/common/best_params.h"
#include "models/common/learning_curve.h"
#include "models/common/model_file.h"
#include "models/common/model_vocab.h"
#include "models/common/lstm_lm_stream.h"
#include "models/common/stopwatch.h"
#include "models/common/train_loop.h"
#include "models/common/train_state.h"
#include "models/data/batching.h"
#include "models/data/fortunes.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/progress.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <memory>
#include <stdexcept>

namespace unroll::char_lm {

namespace {
constexpr double kLn2 = 0.69314718055994530942;

data::FortuneCorpus load_corpus(const CharLmOptions& o) {
  return o.data_dir.empty() ? data::load_fortunes() : data::load_fortunes(o.data_dir);
}

std::string first_chars(std::string text, std::size_t n) {
  if (n == 0 || text.size() <= n) return text;
  std::size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a code point
  text.resize(cut);
  return text;
}

std::unique_ptr<Optimizer<float>> make_optimizer(const CharLmOptions& o, const std::vector<NamedParam<float>>& params) {
  if (o.optimizer == "sgd") {
    SGDOptions so;
    so.lr = o.lr;
    return std::make_unique<SGD<float>>(params, so);
  }
  AdamOptions ao;
  ao.lr = o.lr;
  return std::make_unique<Adam<float>>(params, ao);
}
}  // namespace

// ---- presets and checks --------------------------------------------------------------------------------
CharLmOptions preset_options(const std::string& name) {
  CharLmOptions o;
  if (name.empty() || name == "full") {  // the PyTorch reference's 2x256 shape, bounded to 30 minutes here
    o.time_limit = 1800;
    o.batch = 32;  // 4x the updates of B=64, T=128 per character: what a 30-minute budget needs
    o.seq_len = 64;
    o.eval_every = 500;
    o.max_dev_chars = 60000;
    return o;
  }
  if (name == "demo") {  // a few minutes: 1x128, stopped after 3 minutes of training, then the full test set
    o.hidden = 128;
    o.layers = 1;
    o.batch = 32;
    o.seq_len = 64;
    o.lr = 3e-3;
    o.epochs = 20;
    o.time_limit = 180;
    o.eval_every = 0;
    o.max_dev_chars = 30000;
    o.checkpoint = "runs/char_lm_demo.safetensors";
    return o;
  }
  if (name == "tiny") {  // tests and smoke runs: seconds
    o.embed = 16;
    o.hidden = 32;
    o.layers = 1;
    o.batch = 4;
    o.seq_len = 16;
    o.lr = 1e-2;
    o.epochs = 40;
    o.log_every = 0;
    o.checkpoint.clear();
    return o;
  }
  throw std::invalid_argument(fmt::format("char LM: unknown preset '{}' (expected demo, full or tiny)", name));
}

void validate(const CharLmOptions& o) {
  const auto fail = [](const std::string& m) { throw std::invalid_argument("char LM: " + m); };
  if (o.embed <= 0 || o.hidden <= 0 || o.layers <= 0)
    fail(fmt::format("embed, hidden and layers must be > 0, got {}, {}, {}", o.embed, o.hidden, o.layers));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.seq_len <= 0) fail(fmt::format("seq_len must be > 0, got {}", o.seq_len));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (!(o.plateau_decay > 0 && o.plateau_decay <= 1))
    fail(fmt::format("plateau_decay must be in (0, 1], got {}", o.plateau_decay));
  if (o.clip < 0) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (o.time_limit < 0) fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    fail(fmt::format("optimizer must be adam or sgd, got '{}'", o.optimizer));
  if (!(o.temperature > 0) || !std::isfinite(o.temperature))
    fail(fmt::format("temperature must be > 0, got {}", o.temperature));
  if (o.top_k < 0) fail(fmt::format("top_k must be >= 0 (0 = all), got {}", o.top_k));
  if (o.max_chars <= 0) fail(fmt::format("max_chars must be > 0, got {}", o.max_chars));
  if (o.num_samples < 0) fail(fmt::format("num_samples must be >= 0, got {}", o.num_samples));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
  if (o.eval_every < 0 || o.log_every < 0) fail("eval_every and log_every must be >= 0");
  if (o.resume && !o.init_from.empty()) fail("resume and init_from exclude each other (resume continues a run)");
}

// ---- training ------------------------------------------------------------------------------------------
TrainResult train_char_lm(const CharLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const common::Stopwatch setup;
  const data::FortuneCorpus corpus = load_corpus(o);
  const std::string train_full = data::join_fortunes(corpus.train);
  const data::CharVocab vocab = data::CharVocab::build(train_full);  // every train character, even when sliced
  const std::string train_text = first_chars(train_full, o.max_train_chars);
  const std::string dev_text = first_chars(first_chars(data::join_fortunes(corpus.dev), o.max_eval_chars),
                                           o.max_dev_chars);
  const std::string test_text = first_chars(data::join_fortunes(corpus.test), o.max_eval_chars);
  const std::vector<std::int64_t> train_ids = vocab.encode(train_text);
  UNROLL_CHECK(train_ids.size() > std::size_t(o.batch) + 1,
               "char LM: {} train characters are too few for batch {}", train_ids.size(), o.batch);

  const auto config =
      common::LstmLmConfig::sized(common::LstmLmArch::chars, int(vocab.size()), o.embed, o.hidden, o.layers);
  Rng rng(o.seed);
  CharLm<float> model(config, rng);
  const std::vector<NamedParam<float>> params = model.parameters();
  if (!o.init_from.empty())
    common::load_initial_weights(o.init_from, config, "char_lm", common::vocab_entries(vocab), params);
  const std::unique_ptr<Optimizer<float>> opt = make_optimizer(o, params);

  const std::size_t B = std::size_t(o.batch), T = std::size_t(o.seq_len);
  const data::StreamBatches batches(train_ids, B, T);
  const std::string train_state = common::train_state_path(o.checkpoint);
  common::LoopPlan plan{std::size_t(o.epochs), batches.num_batches(), std::size_t(o.eval_every), o.time_limit};
  common::BestParams best(params, common::Better::lower);
  if (o.resume) {
    best.set_best(common::resume_training(train_state, plan, params, *opt, rng, best.best(), "char LM"));
    best.keep();  // the resumed weights until dev improves
  }

  TrainResult res;
  res.train_chars = train_ids.size();
  res.checkpoint = o.checkpoint;
  if (!o.quiet) {
    fmt::print(stderr, "[char_lm] {} | {} parameters | vocab {} | train {} chars, dev {}, test {} | setup {:.1f}s\n",
               model.describe(), model.num_parameters(), vocab.size(), train_ids.size(), dev_text.size(),
               test_text.size(), setup.wall_seconds());
    fmt::print(stderr, "[char_lm] B={} T={} ({} steps/epoch) {} lr={} clip={} threads={} time_limit={}\n", B, T,
               plan.batches, o.optimizer, o.lr, o.clip, o.threads,
               o.time_limit > 0 ? common::hms(o.time_limit) : std::string("none"));
  }
  common::LearningCurve curve(o.checkpoint,
                              {"train_bpc", "dev_bpc", "char LM on fortunes: " + config.describe(),
                               "bits per character"},
                              o.resume);

  double run_nats = 0, run_chars = 0;
  std::size_t clipped = 0;
  LstmState<float> state;
  std::unique_ptr<Progress> progress;
  const std::size_t total_steps = plan.epochs * plan.batches;
  if (!o.quiet && o.log_every > 0)
    progress = std::make_unique<Progress>(total_steps - std::min<std::size_t>(plan.step, total_steps),
                                          std::size_t(o.log_every));
  common::LoopCallbacks cb;
  cb.begin_epoch = [&](std::size_t) { state = model.zero_state(B); };
  cb.step = [&](const common::LoopPosition& at) {
    const common::StepLoss l = common::lm_train_step(model, batches, at.batch, state, *opt, params, o.clip);
    clipped += o.clip > 0 && l.grad_norm > o.clip;
    run_nats += l.nats, run_chars += double(l.tokens);
    if (progress) progress->update(at.epoch + 1, l.nats / double(l.tokens) / kLn2, l.tokens);  // loss in bits/char
  };
  // Dev evaluation, best-model bookkeeping, checkpoints and the learning curve.
  cb.evaluate = [&](const common::LoopPosition& at) {
    model.eval();
    const EvalResult dev = evaluate_bits(model, vocab, dev_text, 64, 128);
    model.train();
    const bool improved = best.offer(dev.bits_per_char);
    if (improved && !o.checkpoint.empty()) save_char_lm(o.checkpoint, model, vocab);
    if (!improved) opt->set_lr(opt->lr() * o.plateau_decay);
    const common::CurveRow row{at.step, at.epochs_done, run_chars > 0 ? run_nats / run_chars / kLn2 : 0,
                               dev.bits_per_char, opt->lr(), at.seconds};
    curve.add(row);
    res.curve.push_back({row.step, row.epoch, row.train, row.dev, row.lr, row.seconds});
    if (!train_state.empty())
      common::save_train_state(train_state, params, *opt, rng, {at.step, at.epoch, at.batch, best.best()},
                               config.to_json());
    if (!o.quiet)
      fmt::print(stderr, "[char_lm] step {} epoch {:.2f}: train {:.4f} bpc, dev {:.4f} bpc{} | lr {:.3g} | {}\n",
                 at.step, at.epochs_done, row.train, row.dev, improved ? " (best)" : "", opt->lr(),
                 common::hms(at.seconds));
    run_nats = run_chars = 0;
    return false;
  };
  model.train();
  const common::LoopResult loop = common::run_train_loop(plan, cb);
  if (progress) progress->finish();
  res.seconds = loop.seconds;
  res.cpu_seconds = loop.cpu_seconds;
  res.steps = loop.steps;
  res.epochs = loop.epochs;
  res.best_dev_bpc = best.best();

  best.restore();
  model.eval();
  const EvalResult test = evaluate_bits(model, vocab, test_text, 64, 128);
  res.test_bpc = test.bits_per_char;
  res.test_chars = test.chars;
  Rng sample_rng(o.seed);
  for (int i = 0; i < o.num_samples; ++i) {
    SampleOptions so{o.prompt, o.temperature, o.top_k, o.max_chars};
    res.samples.push_back(sample_text(model, vocab, so, sample_rng).text);
  }
  if (!o.quiet) {
    fmt::print("char LM {}: {} steps, {:.2f} epochs, {} of training ({} of CPU) on {} thread(s); clipping fired {} "
               "times\n",
               model.describe(), res.steps, res.epochs, common::hms(res.seconds), common::hms(res.cpu_seconds),
               o.threads, clipped);
    fmt::print("best dev bits/char: {:.4f}\ntest bits/char:     {:.4f}  ({} characters; char 5-gram baseline 2.380, "
               "PyTorch 2x256 reference 2.180)\n",
               res.best_dev_bpc, res.test_bpc, res.test_chars);
    if (!o.checkpoint.empty()) fmt::print("model file: {}\n", o.checkpoint);
    for (std::size_t i = 0; i < res.samples.size(); ++i)
      fmt::print("--- sample {} (temperature {}{})\n{}\n", i + 1, o.temperature,
                 o.top_k > 0 ? fmt::format(", top-k {}", o.top_k) : std::string(), res.samples[i]);
  }
  return res;
}

// ---- evaluate, sample, score from a model file ---------------------------------------------------------
EvalResult eval_char_lm(const CharLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  LoadedCharLm m = load_char_lm(o.checkpoint);
  const data::FortuneCorpus corpus = load_corpus(o);
  const std::string test_text = first_chars(data::join_fortunes(corpus.test), o.max_eval_chars);
  const EvalResult r = evaluate_bits(*m.model, m.vocab, test_text, 64, 128);
  if (!o.quiet)
    fmt::print("{}: test bits/char {:.4f} over {} characters ({:.1f}s); char 5-gram baseline 2.380, PyTorch 2x256 "
               "reference 2.180\n",
               o.checkpoint, r.bits_per_char, r.chars, r.seconds);
  return r;
}

std::vector<Sample> sample_char_lm(const CharLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  LoadedCharLm m = load_char_lm(o.checkpoint);
  Rng rng(o.seed);
  std::vector<Sample> out;
  for (int i = 0; i < o.num_samples; ++i) {
    out.push_back(sample_text(*m.model, m.vocab, {o.prompt, o.temperature, o.top_k, o.max_chars}, rng));
    if (!o.quiet) fmt::print("{}\n%\n", out.back().text);
  }
  return out;
}

std::vector<ScoreItem> score_char_lm(const CharLmOptions& o) {
  validate(o);
  UNROLL_CHECK(!o.texts.empty(), "char LM score: no text to score");
  set_blas_threads(o.threads);
  LoadedCharLm m = load_char_lm(o.checkpoint);
  std::vector<ScoreItem> items;
  for (const auto& t : o.texts) items.push_back(score_text(*m.model, m.vocab, t));
  std::stable_sort(items.begin(), items.end(),
                   [](const ScoreItem& a, const ScoreItem& b) { return a.log_prob > b.log_prob; });
  if (!o.quiet) {
    fmt::print("{:>4}  {:>12}  {:>9}  {:>6}  text\n", "rank", "log P (nats)", "bits/char", "chars");
    for (std::size_t i = 0; i < items.size(); ++i)
      fmt::print("{:>4}  {:>12.3f}  {:>9.4f}  {:>6}  {}\n", i + 1, items[i].log_prob, items[i].bits_per_char,
                 items[i].chars, items[i].text);
  }
  return items;
}

}  // namespace unroll::char_lm
