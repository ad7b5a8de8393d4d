// models/char_lm/train.cc — presets, option checks, the truncated-BPTT training loop and the entry points.
// Training: the train split as one character stream cut into B columns (models/data/batching.h StreamBatches);
// each step runs T characters of every column, the LSTM state is carried to the next chunk and detached (so
// gradients flow back at most T steps); Adam or SGD; gradients clipped by global norm; dev bits/char every
// eval_every steps and at each epoch's end; the best dev model is kept (file and memory), the lr decays
// when dev does not improve; training stops at the epoch count or the time limit. The final test bits/char
// is the best dev model's.
#include "models/char_lm/train.h"

#include "engine/gemm.h"
#include "engine/ops.h"
#include "models/data/batching.h"
#include "models/data/fortunes.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/optim.h"
#include "nn/plot_svg.h"
#include "nn/progress.h"

#include <chrono>
#include <ctime>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace unroll::char_lm {

namespace {
constexpr double kLn2 = 0.69314718055994530942;
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string hms(double s) {
  const long t = long(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m{:02}s", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

// "runs/char_lm.safetensors" -> "runs/char_lm"
std::string stem_of(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / p.stem()).string();
}

void make_parent(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}

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

std::vector<Mat<float>> snapshot(const std::vector<NamedParam<float>>& params) {
  std::vector<Mat<float>> v;
  for (const auto& p : params) v.push_back(p.var.value());
  return v;
}
void restore(std::vector<NamedParam<float>>& params, const std::vector<Mat<float>>& v) {
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = v[i];
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
}

// ---- training ------------------------------------------------------------------------------------------
TrainResult train_char_lm(const CharLmOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const auto t_setup = Clock::now();
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

  CharLmConfig config;
  config.vocab_size = int(vocab.size());
  config.embed = o.embed;
  config.hidden = o.hidden;
  config.layers = o.layers;
  Rng rng(o.seed);
  CharLm<float> model(config, rng);
  std::vector<NamedParam<float>> params = model.parameters();
  if (!o.init_from.empty()) {
    const CharLmConfig from = CharLmConfig::from_json(read_model_info(o.init_from).config);
    UNROLL_CHECK(from.vocab_size == config.vocab_size && from.embed == config.embed && from.hidden == config.hidden &&
                     from.layers == config.layers,
                 "char LM: --init-from {} holds {}, this run builds {}", o.init_from, from.describe(), config.describe());
    load_model<float>(o.init_from, params);
  }
  std::unique_ptr<Optimizer<float>> opt;
  if (o.optimizer == "adam") {
    AdamOptions ao;
    ao.lr = o.lr;
    opt = std::make_unique<Adam<float>>(params, ao);
  } else {
    SGDOptions so;
    so.lr = o.lr;
    opt = std::make_unique<SGD<float>>(params, so);
  }

  const std::size_t B = std::size_t(o.batch), T = std::size_t(o.seq_len);
  const data::StreamBatches batches(train_ids, B, T);
  const std::size_t nb = batches.num_batches();
  const std::string stem = o.checkpoint.empty() ? std::string() : stem_of(o.checkpoint);
  const std::string train_ckpt = stem.empty() ? std::string() : stem + ".train.safetensors";

  TrainResult res;
  res.train_chars = train_ids.size();
  res.checkpoint = o.checkpoint;
  std::uint64_t step = 0;
  std::size_t epoch = 0, k0 = 0;
  double best_dev = std::numeric_limits<double>::infinity();
  if (o.resume) {
    UNROLL_CHECK(!train_ckpt.empty(), "char LM: --resume needs a checkpoint path");
    // The optimizer takes its state inside the check: if it refuses it, no weight has been written yet.
    TrainingState<float> st = load_training_checkpoint<float>(
        train_ckpt, params, [&](const TrainingState<float>& s) { opt->load_state(s.optimizer_tensors, s.optimizer_meta); });
    const auto pos = nlohmann::json::parse(st.data_position);
    step = st.step;
    epoch = pos.at("epoch").get<std::size_t>();
    k0 = pos.at("batch").get<std::size_t>();
    best_dev = pos.value("best_dev", best_dev);
    if (!st.rng_state.empty()) rng.set_state(st.rng_state);
    res.curve = {};
  }
  std::vector<Mat<float>> best = snapshot(params);

  if (!o.quiet) {
    fmt::print(stderr, "[char_lm] {} | {} parameters | vocab {} | train {} chars, dev {}, test {} | setup {:.1f}s\n",
               model.describe(), model.num_parameters(), vocab.size(), train_ids.size(), dev_text.size(),
               test_text.size(), seconds_since(t_setup));
    fmt::print(stderr, "[char_lm] B={} T={} ({} steps/epoch) {} lr={} clip={} threads={} time_limit={}\n", B, T, nb,
               o.optimizer, o.lr, o.clip, o.threads, o.time_limit > 0 ? hms(o.time_limit) : std::string("none"));
  }
  std::ofstream curve_csv;
  if (!stem.empty()) {
    make_parent(o.checkpoint);
    curve_csv.open(stem + ".curve.csv", o.resume ? std::ios::app : std::ios::trunc);
    if (!o.resume) curve_csv << "step,epoch,train_bpc,dev_bpc,lr,seconds\n";
  }

  const auto t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  double run_nats = 0, run_chars = 0, last_norm = 0;
  std::size_t clipped = 0;
  bool out_of_time = false;
  std::vector<std::int64_t> x, y, y_tm;

  // Dev evaluation, best-model bookkeeping, checkpoints and the learning curve.
  const auto checkpoint_and_eval = [&](std::size_t next_epoch, std::size_t next_batch) {
    model.eval();
    const EvalResult dev = evaluate_bits(model, vocab, dev_text, 64, 128);
    model.train();
    const double train_bpc = run_chars > 0 ? run_nats / run_chars / kLn2 : 0;
    const bool improved = dev.bits_per_char < best_dev;
    if (improved) {
      best_dev = dev.bits_per_char;
      best = snapshot(params);
      if (!o.checkpoint.empty()) save_char_lm(o.checkpoint, model, vocab);
    } else {
      opt->set_lr(opt->lr() * o.plateau_decay);
    }
    CurvePoint pt{step, double(epoch) + double(next_batch) / double(nb), train_bpc, dev.bits_per_char, opt->lr(),
                  seconds_since(t0)};
    if (next_epoch > epoch) pt.epoch = double(next_epoch);
    res.curve.push_back(pt);
    if (curve_csv.is_open())
      curve_csv << fmt::format("{},{:.4f},{:.5f},{:.5f},{:.6g},{:.1f}\n", pt.step, pt.epoch, pt.train_bpc, pt.dev_bpc,
                               pt.lr, pt.seconds)
                << std::flush;
    if (!stem.empty()) {  // the learning curve as a plot next to the checkpoint
      PlotSeries tr{"train", {}, {}}, dv{"dev", {}, {}};
      for (const auto& p : res.curve) {
        tr.x.push_back(p.epoch), tr.y.push_back(p.train_bpc);
        dv.x.push_back(p.epoch), dv.y.push_back(p.dev_bpc);
      }
      PlotOptions po;
      po.title = "char LM on fortunes: " + config.describe();
      po.x_label = "epoch";
      po.y_label = "bits per character";
      write_file_atomic(stem + ".curve.svg", plot_svg({tr, dv}, po));
    }
    if (!train_ckpt.empty()) {
      TrainingState<float> st;
      st.step = step;
      st.data_position = nlohmann::json{{"epoch", next_epoch}, {"batch", next_batch}, {"best_dev", best_dev}}.dump();
      st.rng_state = rng.state();
      st.optimizer_tensors = opt->state();
      st.optimizer_meta = opt->state_meta();
      st.info.config = config.to_json();
      save_training_checkpoint<float>(train_ckpt, params, st);
    }
    if (!o.quiet)
      fmt::print(stderr, "[char_lm] step {} epoch {:.2f}: train {:.4f} bpc, dev {:.4f} bpc{} | lr {:.3g} | {}\n", step,
                 pt.epoch, train_bpc, dev.bits_per_char, improved ? " (best)" : "", opt->lr(), hms(pt.seconds));
    run_nats = run_chars = 0;
  };

  std::unique_ptr<Progress> progress;
  if (!o.quiet && o.log_every > 0)
    progress = std::make_unique<Progress>(std::size_t(o.epochs) * nb - std::min<std::size_t>(step, std::size_t(o.epochs) * nb),
                                          std::size_t(o.log_every));
  model.train();
  for (; epoch < std::size_t(o.epochs) && !out_of_time; ++epoch, k0 = 0) {
    LstmState<float> state = model.zero_state(B);
    for (std::size_t k = k0; k < nb; ++k) {
      const std::size_t steps = batches.get(k, x, y);
      y_tm.resize(B * steps);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < steps; ++t) y_tm[t * B + b] = y[b * steps + t];
      model.zero_grad();
      const Var<float> logits = model.forward(x, B, steps, state);  // [T·B, V]
      const Var<float> loss = cross_entropy(logits, y_tm);           // mean nats per character
      loss.backward();
      last_norm = o.clip > 0 ? clip_grad_norm_(params, o.clip) : grad_norm(params);
      clipped += o.clip > 0 && last_norm > o.clip;
      opt->step();
      state = detach_state(state);  // truncated BPTT: the next chunk starts from this state, gradients stop here
      ++step;
      const double nats = double(loss.item()) * double(B * steps);
      run_nats += nats, run_chars += double(B * steps);
      const double elapsed = seconds_since(t0);
      if (progress) progress->update(epoch + 1, nats / double(B * steps) / kLn2, B * steps);  // loss in bits/char
      if (o.time_limit > 0 && elapsed >= o.time_limit) {
        out_of_time = true;
        checkpoint_and_eval(k + 1 == nb ? epoch + 1 : epoch, k + 1 == nb ? 0 : k + 1);
        res.epochs = double(epoch) + double(k + 1) / double(nb);
        break;
      }
      if (o.eval_every > 0 && step % std::uint64_t(o.eval_every) == 0 && k + 1 < nb)
        checkpoint_and_eval(epoch, k + 1);
    }
    if (!out_of_time) {
      checkpoint_and_eval(epoch + 1, 0);
      res.epochs = double(epoch + 1);
    }
  }
  if (progress) progress->finish();
  res.seconds = seconds_since(t0);
  res.cpu_seconds = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  res.steps = step;
  res.best_dev_bpc = best_dev;

  restore(params, best);
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
               model.describe(), res.steps, res.epochs, hms(res.seconds), hms(res.cpu_seconds), o.threads, clipped);
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
