// models/seq2seq/infer.cc — what a trained seq2seq does: greedy and beam-search decoding, scoring, exact-match
// evaluation; model files (config + vocabulary in the checkpoint metadata).
#include "models/seq2seq/train.h"

#include "engine/check.h"
#include "engine/ops.h"
#include "models/common/model_file.h"
#include "models/common/model_vocab.h"
#include "models/common/next_token.h"
#include "models/common/stopwatch.h"
#include "nn/checkpoint.h"

#include <algorithm>

namespace unroll::seq2seq {

namespace {
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
  common::save_model_file(path, model, "seq2seq", common::vocab_entries(vocab));
}

LoadedSeq2Seq load_seq2seq(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  const Seq2SeqConfig config = Seq2SeqConfig::from_json(info.config, path);
  LoadedSeq2Seq out;
  out.vocab = common::char_vocab_from_entries(info.vocab, path, std::size_t(config.vocab_size));
  out.model = common::load_model_weights<Seq2Seq<float>>(path, config);
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
        const std::vector<double> lp = common::row_log_softmax(logits.value(), b);
        const std::size_t best = common::best_emittable(lp, /*eos=*/true);
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
      const std::vector<double> lp = common::row_log_softmax(logits.value(), i);
      for (std::size_t v = 0; v < lp.size(); ++v)
        if (common::emittable(v, /*eos=*/true)) cands.push_back({live[i].log_prob + lp[v], i, v, 0});
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
  for (std::size_t t = 0; t < tgt.size(); ++t) lp += common::row_log_softmax(logits[t].value(), 0)[std::size_t(tgt[t])];
  return lp;
}

EvalResult evaluate(Seq2Seq<float>& model, const data::CharVocab& vocab, const std::vector<data::DatePair>& pairs,
                    int beam, int max_len) {
  const common::Stopwatch clock;
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
  r.seconds = clock.wall_seconds();
  model.train(was_training);
  return r;
}

}  // namespace unroll::seq2seq
