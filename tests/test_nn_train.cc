// tests/test_nn_train.cc — end-to-end: each layer type (with a Linear head, Adam from nn/optim.h) learns a
// delayed-echo task on variable-length batches — output at step t the symbol seen at step t-2 — to a loss
// below a threshold within a capped number of steps (PyTorch's C++ API test does the same for its RNNs).
#include "nn/linear.h"
#include "nn/optim.h"
#include "nn_test_helpers.h"

using namespace unroll;
using namespace unroll::nntest;

namespace {

constexpr std::size_t kDelay = 2;

struct Batch {
  std::vector<Var<float>> xs;                       // T × [B, V] one-hot (zeros at padding)
  std::vector<std::vector<std::int64_t>> targets;   // T × B (-100: nothing to predict)
  std::vector<int> lengths;
};

Batch make_batch(Rng& rng, std::size_t B, std::size_t T, std::size_t V) {
  Batch b;
  for (std::size_t i = 0; i < B; ++i) b.lengths.push_back(int(T / 2 + rng.below(T - T / 2 + 1)));
  std::vector<std::vector<std::int64_t>> sym(T, std::vector<std::int64_t>(B, -100));
  for (std::size_t t = 0; t < T; ++t) {
    Mat<float> x = zeros<float>(B, V);
    for (std::size_t i = 0; i < B; ++i)
      if (int(t) < b.lengths[i]) {
        sym[t][i] = std::int64_t(rng.below(V));
        x(i, std::size_t(sym[t][i])) = 1.0f;
      }
    b.xs.push_back(constant(x));
    b.targets.push_back(t < kDelay ? std::vector<std::int64_t>(B, -100) : sym[t - kDelay]);
    if (t >= kDelay)
      for (std::size_t i = 0; i < B; ++i)
        if (int(t) >= b.lengths[i]) b.targets[t][i] = -100;
  }
  return b;
}

}  // namespace

TEST_CASE_TEMPLATE("recurrent: learns a delayed echo on variable-length batches within 400 steps", L, RNN<float>,
                   LSTM<float>, GRU<float>) {
  const std::size_t V = 4, H = 16, B = 16, T = 8;
  Rng rng(2026);
  L rnn(cfg(int(V), int(H)), rng);
  Linear<float> head(int(H), int(V), rng);
  auto params = rnn.parameters();
  for (auto& p : head.parameters()) params.push_back({"head." + p.name, p.var});
  AdamOptions ao;
  ao.lr = 0.03;
  Adam<float> opt(params, ao);
  Rng data(7);
  double loss_value = 1e9;
  int step = 0;
  for (; step < 400 && loss_value > 0.02; ++step) {
    Batch b = make_batch(data, B, T, V);
    auto out = rnn.forward(b.xs, b.lengths);
    Var<float> total;
    std::size_t n = 0;
    for (std::size_t t = 0; t < T; ++t) {
      for (auto y : b.targets[t]) n += y >= 0;
      if (t < kDelay) continue;
      Var<float> l = cross_entropy(head(out.outputs[t]), b.targets[t], -100, Reduction::Sum);
      total = total.defined() ? total + l : l;
    }
    Var<float> loss = scale(total, 1.0f / float(n));
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_value = loss.item();
  }
  MESSAGE(rnn.describe() << ": loss " << loss_value << " after " << step << " steps");
  CHECK(loss_value <= 0.02);
  // Generalises: a fresh batch.
  NoGradGuard ng;
  Batch b = make_batch(data, B, T, V);
  auto out = rnn.forward(b.xs, b.lengths);
  std::size_t right = 0, total = 0;
  for (std::size_t t = kDelay; t < T; ++t) {
    Mat<float> logits = head(out.outputs[t]).value();
    for (std::size_t i = 0; i < B; ++i) {
      if (b.targets[t][i] < 0) continue;
      ++total;
      std::size_t best = 0;
      for (std::size_t k = 1; k < V; ++k)
        if (logits(i, k) > logits(i, best)) best = k;
      right += best == std::size_t(b.targets[t][i]);
    }
  }
  CHECK(double(right) >= 0.97 * double(total));  // a fresh batch is echoed (almost) exactly
}
