// tools/bench/models.cc — the workloads of models.h: a sequence LM (charlm/gru/rnn/wordlm rows, train,
// forward-only and sampling) and a BiLSTM tagger (batch 1 and batch 32 with padding).
#include "tools/bench/models.h"

#include "engine/ops_rnn.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "nn/recurrent.h"
#include "tools/bench/fused_rnn.h"

#include <cmath>

namespace unroll::bench {

namespace {
using V = Var<float>;
using Ids = std::vector<std::int64_t>;

std::vector<NamedParam<float>> prefixed(Module<float>& m, const std::string& p) {
  std::vector<NamedParam<float>> out;
  for (auto& np : m.parameters()) out.push_back({p + np.name, np.var});
  return out;
}
void append(std::vector<NamedParam<float>>& a, std::vector<NamedParam<float>> b) {
  for (auto& x : b) a.push_back(std::move(x));
}
// rows t·B .. (t+1)·B of x as T Vars (the library layer takes per-step inputs)
std::vector<V> steps_of(const V& x, std::size_t T) {
  std::vector<V> xs;
  const std::size_t B = x.rows() / T;
  for (std::size_t t = 0; t < T; ++t) xs.push_back(T == 1 ? x : rows(x, t * B, (t + 1) * B));
  return xs;
}
double lstm_like_flops(CellKind k, double in, double H) {  // forward GEMM flops per token per direction
  const double G = (k == CellKind::LSTM ? 4 : k == CellKind::GRU ? 3 : 1) * H;
  return 2 * G * (in + H);
}

// ---- sequence LM: embedding -> recurrent layers -> linear -> cross-entropy --------------------------
struct LMConfig {
  CellKind kind = CellKind::LSTM;
  int V = 96, E = 64, H = 256, L = 2, B = 32, T = 64;
  bool adam = false;
  enum Mode { Train, Forward, Sample } mode = Train;
};

class SeqLM final : public Workload {
 public:
  SeqLM(const LMConfig& c, Impl impl, std::uint64_t seed)
      : c_(c), impl_(impl), rng_(seed), emb_(c.V, c.E, rng_),
        rnn_(c.kind, recurrent_config(c.E, c.H, c.L), rng_), out_(c.H, c.V, rng_) {
    std::vector<NamedParam<float>> ps = prefixed(emb_, "emb.");
    append(ps, prefixed(rnn_, "rnn."));
    append(ps, prefixed(out_, "out."));
    if (c.adam) {
      AdamOptions o;
      opt_ = std::make_unique<Adam<float>>(ps, o);
      opt_->set_sparse_rows("emb.weight", true);  // only the rows a batch uses (torch: sparse=True + SparseAdam)
    } else {
      SGDOptions o;
      o.lr = 0.1;
      opt_ = std::make_unique<SGD<float>>(ps, o);
    }
  }

  V loss_of(const Ids& ids, const Ids& targets, Impl impl) {
    V x_all = emb_.forward(ids);  // [T·B, E] time-major
    V h_all;
    if (impl == Impl::Fused) {
      h_all = fused_forward(rnn_, x_all, std::size_t(c_.T));
    } else {
      auto out = rnn_.forward(steps_of(x_all, std::size_t(c_.T)));
      h_all = concat_rows(out.outputs);
    }
    V logits = impl == Impl::Fused ? linear_fused(h_all, out_.weight(), out_.bias()) : out_.forward(h_all);
    return cross_entropy(logits, targets);
  }

  void batch(Ids& ids, Ids& targets) {
    const std::size_t n = std::size_t(c_.T) * std::size_t(c_.B);
    ids.resize(n);
    targets.resize(n);
    for (auto& v : ids) v = std::int64_t(rng_.below(std::uint64_t(c_.V)));
    for (auto& v : targets) v = std::int64_t(rng_.below(std::uint64_t(c_.V)));
  }

  double run() override {
    if (c_.mode == LMConfig::Sample) {
      sample();
      return c_.T;
    }
    Ids ids, targets;
    batch(ids, targets);
    if (c_.mode == LMConfig::Forward) {
      NoGradGuard ng;
      sink_ += loss_of(ids, targets, impl_).item();
    } else {
      opt_->zero_grad();
      V loss = loss_of(ids, targets, impl_);
      loss.backward();
      opt_->step();
    }
    return double(c_.T) * c_.B;
  }

  // batch 1, one step at a time through every layer, sampling the next token from the softmax
  void sample() {
    NoGradGuard ng;
    std::vector<CellState<float>> state = rnn_.initial_state(1);
    std::int64_t tok = 0;
    for (int t = 0; t < c_.T; ++t) {
      V x = emb_.forward({tok});
      V h = impl_ == Impl::Fused ? fused_step(rnn_, x, state) : rnn_.step(x, state);
      V logits = impl_ == Impl::Fused ? linear_fused(h, out_.weight(), out_.bias()) : out_.forward(h);
      V p = softmax(logits);
      double u = rng_.uniform(), acc = 0;
      tok = c_.V - 1;
      for (int k = 0; k < c_.V; ++k)
        if ((acc += p.value()(0, std::size_t(k))) > u) {
          tok = k;
          break;
        }
    }
  }

  double gemm_flops_per_token() const override {
    double f = 0;
    for (int l = 0; l < c_.L; ++l) f += lstm_like_flops(c_.kind, l == 0 ? c_.E : c_.H, c_.H);
    f += 2.0 * c_.H * c_.V;
    return f * (c_.mode == LMConfig::Train ? 3 : 1);
  }
  double check_same(Impl impl) override {
    Rng r(99);
    Ids ids(std::size_t(c_.T) * std::size_t(c_.B)), tg(ids.size());
    for (auto& v : ids) v = std::int64_t(r.below(std::uint64_t(c_.V)));
    for (auto& v : tg) v = std::int64_t(r.below(std::uint64_t(c_.V)));
    NoGradGuard ng;
    return loss_of(ids, tg, impl).item();
  }

 private:
  LMConfig c_;
  Impl impl_;
  Rng rng_;
  Embedding<float> emb_;
  Recurrent<float> rnn_;
  Linear<float> out_;
  std::unique_ptr<Optimizer<float>> opt_;
  double sink_ = 0;
};

// ---- BiLSTM tagger: embedding -> BiLSTM -> Linear(2H, 32) -> tanh -> Linear(32, K) -> cross-entropy ---
struct TaggerConfig {
  int V = 20000, E = 128, H = 50, M = 32, K = 5, B = 1;
  int sentences_per_unit = 9;  // batch 1: this many sentences (one Adam step each) per unit
};

// Sentence i's length: 5 .. 40, mean 22.5 (the same formula in torch_bench.py).
int sentence_length(std::uint64_t i) { return 5 + int((i * 37) % 36); }

class Tagger final : public Workload {
 public:
  Tagger(const TaggerConfig& c, Impl impl, std::uint64_t seed)
      : c_(c), impl_(impl), rng_(seed), emb_(c.V, c.E, rng_),
        rnn_(CellKind::LSTM, recurrent_config(c.E, c.H, 1, true), rng_), mlp_(2 * c.H, c.M, rng_),
        out_(c.M, c.K, rng_) {
    std::vector<NamedParam<float>> ps = prefixed(emb_, "emb.");
    append(ps, prefixed(rnn_, "rnn."));
    append(ps, prefixed(mlp_, "mlp."));
    append(ps, prefixed(out_, "out."));
    opt_ = std::make_unique<Adam<float>>(ps, AdamOptions{});
    opt_->set_sparse_rows("emb.weight", true);
  }

  // One batch: B sentences padded to the longest; returns the number of real words.
  V loss_of(std::size_t B, std::uint64_t first, Impl impl, double* words) {
    std::vector<int> lengths(B);
    std::size_t T = 0;
    for (std::size_t b = 0; b < B; ++b) {
      lengths[b] = sentence_length(first + b);
      T = std::max(T, std::size_t(lengths[b]));
    }
    Ids ids(T * B), tags(T * B);
    *words = 0;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t b = 0; b < B; ++b) {
        const bool real = int(t) < lengths[b];
        ids[t * B + b] = real ? std::int64_t(rng_.below(std::uint64_t(c_.V))) : 0;
        tags[t * B + b] = real ? std::int64_t(rng_.below(std::uint64_t(c_.K))) : -100;
        *words += real;
      }
    const std::vector<int> lens = B == 1 ? std::vector<int>{} : lengths;
    V x_all = emb_.forward(ids);
    V h_all;
    if (impl == Impl::Fused) {
      h_all = fused_forward(rnn_, x_all, T, lens);
      V hid = unroll::tanh(linear_fused(h_all, mlp_.weight(), mlp_.bias()));
      return cross_entropy(linear_fused(hid, out_.weight(), out_.bias()), tags);
    }
    auto out = rnn_.forward(steps_of(x_all, T), lens);
    h_all = concat_rows(out.outputs);
    return cross_entropy(out_.forward(unroll::tanh(mlp_.forward(h_all))), tags);
  }

  double run() override {
    const int n = c_.B == 1 ? c_.sentences_per_unit : 1;
    double words = 0;
    for (int s = 0; s < n; ++s) {
      double w = 0;
      opt_->zero_grad();
      V loss = loss_of(std::size_t(c_.B), next_, impl_, &w);
      next_ += std::uint64_t(c_.B);
      loss.backward();
      opt_->step();
      words += w;
    }
    return words;
  }
  double gemm_flops_per_token() const override {  // per real word (padding not counted)
    return 3 * (2 * lstm_like_flops(CellKind::LSTM, c_.E, c_.H) + 2.0 * 2 * c_.H * c_.M + 2.0 * c_.M * c_.K);
  }
  double check_same(Impl impl) override {
    Rng saved = rng_;
    double w = 0;
    NoGradGuard ng;
    double l = loss_of(std::size_t(c_.B), 1000, impl, &w).item();
    rng_ = saved;
    return l;
  }

 private:
  TaggerConfig c_;
  Impl impl_;
  Rng rng_;
  Embedding<float> emb_;
  Recurrent<float> rnn_;
  Linear<float> mlp_, out_;
  std::unique_ptr<Optimizer<float>> opt_;
  std::uint64_t next_ = 0;
};
}  // namespace

const std::vector<RowSpec>& all_rows() {
  static const std::vector<RowSpec> rows = {
      {"charlm-train", "char LM: V 96, E 64, LSTM 2x256, B 32, T 64, SGD"},
      {"charlm-adam", "charlm-train with Adam (sparse embedding rows) in place of SGD: Adam's cost"},
      {"charlm-fwd", "same, forward only (no graph)"},
      {"sample", "same model, batch 1, one step at a time (64 tokens per unit)"},
      {"gru-train", "charlm-train with GRU"},
      {"rnn-train", "charlm-train with tanh RNN"},
      {"wordlm-train", "word LM: V 10k, E 128, LSTM 1x256, B 16, T 32, Adam (sparse embedding rows)"},
      {"tagger-b1", "BiLSTM tagger: E 128, LSTM 50/dir, MLP 32, 5 tags, V 20k, batch 1, Adam"},
      {"tagger-b32", "same, batch 32 with padding (lengths 5..40)"},
  };
  return rows;
}

std::unique_ptr<Workload> make_workload(const std::string& row, Impl impl, std::uint64_t seed) {
  LMConfig c;
  if (row == "charlm-train") return std::make_unique<SeqLM>(c, impl, seed);
  if (row == "charlm-adam") {
    c.adam = true;
    return std::make_unique<SeqLM>(c, impl, seed);
  }
  if (row == "charlm-fwd") {
    c.mode = LMConfig::Forward;
    return std::make_unique<SeqLM>(c, impl, seed);
  }
  if (row == "sample") {
    c.mode = LMConfig::Sample;
    c.B = 1;
    return std::make_unique<SeqLM>(c, impl, seed);
  }
  if (row == "gru-train" || row == "rnn-train") {
    c.kind = row == "gru-train" ? CellKind::GRU : CellKind::RNN;
    return std::make_unique<SeqLM>(c, impl, seed);
  }
  if (row == "wordlm-train") {
    c.V = 10000;
    c.E = 128;
    c.H = 256;
    c.L = 1;
    c.B = 16;
    c.T = 32;
    c.adam = true;
    return std::make_unique<SeqLM>(c, impl, seed);
  }
  TaggerConfig t;
  if (row == "tagger-b1") return std::make_unique<Tagger>(t, impl, seed);
  if (row == "tagger-b32") {
    t.B = 32;
    return std::make_unique<Tagger>(t, impl, seed);
  }
  return nullptr;
}

}  // namespace unroll::bench
