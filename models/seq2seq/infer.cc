// models/seq2seq/infer.cc — what a trained seq2seq does: greedy and beam-search decoding, scoring, exact-match
// evaluation; model files (config + vocabulary in the checkpoint metadata).
#include "models/seq2seq/train.h"

#include "engine/check.h"
#include "engine/ops.h"
#include "models/data/utf8.h"
#include "nn/checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace unroll::seq2seq {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ln softmax of one row, in double (the same arithmetic for greedy and beam search).
std::vector<double> row_log_softmax(const Mat<float>& logits, std::size_t r) {
  const std::size_t V = logits.shape(1);
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, double(logits(r, v)));
  double s = 0;
  for (std::size_t v = 0; v < V; ++v) s += std::exp(double(logits(r, v)) - mx);
  const double lse = mx + std::log(s);
  std::vector<double> out(V);
  for (std::size_t v = 0; v < V; ++v) out[v] = double(logits(r, v)) - lse;
  return out;
}

// Tokens a decoder may emit: real characters and <eos> (never <pad>, <unk>, <bos>).
bool allowed(std::size_t v) { return v == std::size_t(data::Vocab::eos) || v >= data::Vocab::num_reserved; }

Mat<float> gather_rows(const Mat<float>& m, const std::vector<std::size_t>& rows) {
  Mat<float> out = zeros<float>(rows.size(), m.shape(1));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < m.shape(1); ++j) out(i, j) = m(rows[i], j);
  return out;
}
}  // namespace

// ---- model files ---------------------------------------------------------------------------------------
data::CharVocab build_vocab(const std::vector<data::DatePair>& pairs) {
  std::string text;
  for (const auto& p : pairs) {
    text += p.source;
    text += p.target;
  }
  data::CharVocab v = data::CharVocab::build(text);
  v.freeze();
  return v;
}

void save_seq2seq(const std::string& path, Seq2Seq<float>& model, const data::CharVocab& vocab) {
  ModelInfo info;
  info.config = model.config().to_json();
  for (auto name : data::Vocab::reserved_names) info.vocab.emplace_back(name);
  for (std::size_t id = data::Vocab::num_reserved; id < vocab.size(); ++id) {
    std::string s;
    data::utf8_append(s, vocab.code_point(std::int64_t(id)));
    info.vocab.push_back(std::move(s));
  }
  info.extra["model"] = "seq2seq";
  save_model<float>(path, model, info);
}

LoadedSeq2Seq load_seq2seq(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  Seq2SeqConfig config;
  try {
    config = Seq2SeqConfig::from_json(info.config);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not a seq2seq model file: {}", path, e.what()));
  }
  LoadedSeq2Seq out;
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
    const auto cps = data::utf8_decode(info.vocab[i]);
    if (cps.size() != 1)
      throw std::invalid_argument(
          fmt::format("{}: vocabulary entry {} '{}' is not one character", path, i, info.vocab[i]));
    out.vocab.add(cps[0]);
  }
  out.vocab.freeze();
  if (out.vocab.size() != std::size_t(config.vocab_size))
    throw std::invalid_argument(fmt::format("{}: config says vocab_size {}, the file lists {} tokens", path,
                                            config.vocab_size, out.vocab.size()));
  Rng rng(0);
  out.model = std::make_unique<Seq2Seq<float>>(config, rng);
  load_model<float>(path, *out.model);
  out.model->eval();
  return out;
}

// ---- decoding ------------------------------------------------------------------------------------------
std::vector<Hypothesis> greedy_decode(Seq2Seq<float>& model, const std::vector<std::vector<std::int64_t>>& sources,
                                      int max_len, std::size_t batch) {
  UNROLL_CHECK(max_len > 0 && batch > 0, "seq2seq greedy_decode: max_len and batch must be > 0, got {} and {}",
               max_len, batch);
  NoGradGuard no_grad;
  std::vector<Hypothesis> out(sources.size());
  for (std::size_t lo = 0; lo < sources.size(); lo += batch) {
    const std::size_t hi = std::min(sources.size(), lo + batch), B = hi - lo;
    const std::vector<std::vector<std::int64_t>> chunk(sources.begin() + long(lo), sources.begin() + long(hi));
    const Encoded<float> enc = model.encode(chunk);
    std::vector<CellState<float>> state = enc.init;
    std::vector<std::int64_t> prev(B, data::Vocab::bos);
    std::size_t live = B;
    for (int t = 0; t < max_len && live > 0; ++t) {
      const Var<float> logits = model.decode_step(prev, state, enc);
      for (std::size_t b = 0; b < B; ++b) {
        Hypothesis& h = out[lo + b];
        if (h.ended) continue;
        const std::vector<double> lp = row_log_softmax(logits.value(), b);
        std::size_t best = std::size_t(data::Vocab::eos);
        for (std::size_t v = 0; v < lp.size(); ++v)
          if (allowed(v) && lp[v] > lp[best]) best = v;
        h.log_prob += lp[best];
        if (best == std::size_t(data::Vocab::eos)) {
          h.ended = true;
          --live;
        } else {
          h.ids.push_back(std::int64_t(best));
        }
        prev[b] = std::int64_t(best);
      }
    }
  }
  return out;
}

Hypothesis beam_decode(Seq2Seq<float>& model, const std::vector<std::int64_t>& source, int beam, int max_len) {
  UNROLL_CHECK(beam > 0 && max_len > 0, "seq2seq beam_decode: beam and max_len must be > 0, got {} and {}", beam,
               max_len);
  NoGradGuard no_grad;
  const std::size_t K = std::size_t(beam);
  // The hypotheses are the rows of one batch: the source encoded K times.
  const Encoded<float> enc = model.encode(std::vector<std::vector<std::int64_t>>(K, source));
  std::vector<CellState<float>> state = enc.init;
  std::vector<Hypothesis> live(1), ended;
  struct Cand {
    double score;
    std::size_t parent;  // index into live; K = an ended hypothesis carried over
    std::size_t token;
    std::size_t ended_index;
  };
  for (int t = 0; t < max_len && !live.empty(); ++t) {
    std::vector<std::int64_t> prev(K, data::Vocab::bos);
    for (std::size_t i = 0; i < live.size(); ++i)
      prev[i] = live[i].ids.empty() ? data::Vocab::bos : live[i].ids.back();
    const Var<float> logits = model.decode_step(prev, state, enc);
    std::vector<Cand> cands;
    for (std::size_t e = 0; e < ended.size(); ++e) cands.push_back({ended[e].log_prob, K, 0, e});
    for (std::size_t i = 0; i < live.size(); ++i) {
      const std::vector<double> lp = row_log_softmax(logits.value(), i);
      for (std::size_t v = 0; v < lp.size(); ++v)
        if (allowed(v)) cands.push_back({live[i].log_prob + lp[v], i, v, 0});
    }
    // Best first; ties: ended before live, then lower parent, then lower token (greedy's lowest-id argmax).
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
    std::vector<Hypothesis> next_live, next_ended;
    std::vector<std::size_t> parents;
    for (std::size_t c = 0; c < cands.size() && c < K; ++c) {
      const Cand& cd = cands[c];
      if (cd.parent == K) {
        next_ended.push_back(ended[cd.ended_index]);
        continue;
      }
      Hypothesis h = live[cd.parent];
      h.log_prob = cd.score;
      if (cd.token == std::size_t(data::Vocab::eos)) {
        h.ended = true;
        next_ended.push_back(std::move(h));
      } else {
        h.ids.push_back(std::int64_t(cd.token));
        next_live.push_back(std::move(h));
        parents.push_back(cd.parent);
      }
    }
    live = std::move(next_live);
    ended = std::move(next_ended);
    if (live.empty()) break;
    parents.resize(K, parents.front());  // unused rows: copies
    for (auto& s : state) {
      s.h = constant(gather_rows(s.h.value(), parents));
      s.c = constant(gather_rows(s.c.value(), parents));
    }
  }
  const auto better = [](const Hypothesis& a, const Hypothesis& b) { return a.log_prob < b.log_prob; };
  if (!ended.empty()) return *std::max_element(ended.begin(), ended.end(), better);
  return *std::max_element(live.begin(), live.end(), better);
}

double score_pair(Seq2Seq<float>& model, const std::vector<std::int64_t>& source,
                  const std::vector<std::int64_t>& target) {
  NoGradGuard no_grad;
  std::vector<std::int64_t> tgt = target;
  tgt.push_back(data::Vocab::eos);
  const std::vector<Var<float>> logits = model.forward_teacher({source}, {tgt});
  double lp = 0;
  for (std::size_t t = 0; t < tgt.size(); ++t) lp += row_log_softmax(logits[t].value(), 0)[std::size_t(tgt[t])];
  return lp;
}

EvalResult evaluate(Seq2Seq<float>& model, const data::CharVocab& vocab, const std::vector<data::DatePair>& pairs,
                    int beam, int max_len) {
  const auto t0 = Clock::now();
  const bool was_training = model.training();
  model.eval();
  EvalResult r;
  r.n = pairs.size();
  r.beam = beam;
  std::vector<std::vector<std::int64_t>> sources;
  for (const auto& p : pairs) sources.push_back(vocab.encode(p.source));
  const std::vector<Hypothesis> greedy = greedy_decode(model, sources, max_len);
  std::size_t ok_g = 0, ok_b = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::string g = vocab.decode(greedy[i].ids);
    ok_g += g == pairs[i].target;
    if (beam > 0) {
      const std::string b = vocab.decode(beam_decode(model, sources[i], beam, max_len).ids);
      ok_b += b == pairs[i].target;
      if (b != pairs[i].target && r.errors.size() < 20) r.errors.emplace_back(pairs[i].source, b);
    } else if (g != pairs[i].target && r.errors.size() < 20) {
      r.errors.emplace_back(pairs[i].source, g);
    }
  }
  r.accuracy_greedy = pairs.empty() ? 0 : double(ok_g) / double(pairs.size());
  r.accuracy_beam = pairs.empty() || beam <= 0 ? 0 : double(ok_b) / double(pairs.size());
  r.seconds = seconds_since(t0);
  model.train(was_training);
  return r;
}

}  // namespace unroll::seq2seq
