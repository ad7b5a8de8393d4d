// models/sentiment/train.cc — presets, option checks, training over several seeds, evaluation, prediction and
// model files for the sentiment classifier (see train.h).
// Training, per seed: length-bucketed shuffled batches (models/data/batching.h), BCE with logits, Adam (sparse
// rows on the embedding table), gradients clipped by global norm; after every epoch dev accuracy, and the best
// dev epoch's weights (ties: lower dev loss) are kept; the seed's test accuracy is that model's. The mean and
// standard deviation over the seeds are the reported numbers (the PyTorch reference averages 5 seeds).
#include "models/sentiment/train.h"

#include "engine/check.h"
#include "engine/gemm.h"
#include "engine/ops.h"
#include "models/data/batching.h"
#include "models/data/sentiment.h"
#include "models/data/tokenize.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/optim.h"
#include "nn/plot_svg.h"
#include "nn/progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <unistd.h>

namespace unroll::sentiment {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Before a log line: on a terminal, clear the progress bar's line (the next update redraws it).
const char* clear_bar() { return isatty(fileno(stderr)) ? "\r\033[K" : ""; }

std::string stem_of(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / p.stem()).string();
}
void make_parent(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}
data::SentimentCorpus load_corpus(const SentimentOptions& o) {
  return o.data_dir.empty() ? data::load_sentiment() : data::load_sentiment(o.data_dir);
}
std::vector<Mat<float>> snapshot(const std::vector<NamedParam<float>>& params) {
  std::vector<Mat<float>> v;
  for (const auto& p : params) v.push_back(p.var.value());
  return v;
}
void restore(std::vector<NamedParam<float>>& params, const std::vector<Mat<float>>& v) {
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = v[i];
}
std::vector<int> int_lengths(const data::Batch& b) {
  std::vector<int> l(b.B);
  for (std::size_t i = 0; i < b.B; ++i) l[i] = int(b.lengths[i]);
  return l;
}
SentimentConfig config_of(const SentimentOptions& o, std::size_t vocab_size) {
  SentimentConfig c;
  c.vocab_size = int(vocab_size);
  c.embed = o.embed;
  c.hidden = o.hidden;
  c.layers = o.layers;
  c.bidirectional = o.bidirectional;
  c.pooling = o.pooling;
  c.dropout = o.dropout;
  c.embed_dropout = o.embed_dropout;
  return c;
}
}  // namespace

// ---- presets and checks --------------------------------------------------------------------------------
SentimentOptions preset_options(const std::string& name) {
  SentimentOptions o;
  if (name.empty() || name == "full") return o;
  if (name == "demo") {
    o.num_seeds = 2;
    o.epochs = 4;
    o.checkpoint = "runs/sentiment_demo.safetensors";
    return o;
  }
  if (name == "tiny") {  // tests: seconds
    o.word_dropout = 0;
    o.embed = 16;
    o.hidden = 16;
    o.dropout = 0;
    o.embed_dropout = 0;
    o.batch = 4;
    o.epochs = 30;
    o.lr = 1e-2;
    o.num_seeds = 1;
    o.log_every = 0;
    o.checkpoint.clear();
    return o;
  }
  throw std::invalid_argument(fmt::format("sentiment: unknown preset '{}' (expected demo, full or tiny)", name));
}

void validate(const SentimentOptions& o) {
  const auto fail = [](const std::string& m) { throw std::invalid_argument("sentiment: " + m); };
  if (o.embed <= 0) fail(fmt::format("embed must be > 0, got {}", o.embed));
  if (o.hidden <= 0) fail(fmt::format("hidden must be > 0, got {}", o.hidden));
  if (o.layers <= 0) fail(fmt::format("layers must be > 0, got {}", o.layers));
  if (o.pooling != "max" && o.pooling != "mean" && o.pooling != "last")
    fail(fmt::format("pooling must be max, mean or last, got '{}'", o.pooling));
  if (!(o.dropout >= 0 && o.dropout < 1)) fail(fmt::format("dropout must be in [0, 1), got {}", o.dropout));
  if (!(o.embed_dropout >= 0 && o.embed_dropout < 1))
    fail(fmt::format("embed_dropout must be in [0, 1), got {}", o.embed_dropout));
  if (!(o.word_dropout >= 0 && o.word_dropout < 1))
    fail(fmt::format("word_dropout must be in [0, 1), got {}", o.word_dropout));
  if (o.min_count <= 0) fail(fmt::format("min_count must be > 0, got {}", o.min_count));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (!(o.clip >= 0)) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (o.num_seeds <= 0) fail(fmt::format("num_seeds must be > 0, got {}", o.num_seeds));
  if (!(o.time_limit >= 0)) fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
  if (o.log_every < 0) fail(fmt::format("log_every must be >= 0, got {}", o.log_every));
}

// ---- building blocks -------------------------------------------------------------------------------------
std::vector<std::int64_t> encode_sentence(const data::Vocab& vocab, const std::string& text) {
  std::vector<std::int64_t> ids = vocab.encode(data::tokenize_sentiment(text));
  if (ids.empty()) ids.push_back(data::Vocab::unk);
  return ids;
}

std::vector<double> predict_probs(SentimentModel<float>& model, const std::vector<std::vector<std::int64_t>>& ids,
                                  std::size_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  std::vector<double> p(ids.size());
  std::vector<std::size_t> which;
  for (std::size_t lo = 0; lo < ids.size(); lo += batch) {
    which.clear();
    for (std::size_t i = lo; i < std::min(ids.size(), lo + batch); ++i) which.push_back(i);
    const data::Batch b = data::pad_batch(ids, which);
    const Var<float> logits = model.forward(b.ids, int_lengths(b), b.T);
    for (std::size_t r = 0; r < b.B; ++r) p[which[r]] = 1.0 / (1.0 + std::exp(-double(logits.value()(r, 0))));
  }
  model.train(was_training);
  return p;
}

EvalResult evaluate(SentimentModel<float>& model, const std::vector<std::vector<std::int64_t>>& ids,
                    const std::vector<int>& labels, std::size_t batch) {
  UNROLL_CHECK(ids.size() == labels.size(), "sentiment evaluate: {} sentences but {} labels", ids.size(),
               labels.size());
  const auto t0 = Clock::now();
  const std::vector<double> p = predict_probs(model, ids, batch);
  EvalResult r;
  r.items = ids.size();
  double loss = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    r.correct += int(p[i] > 0.5) == labels[i];
    const double q = std::clamp(labels[i] ? p[i] : 1 - p[i], 1e-12, 1.0);
    loss -= std::log(q);
  }
  r.accuracy = r.items ? double(r.correct) / double(r.items) : 0;
  r.loss = r.items ? loss / double(r.items) : 0;
  r.seconds = seconds_since(t0);
  return r;
}

void save_sentiment(const std::string& path, SentimentModel<float>& model, const data::Vocab& vocab) {
  ModelInfo info;
  info.config = model.config().to_json();
  for (std::size_t id = 0; id < vocab.size(); ++id) info.vocab.push_back(vocab.token(std::int64_t(id)));
  info.extra["model"] = "sentiment";
  make_parent(path);
  save_model<float>(path, model, info);
}

LoadedSentiment load_sentiment_model(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  if (info.extra.count("model") && info.extra.at("model") != "sentiment")
    throw std::invalid_argument(fmt::format("{}: a {} model file, not a sentiment one", path, info.extra.at("model")));
  SentimentConfig config;
  try {
    config = SentimentConfig::from_json(info.config);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not a sentiment model file: {}", path, e.what()));
  }
  LoadedSentiment out;
  if (info.vocab.size() < data::Vocab::num_reserved)
    throw std::invalid_argument(fmt::format("{}: vocabulary has {} entries, expected at least the {} reserved ids",
                                            path, info.vocab.size(), data::Vocab::num_reserved));
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
  out.model = std::make_unique<SentimentModel<float>>(config, rng);
  load_model<float>(path, *out.model);
  out.model->eval();
  return out;
}

// ---- training ------------------------------------------------------------------------------------------
TrainResult train_sentiment(const SentimentOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const data::SentimentCorpus corpus = load_corpus(o);
  UNROLL_CHECK(!corpus.train.empty() && !corpus.dev.empty(), "sentiment: the corpus has {} train and {} dev items",
               corpus.train.size(), corpus.dev.size());
  data::Counter counts;
  for (const auto& item : corpus.train) counts.add_all(data::tokenize_sentiment(item.text));
  data::Vocab vocab = data::Vocab::build(counts, {.min_count = o.min_count});
  vocab.freeze();
  const auto encode_split = [&](const std::vector<data::LabelledText>& items, std::vector<std::vector<std::int64_t>>& ids,
                                std::vector<int>& labels) {
    for (const auto& item : items) {
      ids.push_back(encode_sentence(vocab, item.text));
      labels.push_back(item.label);
    }
  };
  std::vector<std::vector<std::int64_t>> train_ids, dev_ids, test_ids;
  std::vector<int> train_y, dev_y, test_y;
  encode_split(corpus.train, train_ids, train_y);
  encode_split(corpus.dev, dev_ids, dev_y);
  encode_split(corpus.test, test_ids, test_y);
  std::vector<std::size_t> lengths;
  for (const auto& s : train_ids) lengths.push_back(s.size());

  const SentimentConfig config = config_of(o, vocab.size());
  const std::string stem = o.checkpoint.empty() ? std::string() : stem_of(o.checkpoint);
  TrainResult res;
  res.vocab_size = vocab.size();
  res.train_items = train_ids.size();
  res.test_items = test_ids.size();
  res.checkpoint = o.checkpoint;
  std::ofstream curve_csv;
  if (!stem.empty()) {
    make_parent(o.checkpoint);
    curve_csv.open(stem + ".curve.csv", std::ios::trunc);
    curve_csv << "seed,epoch,train_loss,train_acc,dev_loss,dev_acc,seconds\n";
  }
  if (!o.quiet)
    fmt::print(stderr, "[sentiment] {} | vocab {} | train {}, dev {}, test {} | {} seed(s) x {} epochs, B={}, Adam "
                       "lr={}, threads={}\n",
               config.describe(), vocab.size(), train_ids.size(), dev_ids.size(), test_ids.size(), o.num_seeds,
               o.epochs, o.batch, o.lr, o.threads);

  // Learning curves, rewritten after every epoch (so a stopped run still has them): <stem>.curve.svg = train and
  // dev loss per epoch, <stem>.scores.svg = train and dev accuracy; one line per seed.
  const auto write_plots = [&] {
    if (stem.empty()) return;
    std::vector<PlotSeries> losses, accs;
    std::vector<std::uint64_t> seeds;
    for (const auto& p : res.curve)
      if (seeds.empty() || seeds.back() != p.seed) seeds.push_back(p.seed);
    for (const std::uint64_t seed : seeds) {
      PlotSeries tl{fmt::format("train loss, seed {}", seed), {}, {}}, dl{fmt::format("dev loss, seed {}", seed), {}, {}};
      PlotSeries ta{fmt::format("train acc, seed {}", seed), {}, {}}, da{fmt::format("dev acc, seed {}", seed), {}, {}};
      for (const auto& p : res.curve)
        if (p.seed == seed) {
          tl.x.push_back(p.epoch), tl.y.push_back(p.train_loss), dl.x.push_back(p.epoch), dl.y.push_back(p.dev_loss);
          ta.x.push_back(p.epoch), ta.y.push_back(p.train_acc), da.x.push_back(p.epoch), da.y.push_back(p.dev_acc);
        }
      losses.push_back(tl), losses.push_back(dl), accs.push_back(ta), accs.push_back(da);
    }
    PlotOptions po;
    po.title = "sentiment: " + config.describe();
    po.x_label = "epoch";
    po.y_label = "loss (mean BCE, nats)";
    write_file_atomic(stem + ".curve.svg", plot_svg(losses, po));
    po.y_label = "accuracy";
    write_file_atomic(stem + ".scores.svg", plot_svg(accs, po));
  };

  // Progress on stderr (epoch, step, loss, tokens/s, ETA) over every seed's steps.
  std::unique_ptr<Progress> progress;
  if (!o.quiet && o.log_every > 0) {
    const std::size_t steps_per_epoch = (lengths.size() + std::size_t(o.batch) - 1) / std::size_t(o.batch);
    progress = std::make_unique<Progress>(std::size_t(o.num_seeds) * std::size_t(o.epochs) * steps_per_epoch,
                                          std::size_t(o.log_every));
  }

  const auto t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  std::vector<double> ens_dev(dev_ids.size(), 0.0), ens_test(test_ids.size(), 0.0);
  for (int si = 0; si < o.num_seeds && !res.out_of_time; ++si) {
    const std::uint64_t seed = o.seed + std::uint64_t(si);
    const auto ts = Clock::now();
    Rng rng(seed);
    SentimentModel<float> model(config, rng);
    std::vector<NamedParam<float>> params = model.parameters();
    AdamOptions ao;
    ao.lr = o.lr;
    Adam<float> opt(params, ao);
    opt.set_sparse_rows("embedding.weight", true);
    std::vector<Mat<float>> best = snapshot(params);
    double best_acc = -1, best_loss = std::numeric_limits<double>::infinity();
    int best_epoch = 0;
    model.train();
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
      data::BatchPlanOptions bo;
      bo.batch_size = std::size_t(o.batch);
      bo.seed = seed * 1000 + std::uint64_t(epoch);
      bo.pool_batches = 20;
      const auto plan = data::plan_batches(lengths, bo);
      double loss_sum = 0;
      std::size_t seen = 0, correct = 0;
      for (const auto& which : plan) {
        data::Batch b = data::pad_batch(train_ids, which);
        if (o.word_dropout > 0)
          for (std::size_t r = 0; r < b.B; ++r)
            for (std::size_t t = 0; t < std::size_t(b.lengths[r]); ++t)
              if (rng.uniform() < o.word_dropout) b.ids[r * b.T + t] = data::Vocab::unk;
        Mat<float> y = zeros<float>(b.B, 1);
        for (std::size_t r = 0; r < b.B; ++r) y(r, 0) = float(train_y[which[r]]);
        model.zero_grad();
        const Var<float> logits = model.forward(b.ids, int_lengths(b), b.T, &rng);
        const Var<float> loss = bce_with_logits(logits, y);
        loss.backward();
        if (o.clip > 0) clip_grad_norm_(params, o.clip);
        opt.step();
        loss_sum += double(loss.item()) * double(b.B);
        seen += b.B;
        if (progress) {
          std::size_t ntok = 0;
          for (std::size_t r = 0; r < b.B; ++r) ntok += std::size_t(b.lengths[r]);
          progress->update(std::size_t(epoch), double(loss.item()), ntok);
        }
        for (std::size_t r = 0; r < b.B; ++r) correct += (logits.value()(r, 0) > 0) == (y(r, 0) > 0.5f);
      }
      const EvalResult dev = evaluate(model, dev_ids, dev_y);
      model.train();
      CurvePoint pt{seed, epoch, loss_sum / double(seen), double(correct) / double(seen), dev.loss, dev.accuracy,
                    seconds_since(t0)};
      res.curve.push_back(pt);
      if (curve_csv.is_open())
        curve_csv << fmt::format("{},{},{:.5f},{:.4f},{:.5f},{:.4f},{:.1f}\n", seed, epoch, pt.train_loss,
                                 pt.train_acc, pt.dev_loss, pt.dev_acc, pt.seconds)
                  << std::flush;
      write_plots();
      const bool improved = dev.accuracy > best_acc || (dev.accuracy == best_acc && dev.loss < best_loss);
      if (improved) {
        best_acc = dev.accuracy, best_loss = dev.loss, best_epoch = epoch;
        best = snapshot(params);
      }
      if (!o.quiet)
        fmt::print(stderr, "{}[sentiment] seed {} epoch {}: train loss {:.4f} acc {:.3f} | dev loss {:.4f} acc {:.3f}{} | "
                           "{:.1f}s\n",
                   clear_bar(), seed, epoch, pt.train_loss, pt.train_acc, dev.loss, dev.accuracy, improved ? " (best)" : "",
                   pt.seconds);
      if (o.time_limit > 0 && seconds_since(t0) >= o.time_limit) {
        res.out_of_time = true;
        break;
      }
    }
    restore(params, best);
    model.eval();
    const EvalResult test = evaluate(model, test_ids, test_y);
    const std::vector<double> pd = predict_probs(model, dev_ids), pt = predict_probs(model, test_ids);
    for (std::size_t i = 0; i < pd.size(); ++i) ens_dev[i] += pd[i];
    for (std::size_t i = 0; i < pt.size(); ++i) ens_test[i] += pt[i];
    res.seeds.push_back({seed, best_epoch, best_acc, test.accuracy, seconds_since(ts)});
    if (!stem.empty())
      save_sentiment(si == 0 ? o.checkpoint : fmt::format("{}.seed{}.safetensors", stem, seed), model, vocab);
    if (!o.quiet)
      fmt::print(stderr, "{}[sentiment] seed {}: best dev acc {:.4f} at epoch {}, test acc {:.4f}\n", clear_bar(), seed, best_acc,
                 best_epoch, test.accuracy);
  }
  if (progress) progress->finish();
  res.seconds = seconds_since(t0);
  res.cpu_seconds = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const double n = double(res.seeds.size());
  for (const auto& s : res.seeds) res.mean_test_acc += s.test_acc / n, res.mean_dev_acc += s.dev_acc / n;
  for (const auto& s : res.seeds) res.std_test_acc += (s.test_acc - res.mean_test_acc) * (s.test_acc - res.mean_test_acc);
  res.std_test_acc = n > 1 ? std::sqrt(res.std_test_acc / (n - 1)) : 0;
  const auto vote = [&](const std::vector<double>& sum_p, const std::vector<int>& y) {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < y.size(); ++i) ok += int(sum_p[i] / n > 0.5) == y[i];
    return y.empty() ? 0.0 : double(ok) / double(y.size());
  };
  res.ensemble_dev_acc = vote(ens_dev, dev_y);
  res.ensemble_test_acc = vote(ens_test, test_y);

  if (!o.quiet) {
    fmt::print("sentiment {}: {} seed(s), {:.1f}s of training ({:.1f}s CPU) on {} thread(s){}\n", config.describe(),
               res.seeds.size(), res.seconds, res.cpu_seconds, o.threads,
               res.out_of_time ? " — stopped by the time limit" : "");
    fmt::print("{:>6}  {:>10}  {:>7}  {:>8}\n", "seed", "best epoch", "dev acc", "test acc");
    for (const auto& s : res.seeds)
      fmt::print("{:>6}  {:>10}  {:>7.4f}  {:>8.4f}\n", s.seed, s.best_epoch, s.dev_acc, s.test_acc);
    fmt::print("test accuracy: mean {:.4f} (std {:.4f}) over {} seed(s), {} test sentences; naive Bayes 0.820, PyTorch "
               "reference BiLSTM 0.755, PyTorch max-pooled BiLSTM 0.774\n",
               res.mean_test_acc, res.std_test_acc, res.seeds.size(), res.test_items);
    if (res.seeds.size() > 1)
      fmt::print("ensemble of the {} seeds (mean P(positive)): dev accuracy {:.4f}, test accuracy {:.4f}\n",
                 res.seeds.size(), res.ensemble_dev_acc, res.ensemble_test_acc);
    if (!o.checkpoint.empty()) fmt::print("model file: {}\n", o.checkpoint);
  }
  return res;
}

// ---- evaluate and predict from a model file -------------------------------------------------------------
EvalResult eval_sentiment(const SentimentOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  std::vector<std::string> files = {o.checkpoint};
  files.insert(files.end(), o.ensemble.begin(), o.ensemble.end());
  std::vector<LoadedSentiment> models;  // every file checked before the corpus is read
  for (const auto& file : files) models.push_back(load_sentiment_model(file));
  const data::SentimentCorpus corpus = load_corpus(o);
  const auto t0 = Clock::now();
  std::vector<double> sum_p(corpus.test.size(), 0.0);
  double mean_acc = 0;
  std::vector<int> labels;
  for (const auto& item : corpus.test) labels.push_back(item.label);
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    const std::string& file = files[fi];
    LoadedSentiment& m = models[fi];
    std::vector<std::vector<std::int64_t>> ids;
    for (const auto& item : corpus.test) ids.push_back(encode_sentence(m.vocab, item.text));
    const std::vector<double> p = predict_probs(*m.model, ids);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum_p[i] += p[i], ok += int(p[i] > 0.5) == labels[i];
    const double acc = p.empty() ? 0 : double(ok) / double(p.size());
    mean_acc += acc / double(files.size());
    if (!o.quiet && files.size() > 1) fmt::print("{}: test accuracy {:.4f}\n", file, acc);
  }
  EvalResult r;
  r.items = labels.size();
  double loss = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double p = sum_p[i] / double(files.size());
    r.correct += int(p > 0.5) == labels[i];
    loss -= std::log(std::clamp(labels[i] ? p : 1 - p, 1e-12, 1.0));
  }
  r.accuracy = r.items ? double(r.correct) / double(r.items) : 0;
  r.loss = r.items ? loss / double(r.items) : 0;
  r.seconds = seconds_since(t0);
  if (!o.quiet) {
    if (files.size() > 1)
      fmt::print("mean of the {} models' test accuracies: {:.4f}; their ensemble (mean P(positive)):\n", files.size(),
                 mean_acc);
    fmt::print("{}: test accuracy {:.4f} ({}/{}), mean BCE {:.4f}; naive Bayes 0.820, PyTorch reference 0.755\n",
               files.size() > 1 ? fmt::format("ensemble of {} models", files.size()) : o.checkpoint, r.accuracy,
               r.correct, r.items, r.loss);
  }
  return r;
}

std::vector<Prediction> predict_sentiment(const SentimentOptions& o) {
  validate(o);
  UNROLL_CHECK(!o.texts.empty(), "sentiment predict: no sentence to classify");
  set_blas_threads(o.threads);
  std::vector<std::string> files = {o.checkpoint};
  files.insert(files.end(), o.ensemble.begin(), o.ensemble.end());
  std::vector<double> p(o.texts.size(), 0.0);
  for (const auto& file : files) {
    LoadedSentiment m = load_sentiment_model(file);
    std::vector<std::vector<std::int64_t>> ids;
    for (const auto& t : o.texts) ids.push_back(encode_sentence(m.vocab, t));
    const std::vector<double> q = predict_probs(*m.model, ids);
    for (std::size_t i = 0; i < q.size(); ++i) p[i] += q[i] / double(files.size());
  }
  std::vector<Prediction> out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    out.push_back({o.texts[i], p[i], int(p[i] > 0.5)});
    if (!o.quiet)
      fmt::print("{}  P(positive) = {:.3f}  {}\n", out.back().label ? "positive" : "negative", p[i], o.texts[i]);
  }
  return out;
}

}  // namespace unroll::sentiment
