// models/tagger/train.cc — presets, option checks, training, evaluation, prediction and model files for the Brown
// tagger (see train.h).
// Vocabularies from train: lower-cased words (every train word), characters of the words (case kept), the
// simplified tags. Training: length-bucketed shuffled batches of sentences; each train word seen once is fed to
// the word table as <unk> with probability unk_replace (its characters still go to the char BiLSTM), so the
// <unk> row and the char features learn what unknown words look like; loss = CE_pos + ner_weight·CE_ner over the
// real tokens; Adam (sparse rows on both embedding tables), global-norm clipping; dev evaluation every eval_every
// steps and at each epoch's end, the best dev model (POS accuracy + NER F1) is kept and saved, the lr decays when
// dev does not improve; training stops at the epoch count or the time limit. Test scores are the best dev model's.
#include "models/tagger/train.h"

#include "engine/check.h"
#include "engine/gemm.h"
#include "engine/ops.h"
#include "models/data/batching.h"
#include "models/data/tokenize.h"
#include "models/data/utf8.h"
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
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <unistd.h>

namespace unroll::tagger {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Before a log line: on a terminal, clear the progress bar's line (the next update redraws it).
const char* clear_bar() { return isatty(fileno(stderr)) ? "\r\033[K" : ""; }
std::string hms(double s) {
  const long t = long(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m{:02}s", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}
std::string stem_of(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / p.stem()).string();
}
void make_parent(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}
std::vector<Mat<float>> snapshot(const std::vector<NamedParam<float>>& params) {
  std::vector<Mat<float>> v;
  for (const auto& p : params) v.push_back(p.var.value());
  return v;
}
void restore(std::vector<NamedParam<float>>& params, const std::vector<Mat<float>>& v) {
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = v[i];
}
template <class V>
V first_n(const V& v, std::size_t n) {
  return n == 0 || v.size() <= n ? v : V(v.begin(), v.begin() + std::ptrdiff_t(n));
}

// Char ids of a word, long words cut to their first and last max_chars/2 characters; never empty.
std::vector<std::int64_t> word_chars(const data::CharVocab& chars, const std::string& word, int max_chars) {
  std::vector<std::int64_t> ids = chars.encode(word);
  if (ids.empty()) ids.push_back(data::Vocab::unk);
  const std::size_t m = std::size_t(std::max(max_chars, 2));
  if (ids.size() > m) {
    const std::size_t head = m / 2, tail = m - head;
    ids.erase(ids.begin() + std::ptrdiff_t(head), ids.end() - std::ptrdiff_t(tail));
  }
  return ids;
}

// Sentences (as words) -> one padded batch. replace(word_id) may turn a word id into <unk> (training).
template <class Replace>
TaggerInput make_input(const std::vector<const std::vector<std::string>*>& sents, const data::Vocab& words,
                       const data::CharVocab& chars, int max_word_chars, Replace&& replace) {
  TaggerInput in;
  in.B = sents.size();
  for (const auto* s : sents) in.T = std::max(in.T, s->size());
  in.word_ids.assign(in.B * in.T, data::Vocab::pad);
  in.token_word.assign(in.B * in.T, 0);
  in.lengths.resize(in.B);
  std::unordered_map<std::string, std::int64_t> seen;
  for (std::size_t b = 0; b < in.B; ++b) {
    const auto& s = *sents[b];
    in.lengths[b] = int(s.size());
    for (std::size_t t = 0; t < s.size(); ++t) {
      in.word_ids[b * in.T + t] = replace(words.id(data::to_lower_ascii(s[t])));
      auto [it, fresh] = seen.emplace(s[t], std::int64_t(in.words.size()));
      if (fresh) in.words.push_back(word_chars(chars, s[t], max_word_chars));
      in.token_word[b * in.T + t] = it->second;
    }
  }
  return in;
}

std::size_t argmax_row(const Mat<float>& m, std::size_t r) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < m.shape()[1]; ++j)
    if (m(r, j) > m(r, best)) best = j;
  return best;
}

// Index batches over sentences sorted by length (little padding), in the original order within a length.
std::vector<std::vector<std::size_t>> eval_batches(const std::vector<std::size_t>& lengths, std::size_t batch) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t lo = 0; lo < order.size(); lo += batch)
    out.emplace_back(order.begin() + std::ptrdiff_t(lo), order.begin() + std::ptrdiff_t(std::min(order.size(), lo + batch)));
  return out;
}

data::BrownCorpus load_corpus(const TaggerOptions& o) {
  return o.data_dir.empty() ? data::load_brown() : data::load_brown(o.data_dir);
}
}  // namespace

// ---- presets and checks --------------------------------------------------------------------------------
TaggerOptions preset_options(const std::string& name) {
  TaggerOptions o;
  if (name.empty() || name == "full") {
    o.eval_every = 500;
    o.max_dev_sentences = 1500;
    return o;
  }
  if (name == "demo") {  // a few minutes on a shared core: a slice of train, evaluated on slices of dev and test
    o.hidden = 64;
    o.word_embed = 64;
    o.epochs = 1;
    o.max_train_sentences = 8000;
    o.max_dev_sentences = 500;
    o.max_eval_sentences = 1000;
    o.time_limit = 180;
    o.eval_every = 50;  // 5 dev points in the one epoch: a learning curve, not a single dot
    o.checkpoint = "runs/tagger_demo.safetensors";
    return o;
  }
  if (name == "tiny") {  // tests: seconds
    o.word_embed = 16;
    o.char_embed = 8;
    o.char_hidden = 8;
    o.hidden = 16;
    o.dropout = 0;
    o.unk_replace = 0;
    o.batch = 4;
    o.epochs = 30;
    o.lr = 1e-2;
    o.lr_decay = 1.0;
    o.log_every = 0;
    o.checkpoint.clear();
    return o;
  }
  throw std::invalid_argument(fmt::format("tagger: unknown preset '{}' (expected demo, full or tiny)", name));
}

void validate(const TaggerOptions& o) {
  const auto fail = [](const std::string& m) { throw std::invalid_argument("tagger: " + m); };
  if (o.word_embed <= 0) fail(fmt::format("word_embed must be > 0, got {}", o.word_embed));
  if (o.char_embed <= 0) fail(fmt::format("char_embed must be > 0, got {}", o.char_embed));
  if (o.char_hidden <= 0) fail(fmt::format("char_hidden must be > 0, got {}", o.char_hidden));
  if (o.hidden <= 0) fail(fmt::format("hidden must be > 0, got {}", o.hidden));
  if (o.layers <= 0) fail(fmt::format("layers must be > 0, got {}", o.layers));
  if (!(o.dropout >= 0 && o.dropout < 1)) fail(fmt::format("dropout must be in [0, 1), got {}", o.dropout));
  if (!(o.unk_replace >= 0 && o.unk_replace <= 1)) fail(fmt::format("unk_replace must be in [0, 1], got {}", o.unk_replace));
  if (o.max_word_chars < 2) fail(fmt::format("max_word_chars must be >= 2, got {}", o.max_word_chars));
  if (o.batch <= 0) fail(fmt::format("batch must be > 0, got {}", o.batch));
  if (o.epochs <= 0) fail(fmt::format("epochs must be > 0, got {}", o.epochs));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) fail(fmt::format("lr must be > 0, got {}", o.lr));
  if (!(o.lr_decay > 0 && o.lr_decay <= 1)) fail(fmt::format("lr_decay must be in (0, 1], got {}", o.lr_decay));
  if (!(o.clip >= 0)) fail(fmt::format("clip must be >= 0 (0 = off), got {}", o.clip));
  if (!(o.ner_weight >= 0)) fail(fmt::format("ner_weight must be >= 0, got {}", o.ner_weight));
  if (!(o.time_limit >= 0)) fail(fmt::format("time_limit must be >= 0 (0 = none), got {}", o.time_limit));
  if (o.eval_every < 0) fail(fmt::format("eval_every must be >= 0, got {}", o.eval_every));
  if (o.log_every < 0) fail(fmt::format("log_every must be >= 0, got {}", o.log_every));
  if (o.threads <= 0) fail(fmt::format("threads must be > 0, got {}", o.threads));
}

// ---- evaluation and tagging ------------------------------------------------------------------------------
TagScores evaluate(TaggerModel<float>& model, const data::Vocab& words, const data::CharVocab& chars,
                   const data::LabelSet& tags, const std::vector<data::TaggedSentence>& sentences, int max_word_chars,
                   std::size_t batch) {
  const auto t0 = Clock::now();
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  std::vector<std::size_t> lengths;
  for (const auto& s : sentences) lengths.push_back(s.words.size());
  data::AccuracyCounts pos, pos_unk, ner_tok;
  data::SpanCounts spans;
  double loss_sum = 0;
  for (const auto& which : eval_batches(lengths, batch)) {
    std::vector<const std::vector<std::string>*> sents;
    for (std::size_t i : which) sents.push_back(&sentences[i].words);
    const TaggerInput in = make_input(sents, words, chars, max_word_chars, [](std::int64_t id) { return id; });
    const auto [pl, nl] = model.forward(in);
    std::vector<std::int64_t> pt(in.T * in.B, -100), nt(in.T * in.B, -100);
    for (std::size_t b = 0; b < in.B; ++b) {
      const auto& s = sentences[which[b]];
      const std::vector<int> gold_names = data::name_labels(s);
      std::vector<int> pred_names(s.words.size());
      for (std::size_t t = 0; t < s.words.size(); ++t) {
        const std::size_t r = t * in.B + b;
        const bool known_tag = tags.contains(s.tags[t]);
        const std::int64_t gold = known_tag ? tags.id(s.tags[t]) : -1;
        if (known_tag) pt[r] = gold;
        nt[r] = gold_names[t];
        const bool ok = std::int64_t(argmax_row(pl.value(), r)) == gold;
        pos.add(ok);
        if (in.word_ids[b * in.T + t] == data::Vocab::unk) pos_unk.add(ok);
        pred_names[t] = int(argmax_row(nl.value(), r));
        ner_tok.add(pred_names[t] == gold_names[t]);
      }
      spans.add(gold_names, pred_names);
    }
    const double n_pos = double(std::count_if(pt.begin(), pt.end(), [](std::int64_t v) { return v >= 0; }));
    const double n_ner = double(std::count_if(nt.begin(), nt.end(), [](std::int64_t v) { return v >= 0; }));
    loss_sum += double(cross_entropy(pl, pt).item()) * n_pos + double(cross_entropy(nl, nt).item()) * n_ner;
  }
  model.train(was_training);
  TagScores r;
  r.pos_acc = pos.value();
  r.pos_acc_unknown = pos_unk.value();
  r.unknown_tokens = pos_unk.total;
  r.ner_f1 = spans.f1();
  r.ner_precision = spans.precision();
  r.ner_recall = spans.recall();
  r.ner_token_acc = ner_tok.value();
  r.tokens = pos.total;
  r.sentences = sentences.size();
  r.loss = r.tokens ? loss_sum / double(r.tokens) : 0;
  r.seconds = seconds_since(t0);
  return r;
}

std::vector<TaggedText> tag_sentences(TaggerModel<float>& model, const data::Vocab& words, const data::CharVocab& chars,
                                      const data::LabelSet& tags, const std::vector<std::vector<std::string>>& sentences,
                                      int max_word_chars, std::size_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  std::vector<TaggedText> out(sentences.size());
  std::vector<std::size_t> lengths;
  for (const auto& s : sentences) lengths.push_back(s.size());
  for (const auto& which0 : eval_batches(lengths, batch)) {
    std::vector<std::size_t> which;
    for (std::size_t i : which0)
      if (!sentences[i].empty()) which.push_back(i);
    if (which.empty()) continue;
    std::vector<const std::vector<std::string>*> sents;
    for (std::size_t i : which) sents.push_back(&sentences[i]);
    const TaggerInput in = make_input(sents, words, chars, max_word_chars, [](std::int64_t id) { return id; });
    const auto [pl, nl] = model.forward(in);
    for (std::size_t b = 0; b < in.B; ++b) {
      TaggedText& tt = out[which[b]];
      tt.words = sentences[which[b]];
      for (std::size_t t = 0; t < tt.words.size(); ++t) {
        tt.tags.push_back(tags.label(std::int64_t(argmax_row(pl.value(), t * in.B + b))));
        tt.names.push_back(int(argmax_row(nl.value(), t * in.B + b)));
      }
    }
  }
  model.train(was_training);
  return out;
}

// ---- model files ---------------------------------------------------------------------------------------
// config = the model's; vocab = the word vocabulary; extra "chars" = the char vocabulary (JSON), "tags" = the
// tag set (JSON), "max_word_chars".
void save_tagger(const std::string& path, TaggerModel<float>& model, const data::Vocab& words,
                 const data::CharVocab& chars, const data::LabelSet& tags) {
  ModelInfo info;
  info.config = model.config().to_json();
  for (std::size_t id = 0; id < words.size(); ++id) info.vocab.push_back(words.token(std::int64_t(id)));
  info.extra["model"] = "tagger";
  info.extra["chars"] = chars.to_json().dump();
  info.extra["tags"] = tags.to_json().dump();
  make_parent(path);
  save_model<float>(path, model, info);
}

LoadedTagger load_tagger(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  if (info.extra.count("model") && info.extra.at("model") != "tagger")
    throw std::invalid_argument(fmt::format("{}: a {} model file, not a tagger one", path, info.extra.at("model")));
  TaggerConfig config;
  LoadedTagger out;
  try {
    config = TaggerConfig::from_json(info.config);
    if (!info.extra.count("chars") || !info.extra.count("tags"))
      throw std::invalid_argument("the metadata has no \"chars\" or \"tags\" entry");
    out.chars = data::CharVocab::from_json(nlohmann::json::parse(info.extra.at("chars")), "chars");
    out.tags = data::LabelSet::from_json(nlohmann::json::parse(info.extra.at("tags")), "tags");
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not a tagger model file: {}", path, e.what()));
  }
  for (std::size_t i = 0; i < info.vocab.size(); ++i) {
    if (i < data::Vocab::num_reserved) {
      if (info.vocab[i] != data::Vocab::reserved_names[i])
        throw std::invalid_argument(fmt::format("{}: vocabulary entry {} is '{}', expected '{}'", path, i,
                                                info.vocab[i], data::Vocab::reserved_names[i]));
      continue;
    }
    out.words.add(info.vocab[i]);
  }
  out.words.freeze();
  if (out.words.size() != std::size_t(config.word_vocab) || out.chars.size() != std::size_t(config.char_vocab) ||
      out.tags.size() != std::size_t(config.num_tags))
    throw std::invalid_argument(fmt::format("{}: config says {} words, {} chars, {} tags; the file lists {}, {}, {}",
                                            path, config.word_vocab, config.char_vocab, config.num_tags,
                                            out.words.size(), out.chars.size(), out.tags.size()));
  Rng rng(0);
  out.model = std::make_unique<TaggerModel<float>>(config, rng);
  load_model<float>(path, *out.model);
  out.model->eval();
  return out;
}

// ---- training ------------------------------------------------------------------------------------------
namespace {
void print_scores(const char* what, const TagScores& s) {
  fmt::print("{}: POS accuracy {:.4f} (unknown words {:.4f} over {} tokens) | NER span F1 {:.4f} (P {:.4f}, R {:.4f}, "
             "token acc {:.4f}) | {} sentences, {} tokens\n",
             what, s.pos_acc, s.pos_acc_unknown, s.unknown_tokens, s.ner_f1, s.ner_precision, s.ner_recall,
             s.ner_token_acc, s.sentences, s.tokens);
}
}  // namespace

TrainResult train_tagger(const TaggerOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  const auto t_setup = Clock::now();
  const data::BrownCorpus corpus = load_corpus(o);
  const std::vector<data::TaggedSentence> train = first_n(corpus.train, o.max_train_sentences);
  const std::vector<data::TaggedSentence> dev_during = first_n(corpus.dev, o.max_dev_sentences);
  UNROLL_CHECK(!train.empty() && !corpus.dev.empty(), "tagger: the corpus has {} train and {} dev sentences",
               train.size(), corpus.dev.size());

  // Vocabularies from the (used part of) train.
  data::Counter word_counts;
  std::string all_chars;
  data::LabelSet tags;
  for (const auto& s : train) {
    for (const auto& w : s.words) {
      word_counts.add(data::to_lower_ascii(w));
      all_chars += w;
    }
    for (const auto& t : s.tags) tags.add(t);
  }
  data::Vocab words = data::Vocab::build(word_counts);
  words.freeze();
  data::CharVocab chars = data::CharVocab::build(all_chars);
  chars.freeze();
  tags.freeze();
  std::vector<char> singleton(words.size(), 0);
  for (std::size_t id = data::Vocab::num_reserved; id < words.size(); ++id)
    singleton[id] = word_counts.count(words.token(std::int64_t(id))) == 1;

  TaggerConfig config;
  config.word_vocab = int(words.size());
  config.char_vocab = int(chars.size());
  config.num_tags = int(tags.size());
  config.word_embed = o.word_embed;
  config.char_embed = o.char_embed;
  config.char_hidden = o.char_hidden;
  config.hidden = o.hidden;
  config.layers = o.layers;
  config.dropout = o.dropout;
  Rng rng(o.seed);
  TaggerModel<float> model(config, rng);
  std::vector<NamedParam<float>> params = model.parameters();
  AdamOptions ao;
  ao.lr = o.lr;
  Adam<float> opt(params, ao);
  opt.set_sparse_rows("word_embedding.weight", true);
  opt.set_sparse_rows("char_embedding.weight", true);

  std::vector<std::size_t> lengths;
  std::size_t train_tokens = 0;
  for (const auto& s : train) lengths.push_back(s.words.size()), train_tokens += s.words.size();
  const auto plan_for = [&](std::size_t epoch) {
    data::BatchPlanOptions bo;
    bo.batch_size = std::size_t(o.batch);
    bo.seed = o.seed * 1000003 + epoch;
    bo.pool_batches = 50;
    return data::plan_batches(lengths, bo);
  };
  const std::size_t nb = plan_for(0).size();

  const std::string stem = o.checkpoint.empty() ? std::string() : stem_of(o.checkpoint);
  const std::string train_ckpt = stem.empty() ? std::string() : stem + ".train.safetensors";
  TrainResult res;
  res.train_tokens = train_tokens;
  res.checkpoint = o.checkpoint;
  std::uint64_t step = 0;
  std::size_t epoch = 0, k0 = 0;
  double best_dev = -1;
  if (o.resume) {
    UNROLL_CHECK(!train_ckpt.empty(), "tagger: --resume needs a checkpoint path");
    TrainingState<float> st = load_training_checkpoint<float>(
        train_ckpt, params, [&](const TrainingState<float>& s) {
          if (s.info.config != config.to_json())
            throw std::invalid_argument(fmt::format("tagger: {} was trained with config {}, these options give {}",
                                                    train_ckpt, s.info.config, config.to_json()));
          opt.load_state(s.optimizer_tensors, s.optimizer_meta);
        });
    const auto pos = nlohmann::json::parse(st.data_position);
    step = st.step;
    epoch = pos.at("epoch").get<std::size_t>();
    k0 = pos.at("batch").get<std::size_t>();
    best_dev = pos.value("best_dev", best_dev);
    if (!st.rng_state.empty()) rng.set_state(st.rng_state);
  }
  std::vector<Mat<float>> best = snapshot(params);

  if (!o.quiet) {
    fmt::print(stderr, "[tagger] {} | {} parameters | {} words, {} chars, {} tags | train {} sentences / {} tokens, "
                       "dev during training {} sentences | setup {:.1f}s\n",
               config.describe(), model.num_parameters(), words.size(), chars.size(), tags.size(), train.size(),
               train_tokens, dev_during.size(), seconds_since(t_setup));
    fmt::print(stderr, "[tagger] B={} ({} steps/epoch) Adam lr={} clip={} dropout={} unk_replace={} threads={} "
                       "time_limit={}{}\n",
               o.batch, nb, o.lr, o.clip, o.dropout, o.unk_replace, o.threads,
               o.time_limit > 0 ? hms(o.time_limit) : std::string("none"),
               o.resume ? fmt::format(" | resumed at step {} (epoch {}, batch {})", step, epoch, k0) : std::string());
  }
  std::ofstream curve_csv;
  if (!stem.empty()) {
    make_parent(o.checkpoint);
    curve_csv.open(stem + ".curve.csv", o.resume ? std::ios::app : std::ios::trunc);
    if (!o.resume) curve_csv << "step,epoch,train_loss,dev_loss,dev_pos_acc,dev_ner_f1,lr,seconds\n";
  }

  const auto t0 = Clock::now();
  const std::clock_t cpu0 = std::clock();
  double run_loss = 0, run_tokens = 0;

  const auto checkpoint_and_eval = [&](std::size_t next_epoch, std::size_t next_batch) {
    const TagScores dev = evaluate(model, words, chars, tags, dev_during, o.max_word_chars);
    const double score = dev.pos_acc + dev.ner_f1;
    const bool improved = score > best_dev;
    if (improved) {
      best_dev = score;
      best = snapshot(params);
      if (!o.checkpoint.empty()) save_tagger(o.checkpoint, model, words, chars, tags);
    } else {
      opt.set_lr(opt.lr() * o.lr_decay);
    }
    CurvePoint pt{step, double(next_epoch) + double(next_batch) / double(nb), run_tokens > 0 ? run_loss / run_tokens : 0,
                  dev.loss, dev.pos_acc, dev.ner_f1, opt.lr(), seconds_since(t0)};
    res.curve.push_back(pt);
    if (curve_csv.is_open())
      curve_csv << fmt::format("{},{:.4f},{:.5f},{:.5f},{:.5f},{:.5f},{:.6g},{:.1f}\n", pt.step, pt.epoch,
                               pt.train_loss, pt.dev_loss, pt.dev_pos_acc, pt.dev_ner_f1, pt.lr, pt.seconds)
                << std::flush;
    if (!stem.empty()) {
      PlotSeries tr{"train loss", {}, {}}, dv{"dev loss", {}, {}}, pa{"dev POS accuracy", {}, {}},
          nf{"dev NER span F1", {}, {}};
      for (const auto& p : res.curve) {
        tr.x.push_back(p.epoch), tr.y.push_back(p.train_loss);
        dv.x.push_back(p.epoch), dv.y.push_back(p.dev_loss);
        pa.x.push_back(p.epoch), pa.y.push_back(p.dev_pos_acc);
        nf.x.push_back(p.epoch), nf.y.push_back(p.dev_ner_f1);
      }
      PlotOptions po;
      po.title = fmt::format("Brown tagger: BiLSTM {}x{} + char BiLSTM {}", config.layers, config.hidden, config.char_hidden);
      po.x_label = "epoch";
      po.y_label = "loss (CE_pos + CE_ner per token)";
      write_file_atomic(stem + ".curve.svg", plot_svg({tr, dv}, po));
      po.y_label = "dev score";
      write_file_atomic(stem + ".scores.svg", plot_svg({pa, nf}, po));
    }
    if (!train_ckpt.empty()) {
      TrainingState<float> st;
      st.step = step;
      st.data_position = nlohmann::json{{"epoch", next_epoch}, {"batch", next_batch}, {"best_dev", best_dev}}.dump();
      st.rng_state = rng.state();
      st.optimizer_tensors = opt.state();
      st.optimizer_meta = opt.state_meta();
      st.info.config = config.to_json();
      save_training_checkpoint<float>(train_ckpt, params, st);
    }
    if (!o.quiet)
      fmt::print(stderr, "{}[tagger] step {} epoch {:.2f}: train loss {:.4f} | dev loss {:.4f}, POS {:.4f}, NER F1 {:.4f}{} "
                         "| lr {:.3g} | {} (eval {:.0f}s)\n",
                 clear_bar(), step, pt.epoch, pt.train_loss, dev.loss, dev.pos_acc, dev.ner_f1, improved ? " (best)" : "", opt.lr(),
                 hms(pt.seconds), dev.seconds);
    run_loss = run_tokens = 0;
  };

  std::unique_ptr<Progress> progress;
  const std::size_t total = std::size_t(o.epochs) * nb;
  if (!o.quiet && o.log_every > 0)
    progress = std::make_unique<Progress>(total - std::min<std::size_t>(step, total), std::size_t(o.log_every));
  model.train();
  std::vector<std::int64_t> pt, nt;
  for (; epoch < std::size_t(o.epochs) && !res.out_of_time; ++epoch, k0 = 0) {
    const auto plan = plan_for(epoch);
    for (std::size_t k = k0; k < plan.size(); ++k) {
      const auto& which = plan[k];
      std::vector<const std::vector<std::string>*> sents;
      for (std::size_t i : which) sents.push_back(&train[i].words);
      const TaggerInput in = make_input(sents, words, chars, o.max_word_chars, [&](std::int64_t id) {
        return o.unk_replace > 0 && singleton[std::size_t(id)] && rng.uniform() < o.unk_replace ? data::Vocab::unk : id;
      });
      pt.assign(in.T * in.B, -100);
      nt.assign(in.T * in.B, -100);
      for (std::size_t b = 0; b < in.B; ++b) {
        const auto& s = train[which[b]];
        for (std::size_t t = 0; t < s.words.size(); ++t) {
          pt[t * in.B + b] = tags.id(s.tags[t]);
          nt[t * in.B + b] = data::is_name_tag(s.tags[t]) ? 1 : 0;
        }
      }
      model.zero_grad();
      const auto [pl, nl] = model.forward(in, &rng);
      const Var<float> loss = add(cross_entropy(pl, pt), scale(cross_entropy(nl, nt), float(o.ner_weight)));
      loss.backward();
      if (o.clip > 0) clip_grad_norm_(params, o.clip);
      opt.step();
      ++step;
      std::size_t ntok = 0;
      for (int l : in.lengths) ntok += std::size_t(l);
      run_loss += double(loss.item()) * double(ntok), run_tokens += double(ntok);
      if (progress) progress->update(epoch + 1, double(loss.item()), ntok);
      if (o.time_limit > 0 && seconds_since(t0) >= o.time_limit) {
        res.out_of_time = true;
        checkpoint_and_eval(k + 1 == plan.size() ? epoch + 1 : epoch, k + 1 == plan.size() ? 0 : k + 1);
        res.epochs = double(epoch) + double(k + 1) / double(plan.size());
        break;
      }
      if (o.eval_every > 0 && step % std::uint64_t(o.eval_every) == 0 && k + 1 < plan.size())
        checkpoint_and_eval(epoch, k + 1);
    }
    if (!res.out_of_time) {
      checkpoint_and_eval(epoch + 1, 0);
      res.epochs = double(epoch + 1);
    }
  }
  if (progress) progress->finish();
  res.seconds = seconds_since(t0);
  res.cpu_seconds = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  res.steps = step;

  restore(params, best);
  model.eval();
  res.dev = evaluate(model, words, chars, tags, first_n(corpus.dev, o.max_eval_sentences), o.max_word_chars);
  res.test = evaluate(model, words, chars, tags, first_n(corpus.test, o.max_eval_sentences), o.max_word_chars);
  if (!o.quiet) {
    fmt::print("tagger {}: {} steps, {:.2f} epochs, {} of training ({} CPU) on {} thread(s){}\n", model.describe(),
               res.steps, res.epochs, hms(res.seconds), hms(res.cpu_seconds), o.threads,
               res.out_of_time ? " — stopped by the time limit" : "");
    print_scores("dev ", res.dev);
    print_scores("test", res.test);
    fmt::print("baselines (test): POS most-frequent tag 0.909, PyTorch BiLSTM reference 0.967 | NER span F1 "
               "most-frequent tag 0.859, PyTorch reference 0.887\n");
    if (!o.checkpoint.empty()) fmt::print("model file: {}\n", o.checkpoint);
  }
  return res;
}

// ---- evaluate and predict from a model file -------------------------------------------------------------
TagScores eval_tagger(const TaggerOptions& o) {
  validate(o);
  set_blas_threads(o.threads);
  LoadedTagger m = load_tagger(o.checkpoint);
  const data::BrownCorpus corpus = load_corpus(o);
  const TagScores r =
      evaluate(*m.model, m.words, m.chars, m.tags, first_n(corpus.test, o.max_eval_sentences), o.max_word_chars);
  if (!o.quiet) {
    print_scores(o.checkpoint.c_str(), r);
    fmt::print("baselines (test): POS 0.909 most-frequent tag, 0.967 PyTorch reference | NER span F1 0.859 "
               "most-frequent tag, 0.887 PyTorch reference\n");
  }
  return r;
}

std::vector<TaggedText> predict_tagger(const TaggerOptions& o) {
  validate(o);
  UNROLL_CHECK(!o.texts.empty(), "tagger predict: no sentence to tag");
  std::vector<std::vector<std::string>> sents;
  for (const auto& t : o.texts) {
    sents.push_back(data::split_whitespace(t));
    UNROLL_CHECK(!sents.back().empty(), "tagger predict: sentence {} of {} has no token", sents.size(), o.texts.size());
  }
  set_blas_threads(o.threads);
  LoadedTagger m = load_tagger(o.checkpoint);
  std::vector<TaggedText> out = tag_sentences(*m.model, m.words, m.chars, m.tags, sents, o.max_word_chars);
  if (!o.quiet)
    for (const auto& tt : out) {
      std::string line;
      for (std::size_t i = 0; i < tt.words.size(); ++i)
        line += fmt::format("{}{}/{}/{}", i ? " " : "", tt.words[i], tt.tags[i], tt.names[i] ? "NAME" : "O");
      fmt::print("{}\n", line);
    }
  return out;
}

}  // namespace unroll::tagger
