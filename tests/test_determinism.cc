// tests/test_determinism.cc — the same seed gives bitwise the same run (issue 8): a small LSTM language model
// (Embedding -> 2-layer LSTM with dropout between layers -> Dropout -> Linear) trained with Adam and gradient
// clipping on variable-length batches; every loss, every parameter, the optimizer state and text sampled from
// the trained model are compared bit for bit
//   - between two runs from the same seed,
//   - between a run that never stops and one saved with save_training_checkpoint at step N, loaded into a fresh
//     model + optimizer + Rng (built from another seed, so nothing leaks through) and continued.
// A run from another seed must differ (so the comparison can fail at all).
#include "engine/ops.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/recurrent.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using namespace unroll;
namespace fs = std::filesystem;

namespace {

constexpr int kVocab = 12, kEmbed = 8, kHidden = 16;
constexpr std::size_t kBatch = 4, kSteps = 6;
constexpr double kMaxNorm = 0.1;  // below the typical norm here (~0.3), so clipping fires

// The training stream: a fixed Markov chain over kVocab tokens (learnable, the same for every run).
std::vector<std::int64_t> make_stream(std::size_t n) {
  Rng g(20261123);
  std::vector<std::int64_t> s = {0};
  for (std::size_t i = 1; i < n; ++i) {
    const std::int64_t prev = s.back();
    s.push_back(g.uniform() < 0.7 ? (prev * 5 + 3) % kVocab : std::int64_t(g.below(kVocab)));
  }
  return s;
}

struct LM : Module<float> {
  Embedding<float> emb;
  LSTM<float> lstm;
  Dropout<float> drop{0.25};
  Linear<float> fc;

  static RecurrentConfig lstm_config() {
    RecurrentConfig c = recurrent_config(kEmbed, kHidden, 2);
    c.dropout = 0.3;
    return c;
  }
  explicit LM(Rng& init) : emb(kVocab, kEmbed, init), lstm(lstm_config(), init), fc(kHidden, kVocab, init) {}

  std::vector<NamedParam<float>> parameters() override {
    std::vector<NamedParam<float>> ps;
    add_child_params(ps, "emb", emb.parameters());
    add_child_params(ps, "lstm", lstm.parameters());
    add_child_params(ps, "fc", fc.parameters());
    return ps;
  }
  std::string describe() const override { return "LM"; }
  void train(bool on = true) override {
    Module<float>::train(on);
    emb.train(on);
    lstm.train(on);
    drop.train(on);
    fc.train(on);
  }
};

// Everything one training run owns. The data cursor and step are part of what a checkpoint must carry.
struct Run {
  Rng rng;                       // dropout masks and sampling
  LM model;
  Adam<float> adam;
  const std::vector<std::int64_t>& stream;
  std::uint64_t step = 0, cursor = 0;
  std::vector<float> losses;
  std::vector<double> norms;

  Run(std::uint64_t seed, const std::vector<std::int64_t>& s)
      : rng(seed), model(rng), adam(model.parameters(), AdamOptions{.lr = 0.01, .weight_decay = 1e-4}), stream(s) {}

  void train(std::size_t n) {
    const std::vector<std::size_t> lengths = {kSteps, 4, kSteps, 3};   // ragged: rows 1 and 3 are padded
    const std::vector<int> ilengths(lengths.begin(), lengths.end());
    for (std::size_t s = 0; s < n; ++s, ++step) {
      std::vector<Var<float>> xs;
      std::vector<std::vector<std::int64_t>> targets(kSteps, std::vector<std::int64_t>(kBatch, -100));
      for (std::size_t t = 0; t < kSteps; ++t) {
        std::vector<std::int64_t> ids(kBatch);
        for (std::size_t b = 0; b < kBatch; ++b) {
          const std::size_t off = (cursor + b * 97) % (stream.size() - kSteps - 1);
          ids[b] = stream[off + t];
          if (t < lengths[b]) targets[t][b] = stream[off + t + 1];
        }
        xs.push_back(model.emb(ids));
      }
      cursor = (cursor + kSteps) % stream.size();
      adam.zero_grad();
      RecurrentOutput<float> out = model.lstm.forward(xs, ilengths, {}, {}, &rng);
      std::vector<Var<float>> logits;
      for (auto& h : out.outputs) logits.push_back(model.fc(model.drop(h, rng)));
      Var<float> loss = sequence_cross_entropy(logits, targets, lengths);
      loss.backward();
      norms.push_back(clip_grad_norm_(model.parameters(), kMaxNorm));
      adam.step();
      losses.push_back(loss.item());
    }
  }

  // Samples n tokens from the model (eval mode, state carried step to step), drawing with rng.
  std::vector<std::int64_t> sample(std::size_t n) {
    NoGradGuard no_grad;
    model.eval();
    std::vector<std::int64_t> out = {1};
    auto state = model.lstm.initial_state(1);
    for (std::size_t i = 0; i < n; ++i) {
      Var<float> h = model.lstm.step(model.emb({out.back()}), state, &rng);
      Mat<float> p = softmax(model.fc(h)).value();
      double u = rng.uniform(), acc = 0;
      std::int64_t pick = kVocab - 1;
      for (int k = 0; k < kVocab; ++k)
        if (u < (acc += p(0, std::size_t(k)))) {
          pick = k;
          break;
        }
      out.push_back(pick);
    }
    model.train();
    return out;
  }

  TrainingState<float> training_state() const {
    TrainingState<float> st;
    st.step = step;
    st.data_position = std::to_string(cursor);
    st.rng_state = rng.state();
    st.optimizer_tensors = adam.state();
    st.optimizer_meta = adam.state_meta();
    return st;
  }
  void save(const std::string& path) { save_training_checkpoint<float>(path, model, training_state()); }
  void load(const std::string& path) {
    TrainingState<float> st = load_training_checkpoint<float>(
        path, model, [&](const TrainingState<float>& s) { adam.load_state(s.optimizer_tensors, s.optimizer_meta); });
    step = st.step;
    cursor = std::stoull(st.data_position);
    rng.set_state(st.rng_state);
  }
};

template <class T>
bool bitwise_equal(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}
template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Every parameter and every optimizer buffer of a and b, bit for bit (names must line up).
void check_same_state(Run& a, Run& b) {
  auto pa = a.model.parameters(), pb = b.model.parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CAPTURE(pa[i].name);
    CHECK(pa[i].name == pb[i].name);
    CHECK(bitwise_equal(pa[i].var.value(), pb[i].var.value()));
  }
  auto sa = a.adam.state(), sb = b.adam.state();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    CAPTURE(sa[i].first);
    CHECK(sa[i].first == sb[i].first);
    CHECK(bitwise_equal(sa[i].second, sb[i].second));
  }
  CHECK(a.adam.state_meta() == b.adam.state_meta());
  CHECK(a.rng.state() == b.rng.state());
  CHECK(a.step == b.step);
  CHECK(a.cursor == b.cursor);
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("unroll_determinism_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

constexpr std::size_t kTrain = 12, kResumeAt = 5, kSample = 20;

}  // namespace

TEST_CASE("determinism: the same seed gives bitwise the same losses, parameters, optimizer state and samples") {
  const auto stream = make_stream(600);
  Run a(7, stream), b(7, stream);
  a.train(kTrain);
  b.train(kTrain);
  CHECK(bitwise_equal(a.losses, b.losses));
  CHECK(bitwise_equal(a.norms, b.norms));
  check_same_state(a, b);
  const auto sa = a.sample(kSample), sb = b.sample(kSample);
  CHECK(sa == sb);
  CHECK(a.rng.state() == b.rng.state());
  // the run really trains, clipping really fires, dropout really draws: the comparison is not vacuous
  CHECK(a.losses.back() < a.losses.front());
  CHECK(*std::max_element(a.norms.begin(), a.norms.end()) > kMaxNorm);

  Run c(8, stream);
  c.train(kTrain);
  CHECK_FALSE(bitwise_equal(a.losses, c.losses));
  CHECK_FALSE(bitwise_equal(a.model.parameters()[0].var.value(), c.model.parameters()[0].var.value()));
}

TEST_CASE("determinism: save a training checkpoint at step N, load into a fresh run, continue = never stopping") {
  TempDir dir;
  const std::string path = (dir.path / "run.safetensors").string();
  const auto stream = make_stream(600);

  Run straight(7, stream);
  straight.train(kTrain);

  Run first(7, stream);
  first.train(kResumeAt);
  first.save(path);

  Run resumed(12345, stream);  // other weights, other Rng, empty optimizer: all must come from the file
  CHECK_FALSE(bitwise_equal(resumed.model.parameters()[0].var.value(), first.model.parameters()[0].var.value()));
  resumed.load(path);
  check_same_state(resumed, first);
  resumed.train(kTrain - kResumeAt);

  REQUIRE(resumed.losses.size() == kTrain - kResumeAt);
  const std::vector<float> tail(straight.losses.begin() + kResumeAt, straight.losses.end());
  CHECK(bitwise_equal(resumed.losses, tail));
  check_same_state(resumed, straight);

  // Resuming twice from the same file gives the same run again (loading does not depend on what was there).
  Run again(999, stream);
  again.load(path);
  again.train(kTrain - kResumeAt);
  check_same_state(again, straight);

  // and the trained models sample the same text from the same generator state
  const auto s = straight.sample(kSample);
  CHECK(resumed.sample(kSample) == s);
  CHECK(again.sample(kSample) == s);
  CHECK(resumed.rng.state() == straight.rng.state());
}
