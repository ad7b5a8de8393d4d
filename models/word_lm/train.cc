// models/word_lm/train.cc — presets, option checks, truncated-BPTT training, perplexity, model files.
// Training mirrors models/char_lm/train.cc: B stream columns, T steps per chunk, the LSTM state carried and
// detached, Adam, global-norm clipping, dev perplexity every eval_every steps and at each epoch's end, the best
// dev model kept (file and memory), stop at the epoch count or the time limit; test perplexity is the best
// dev model's.
#include "models/word_lm/train.h"

#include "engine/check.h"
#include "engine/gemm.h"
#include "engine/ops.h"
#include "models/data/batching.h"
#include "models/data/brown.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/optim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

namespace unroll::word_lm {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double cpu_now() { return double(std::clock()) / CLOCKS_PER_SEC; }
std::string hms(double s) {
  const long t = long(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m{:02}s", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}
[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("word LM options: " + msg); }
std::vector<Mat<float>> snapshot(const std::vector<NamedParam<float>>& params) {
  std::vector<Mat<float>> v;
  for (const auto& p : params) v.push_back(p.var.value());
  return v;
}
void restore(std::vector<NamedParam<float>>& params, const std::vector<Mat<float>>& v) {
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = v[i];
}
std::vector<std::int64_t> first_tokens(std::vector<std::int64_t> s, std::size_t n) {
  if (n > 0 && s.size() > n) s.resize(n);
  return s;
}
data::BrownCorpus load_corpus(const WordLmOptions& o) {
  return o.data_dir.empty() ? data::load_brown() : data::load_brown(o.data_dir);
}
}  // namespace

WordLmOptions preset_options(const std::string& name) {
  WordLmOptions o;
  if (name == "full") {
    o.time_limit = 0;
  } else if (name == "demo") {
    o.hidden = 256;
    o.layers = 1;
    o.epochs = 1;
    o.time_limit = 600;
    o.eval_every = 500;
  } else if (name == "tiny") {
    o.embed = 16;
    o.hidden = 32;
    o.layers = 1;
    o.batch = 4;
    o.seq_len = 8;
    o.epochs = 2;
    o.log_every = 0;
    o.checkpoint = "";
  } else {
    throw std::invalid_argument(fmt::format("word LM: unknown preset '{}' (expected demo, full or tiny)", name));
  }
  return o;
}

void validate(const WordLmOptions& o) {
  if (o.embed <= 0) fail(fmt::format("embed must be > 0, got {}", o.embed));
  if (o.hidden <= 0) fail(fmt::format("hidden must be > 0, got {}", o.hidden));
  if (o.layers <= 0) fail(fmt::format("layers must be > 0, got {}", o.layers));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.seq_len <= 0) fail(fmt::format("seq_len must be > 0, got {}", o.seq_len));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (o.time_limit < 0 || !std::isfinite(o.time_limit))
    fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (o.clip < 0) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (o.eval_every < 0 || o.log_every < 0) fail("eval_every and log_every must be >= 0");
  if (o.eval_batch <= 0) fail(fmt::format("eval_batch must be > 0, got {}", o.eval_batch));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
}

// ---- model files ---------------------------------------------------------------------------------------
void save_word_lm(const std::string& path, WordLm<float>& model, const data::Vocab& vocab) {
  ModelInfo info;
  info.config = model.config().to_json();
  for (std::size_t id = 0; id < vocab.size(); ++id) info.vocab.push_back(vocab.token(std::int64_t(id)));
  info.extra["model"] = "word_lm";
  save_model<float>(path, model, info);
}

LoadedWordLm load_word_lm(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  WordLmConfig config;
  try {
    config = WordLmConfig::from_json(info.config);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not a word LM model file: {}", path, e.what()));
  }
  LoadedWordLm out;
  for (std::size_t i = 0; i < info.vocab.size(); ++i) {
    if (i < data::Vocab::num_reserved) {
      if (info.vocab[i] != data::Vocab::reserved_names[i])
        throw std::invalid_argument(fmt::format("{}: vocabulary entry {} is '{}', expected '{}'", path, i,
                                                info.vocab[i], data::Vocab::reserved_names[i]));
      continue;
    }
    out.vocab.add(info.vocab[i]);
  }
  out.vocab.freeze();
  if (out.vocab.size() != std::size_t(config.vocab_size))
    throw std::invalid_argument(fmt::format("{}: config says vocab_size {}, the file lists {} tokens", path,
                                            config.vocab_size, out.vocab.size()));
  Rng rng(0);
  out.model = std::make_unique<WordLm<float>>(config, rng);
  load_model<float>(path, *out.model);
  out.model->mask_unused_outputs();
  out.model->eval();
  return out;
}

// ---- perplexity ----------------------------------------------------------------------------------------
EvalResult evaluate_ppl(WordLm<float>& model, const std::vector<std::int64_t>& stream, std::size_t B, std::size_t T) {
  const auto t0 = Clock::now();
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  std::vector<std::int64_t> ids{data::Vocab::eos};  // the context before the first sentence
  ids.insert(ids.end(), stream.begin(), stream.end());
  const std::size_t n = stream.size();  // targets: ids[1 .. n]
  EvalResult r;
  r.tokens = n;
  if (n == 0) return r;
  B = std::max<std::size_t>(1, std::min(B, n));
  std::vector<std::size_t> lo(B), hi(B);  // row b predicts targets at positions [lo, hi) from inputs [lo-1, hi-1)
  std::size_t longest = 0;
  for (std::size_t b = 0; b < B; ++b) {
    lo[b] = 1 + b * n / B;
    hi[b] = 1 + (b + 1) * n / B;
    longest = std::max(longest, hi[b] - lo[b]);
  }
  LstmState<float> state = model.zero_state(B);
  double nats = 0;
  std::vector<std::int64_t> x, y;
  for (std::size_t start = 0; start < longest; start += T) {
    const std::size_t steps = std::min(T, longest - start);
    x.assign(B * steps, data::Vocab::pad);
    y.assign(B * steps, -100);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t p = lo[b] + start + t;  // target position
        if (p >= hi[b]) continue;
        x[b * steps + t] = ids[p - 1];
        y[t * B + b] = ids[p];
      }
    const Var<float> logits = model.forward(x, B, steps, state);
    nats += double(cross_entropy(logits, y, std::int64_t(-100), Reduction::Sum).item());
  }
  r.nats = nats;
  r.perplexity = std::exp(nats / double(n));
  r.seconds = seconds_since(t0);
  model.train(was_training);
  return r;
}

// ---- training ------------------------------------------------------------------------------------------
TrainResult train_word_lm(const WordLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const data::BrownCorpus corpus = load_corpus(o);
  const data::Vocab vocab = data::brown_lm_vocab(corpus.train);
  const std::vector<std::int64_t> train_ids = first_tokens(data::brown_lm_stream(corpus.train, vocab), o.max_train_tokens);
  const std::vector<std::int64_t> dev_ids = first_tokens(data::brown_lm_stream(corpus.dev, vocab), o.max_eval_tokens);
  const std::vector<std::int64_t> test_ids = first_tokens(data::brown_lm_stream(corpus.test, vocab), o.max_eval_tokens);
  UNROLL_CHECK(train_ids.size() > std::size_t(o.batch) + 1, "word LM: {} train tokens are too few for batch {}",
               train_ids.size(), o.batch);
  WordLmConfig config;
  config.vocab_size = int(vocab.size());
  config.embed = o.embed;
  config.hidden = o.hidden;
  config.layers = o.layers;
  Rng rng(o.seed);
  WordLm<float> model(config, rng);
  std::vector<NamedParam<float>> params = model.parameters();
  AdamOptions ao;
  ao.lr = o.lr;
  Adam<float> opt(params, ao);
  if (!o.checkpoint.empty()) {
    const auto parent = std::filesystem::path(o.checkpoint).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  const std::size_t B = std::size_t(o.batch), T = std::size_t(o.seq_len);
  const data::StreamBatches batches(train_ids, B, T);
  const std::size_t nb = batches.num_batches();
  if (!o.quiet)
    fmt::print(stderr, "[word_lm] {} ({} parameters) train {} tokens, dev {}, test {} | B={} T={} ({} steps/epoch) "
               "lr={} clip={} threads={} time_limit={}\n",
               model.describe(), model.num_parameters(), train_ids.size(), dev_ids.size(), test_ids.size(), B, T, nb,
               o.lr, o.clip, o.threads, o.time_limit > 0 ? hms(o.time_limit) : std::string("none"));
  TrainResult res;
  res.checkpoint = o.checkpoint;
  res.train_tokens = train_ids.size();
  res.test_tokens = test_ids.size();
  double best_dev = std::numeric_limits<double>::infinity();
  std::vector<Mat<float>> best = snapshot(params);
  const auto t0 = Clock::now();
  const double cpu0 = cpu_now();
  double run_nats = 0, run_tokens = 0;
  const auto dev_eval = [&](double epoch) {
    CurvePoint cp;
    cp.step = res.steps;
    cp.epoch = epoch;
    cp.train_ppl = run_tokens > 0 ? std::exp(run_nats / run_tokens) : 0;
    run_nats = run_tokens = 0;
    cp.dev_ppl = evaluate_ppl(model, dev_ids, std::size_t(o.eval_batch), T).perplexity;
    cp.seconds = seconds_since(t0);
    res.curve.push_back(cp);
    const bool improved = cp.dev_ppl < best_dev;
    if (improved) {
      best_dev = cp.dev_ppl;
      best = snapshot(params);
      if (!o.checkpoint.empty()) save_word_lm(o.checkpoint, model, vocab);
    }
    if (!o.quiet)
      fmt::print(stderr, "[word_lm] step {} epoch {:.2f}: train ppl {:.1f}, dev ppl {:.1f}{} ({})\n", cp.step, epoch,
                 cp.train_ppl, cp.dev_ppl, improved ? " (best)" : "", hms(cp.seconds));
  };
  bool out_of_time = false;
  std::vector<std::int64_t> x, y, y_tm;
  model.train();
  for (int epoch = 0; epoch < o.epochs && !out_of_time; ++epoch) {
    LstmState<float> state = model.zero_state(B);
    for (std::size_t k = 0; k < nb; ++k) {
      const std::size_t steps = batches.get(k, x, y);
      y_tm.resize(B * steps);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < steps; ++t) y_tm[t * B + b] = y[b * steps + t];
      model.zero_grad();
      const Var<float> logits = model.forward(x, B, steps, state);
      const Var<float> loss = cross_entropy(logits, y_tm);
      loss.backward();
      if (o.clip > 0) clip_grad_norm_(params, o.clip);
      opt.step();
      state = detach_state(state);
      ++res.steps;
      run_nats += double(loss.item()) * double(B * steps);
      run_tokens += double(B * steps);
      const double ep = epoch + double(k + 1) / double(nb);
      if (!o.quiet && o.log_every > 0 && res.steps % std::uint64_t(o.log_every) == 0)
        fmt::print(stderr, "[word_lm] step {} epoch {:.3f} train ppl {:.1f} ({})\n", res.steps, ep,
                   std::exp(run_nats / run_tokens), hms(seconds_since(t0)));
      res.epochs = ep;
      if (o.time_limit > 0 && seconds_since(t0) >= o.time_limit) {
        out_of_time = true;
        break;
      }
      if (o.eval_every > 0 && res.steps % std::uint64_t(o.eval_every) == 0 && k + 1 < nb) dev_eval(ep);
    }
    dev_eval(res.epochs);
  }
  res.seconds = seconds_since(t0);
  res.cpu_seconds = cpu_now() - cpu0;
  res.best_dev_ppl = best_dev;
  restore(params, best);
  const EvalResult test = evaluate_ppl(model, test_ids, std::size_t(o.eval_batch), T);
  res.test_ppl = test.perplexity;
  if (!o.quiet) {
    fmt::print("word LM (Brown): {} | {:.3f} epochs, {} steps, {} wall, {} CPU, {} thread(s)\n", model.describe(),
               res.epochs, res.steps, hms(res.seconds), hms(res.cpu_seconds), o.threads);
    fmt::print("best dev perplexity {:.2f}\ntest perplexity {:.2f} over {} tokens (KN trigram 157.6, PyTorch 2x512 "
               "127.2)\n",
               best_dev, test.perplexity, test.tokens);
  }
  return res;
}

EvalResult eval_word_lm(const WordLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  UNROLL_CHECK(!o.checkpoint.empty(), "word LM eval: no model file given (checkpoint is empty)");
  LoadedWordLm m = load_word_lm(o.checkpoint);
  const data::BrownCorpus corpus = load_corpus(o);
  const std::vector<std::int64_t> test_ids = first_tokens(data::brown_lm_stream(corpus.test, m.vocab), o.max_eval_tokens);
  const EvalResult r = evaluate_ppl(*m.model, test_ids, std::size_t(o.eval_batch), std::size_t(o.seq_len));
  if (!o.quiet)
    fmt::print("{}: test perplexity {:.2f} over {} tokens ({:.1f}s)\n", o.checkpoint, r.perplexity, r.tokens,
               r.seconds);
  return r;
}

}  // namespace unroll::word_lm
