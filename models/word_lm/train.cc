// models/word_lm/train.cc — presets, option checks, truncated-BPTT training, perplexity, model files.
// Training is the char LM's (models/char_lm/train.cc) over words, on the same shared pieces (models/common/):
// B stream columns, T steps per chunk, the LSTM state carried and detached, Adam, global-norm clipping, dev
// perplexity every eval_every steps and at each epoch's end, the best dev model kept (file and memory), the lr
// decayed when dev does not improve (plateau_decay, off by default), a training state for --resume and the
// learning curve next to the model file; stop at the epoch count or the time limit. Test perplexity is the best
// dev model's.
#include "models/word_lm/train.h"

#include "engine/check.h"
#include "engine/gemm.h"
#include "models/common/best_params.h"
#include "models/common/learning_curve.h"
#include "models/common/lstm_lm_stream.h"
#include "models/common/model_file.h"
#include "models/common/model_vocab.h"
#include "models/common/stopwatch.h"
#include "models/common/train_loop.h"
#include "models/common/train_state.h"
#include "models/data/batching.h"
#include "models/data/brown.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace unroll::word_lm {

namespace {
[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("word LM options: " + msg); }
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
  if (name == "full") {  // the measured run of the card: dropout 0.4, lr halved when dev does not improve
    o.time_limit = 0;
    o.dropout = 0.4;
    o.plateau_decay = 0.5;
    o.eval_every = 435;
    o.epochs = 14;
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
  if (!(o.dropout >= 0 && o.dropout < 1)) fail(fmt::format("dropout must be in [0, 1), got {}", o.dropout));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.seq_len <= 0) fail(fmt::format("seq_len must be > 0, got {}", o.seq_len));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (o.time_limit < 0 || !std::isfinite(o.time_limit))
    fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (!(o.plateau_decay > 0 && o.plateau_decay <= 1))
    fail(fmt::format("plateau_decay must be in (0, 1], got {}", o.plateau_decay));
  if (o.clip < 0) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (o.eval_every < 0 || o.log_every < 0) fail("eval_every and log_every must be >= 0");
  if (o.eval_batch <= 0) fail(fmt::format("eval_batch must be > 0, got {}", o.eval_batch));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
  if (o.resume && !o.init_from.empty()) fail("resume and init_from exclude each other (resume continues a run)");
}

// ---- model files ---------------------------------------------------------------------------------------
void save_word_lm(const std::string& path, WordLm<float>& model, const data::Vocab& vocab) {
  common::save_model_file(path, model, "word_lm", common::vocab_entries(vocab));
}

LoadedWordLm load_word_lm(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  const common::LstmLmConfig config = common::LstmLmConfig::from_json(info.config, common::LstmLmArch::words, path);
  LoadedWordLm out;
  out.vocab = common::word_vocab_from_entries(info.vocab, path, std::size_t(config.vocab_size));
  out.model = common::load_model_weights<WordLm<float>>(path, config);
  out.model->mask_unused_outputs();
  return out;
}

// ---- perplexity ----------------------------------------------------------------------------------------
EvalResult evaluate_ppl(WordLm<float>& model, const std::vector<std::int64_t>& stream, std::size_t B, std::size_t T) {
  const common::Stopwatch clock;
  const bool was_training = model.training();
  model.eval();
  std::vector<std::int64_t> ids{data::Vocab::eos};  // the context before the first sentence
  ids.insert(ids.end(), stream.begin(), stream.end());
  const common::StreamNats s = common::lm_stream_nats(model, ids, 1, B, T);
  model.train(was_training);
  EvalResult r;
  r.tokens = s.tokens;
  if (r.tokens == 0) return r;
  r.nats = s.nats;
  r.perplexity = std::exp(s.nats / double(r.tokens));
  r.seconds = clock.wall_seconds();
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
  auto config = common::LstmLmConfig::sized(common::LstmLmArch::words, int(vocab.size()), o.embed, o.hidden, o.layers);
  config.dropout = config.io_dropout = o.dropout;
  Rng rng(o.seed);
  WordLm<float> model(config, rng);
  const std::vector<NamedParam<float>> params = model.parameters();
  if (!o.init_from.empty()) {
    common::load_initial_weights(o.init_from, config, "word_lm", common::vocab_entries(vocab), params);
    model.mask_unused_outputs();
  }
  AdamOptions ao;
  ao.lr = o.lr;
  Adam<float> opt(params, ao);

  const std::size_t B = std::size_t(o.batch), T = std::size_t(o.seq_len);
  const data::StreamBatches batches(train_ids, B, T);
  const std::string train_state = common::train_state_path(o.checkpoint);
  common::LoopPlan plan{std::size_t(o.epochs), batches.num_batches(), std::size_t(o.eval_every), o.time_limit};
  common::BestParams best(params, common::Better::lower);
  if (o.resume) {
    best.set_best(common::resume_training(train_state, plan, params, opt, rng, best.best(), "word LM"));
    best.keep();  // the resumed weights until dev improves
  }
  if (!o.quiet)
    fmt::print(stderr, "[word_lm] {} ({} parameters) train {} tokens, dev {}, test {} | B={} T={} ({} steps/epoch) "
               "lr={} clip={} dropout={} threads={} time_limit={}\n",
               model.describe(), model.num_parameters(), train_ids.size(), dev_ids.size(), test_ids.size(), B, T,
               plan.batches, o.lr, o.clip, o.dropout, o.threads,
               o.time_limit > 0 ? common::hms(o.time_limit) : std::string("none"));
  common::LearningCurve curve(o.checkpoint,
                              {"train_ppl", "dev_ppl", "word LM on Brown: " + config.describe(), "perplexity"},
                              o.resume);
  TrainResult res;
  res.checkpoint = o.checkpoint;
  res.train_tokens = train_ids.size();
  res.test_tokens = test_ids.size();
  double run_nats = 0, run_tokens = 0;
  LstmState<float> state;
  common::LoopCallbacks cb;
  cb.begin_epoch = [&](std::size_t) { state = model.zero_state(B); };
  cb.step = [&](const common::LoopPosition& at) {
    const common::StepLoss l = common::lm_train_step(model, batches, at.batch, state, opt, params, o.clip, &rng);
    run_nats += l.nats;
    run_tokens += double(l.tokens);
    if (!o.quiet && o.log_every > 0 && (at.step + 1) % std::uint64_t(o.log_every) == 0)
      fmt::print(stderr, "[word_lm] step {} epoch {:.3f} train ppl {:.1f} ({})\n", at.step + 1,
                 double(at.epoch) + double(at.batch + 1) / double(plan.batches), std::exp(run_nats / run_tokens),
                 common::hms(at.seconds));
  };
  cb.evaluate = [&](const common::LoopPosition& at) {
    const double dev_ppl = evaluate_ppl(model, dev_ids, std::size_t(o.eval_batch), T).perplexity;
    const bool improved = best.offer(dev_ppl);
    if (improved && !o.checkpoint.empty()) save_word_lm(o.checkpoint, model, vocab);
    if (!improved) opt.set_lr(opt.lr() * o.plateau_decay);
    const common::CurveRow row{at.step, at.epochs_done, run_tokens > 0 ? std::exp(run_nats / run_tokens) : 0,
                               dev_ppl, opt.lr(), at.seconds};
    curve.add(row);
    res.curve.push_back({row.step, row.epoch, row.train, row.dev, row.lr, row.seconds});
    run_nats = run_tokens = 0;
    if (!train_state.empty())
      common::save_train_state(train_state, params, opt, rng, {at.step, at.epoch, at.batch, best.best()},
                               config.to_json());
    if (!o.quiet)
      fmt::print(stderr, "[word_lm] step {} epoch {:.2f}: train ppl {:.1f}, dev ppl {:.1f}{} | lr {:.3g} ({})\n",
                 at.step, at.epochs_done, row.train, dev_ppl, improved ? " (best)" : "", opt.lr(),
                 common::hms(at.seconds));
    return false;
  };
  model.train();
  const common::LoopResult loop = common::run_train_loop(plan, cb);
  res.steps = loop.steps;
  res.epochs = loop.epochs;
  res.seconds = loop.seconds;
  res.cpu_seconds = loop.cpu_seconds;
  res.best_dev_ppl = best.best();
  best.restore();
  const EvalResult test = evaluate_ppl(model, test_ids, std::size_t(o.eval_batch), T);
  res.test_ppl = test.perplexity;
  if (!o.quiet) {
    fmt::print("word LM (Brown): {} | {:.3f} epochs, {} steps, {} wall, {} CPU, {} thread(s)\n", model.describe(),
               res.epochs, res.steps, common::hms(res.seconds), common::hms(res.cpu_seconds), o.threads);
    fmt::print("best dev perplexity {:.2f}\ntest perplexity {:.2f} over {} tokens (KN trigram 157.6, PyTorch 2x512 "
               "127.2)\n",
               res.best_dev_ppl, test.perplexity, test.tokens);
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
