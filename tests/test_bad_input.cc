// tests/test_bad_input.cc — the bad-input suite (issue 8): API misuse across the ops, the modules, the losses,
// the optimizers, clipping, checkpoints and the data layer. Each case must throw the documented exception type
// (ShapeError for ops and modules, NumericError for numbers that cannot be used, CheckpointError for files,
// DataError for the data layer) whose message names the op or module, what was expected and what came.
// Nothing may abort or crash: the suite also runs under ASan+UBSan (tools/sanitize.sh).
#include "engine/ops.h"
#include "engine/gradcheck.h"
#include "engine/ops_rnn.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/recurrent.h"
#include "nn/safetensors.h"
#include "nn/tbptt.h"
#include "models/data/batching.h"
#include "models/data/common.h"
#include "models/data/vocab.h"

#include "tests/expect_error.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

using namespace unroll;
namespace fs = std::filesystem;


namespace {

Var<float> P(std::size_t r, std::size_t c, float v = 0.5f) { return parameter(full<float>(r, c, v)); }
Var<float> C(std::size_t r, std::size_t c, float v = 0.5f) { return constant(full<float>(r, c, v)); }

std::vector<Var<float>> steps(std::size_t T, std::size_t B, std::size_t in) {
  std::vector<Var<float>> xs;
  for (std::size_t t = 0; t < T; ++t) xs.push_back(C(B, in, 0.1f * float(t + 1)));
  return xs;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("unroll_bad_input_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

// ---- engine ops: every op family's shape check ----------------------------------------------------------

TEST_CASE("bad input: elementwise ops refuse different shapes and name both") {
  auto a = P(2, 3), b = P(3, 2);
  EXPECT_ERROR(ShapeError, add(a, b), "add:", "[2, 3]", "[3, 2]", "no implicit broadcasting");
  EXPECT_ERROR(ShapeError, sub(a, b), "sub:", "[2, 3]", "[3, 2]");
  EXPECT_ERROR(ShapeError, mul(a, b), "mul:", "[2, 3]", "[3, 2]");
  EXPECT_ERROR(ShapeError, div(a, b), "div:", "[2, 3]", "[3, 2]");
  // a row vector is not broadcast either
  EXPECT_ERROR(ShapeError, add(a, P(1, 3)), "add:", "[2, 3]", "[1, 3]");
  EXPECT_ERROR(ShapeError, mask(a, full<float>(3, 3, 1.0f)), "mask:", "[2, 3]", "[3, 3]");
}

TEST_CASE("bad input: undefined Vars are refused by name, not dereferenced") {
  Var<float> none;
  EXPECT_ERROR(ShapeError, add(none, P(1, 1)), "add:", "undefined Var");
  EXPECT_ERROR(ShapeError, unroll::tanh(none), "tanh:", "undefined");
  EXPECT_ERROR(ShapeError, matmul(none, P(1, 1)), "matmul:", "undefined");
  EXPECT_ERROR(ShapeError, sum(none), "sum:", "undefined");
  EXPECT_ERROR(ShapeError, log_softmax(none), "log_softmax:", "undefined");
  EXPECT_ERROR(ShapeError, cross_entropy(none, {0}), "cross_entropy:", "undefined");
  EXPECT_ERROR(ShapeError, none.backward(), "backward", "undefined Var");
  EXPECT_ERROR(ShapeError, none.item(), "item", "undefined Var");
  EXPECT_ERROR(ShapeError, detach(none), "detach", "undefined");
}

TEST_CASE("bad input: matmul, matmul_nt, add_bias and linear name both shapes") {
  EXPECT_ERROR(ShapeError, matmul(P(2, 3), P(4, 5)), "matmul:", "a is [2, 3]", "w is [4, 5]");
  EXPECT_ERROR(ShapeError, matmul_nt(P(2, 3), P(5, 4)), "matmul_nt:", "[2, 3]", "[5, 4]");
  EXPECT_ERROR(ShapeError, add_bias(P(2, 3), P(1, 4)), "add_bias:", "x is [2, 3]", "b is [1, 4]", "want");
  EXPECT_ERROR(ShapeError, add_bias(P(2, 3), P(2, 3)), "add_bias:", "b is [2, 3]");
  EXPECT_ERROR(ShapeError, linear(P(2, 3), P(4, 5), P(1, 4)), "linear:", "[2, 3]", "[4, 5]");
  EXPECT_ERROR(ShapeError, linear(P(2, 3), P(4, 3), P(1, 3)), "linear", "[1, 3]");
  EXPECT_ERROR(ShapeError, linear_fused(P(2, 3), P(4, 5), Var<float>()), "linear_fused", "[2, 3]", "[4, 5]");
}

TEST_CASE("bad input: slices, concatenation and split name the range or the mismatching input") {
  auto x = P(2, 3);
  EXPECT_ERROR(ShapeError, cols(x, 1, 4), "cols:", "[1, 4)", "[2, 3]");
  EXPECT_ERROR(ShapeError, cols(x, 2, 2), "cols:", "[2, 2)");
  EXPECT_ERROR(ShapeError, unroll::rows(x, 0, 3), "rows:", "[0, 3)", "[2, 3]");
  EXPECT_ERROR(ShapeError, concat_cols<float>({x, P(3, 3)}), "concat_cols:", "input 1 is [3, 3]", "input 0 is [2, 3]");
  EXPECT_ERROR(ShapeError, concat_rows<float>({x, P(2, 4)}), "concat_rows:", "input 1 is [2, 4]", "input 0 is [2, 3]");
  EXPECT_ERROR(ShapeError, concat_cols<float>({}), "concat_cols:", "no inputs");
  EXPECT_ERROR(ShapeError, split_rows(P(5, 2), 2), "split_rows:", "5 rows", "2");
  EXPECT_ERROR(ShapeError, split_rows(P(4, 2), 0), "split_rows:", "0");
}

TEST_CASE("bad input: embedding op refuses ids out of range, negative ids and no ids") {
  auto W = P(5, 3);
  EXPECT_ERROR(ShapeError, embedding(W, {0, 5}), "embedding:", "id 5", "position 1", "[0, 5)", "[5, 3]");
  EXPECT_ERROR(ShapeError, embedding(W, {-1}), "embedding:", "id -1", "[0, 5)");
  EXPECT_ERROR(ShapeError, embedding(W, {std::numeric_limits<std::int64_t>::max()}), "embedding:", "out of range");
  EXPECT_ERROR(ShapeError, embedding(W, {}), "embedding:", "no ids");
}

TEST_CASE("bad input: cross_entropy refuses target ids out of range and a wrong number of targets") {
  auto logits = P(2, 4);
  EXPECT_ERROR(ShapeError, cross_entropy(logits, {0, 4}), "cross_entropy:", "target 4", "row 1", "[0, 4)", "[2, 4]");
  EXPECT_ERROR(ShapeError, cross_entropy(logits, {-1, 0}), "cross_entropy:", "target -1", "row 0");
  EXPECT_ERROR(ShapeError, cross_entropy(logits, {0}), "cross_entropy:", "1 targets", "[2, 4]", "one per row");
  EXPECT_ERROR(ShapeError, cross_entropy(P(2, 0), {0, 0}), "cross_entropy:", "no columns");
  // -100 is the ignore index, not an error; any other negative id is
  CHECK_NOTHROW(cross_entropy(logits, {-100, 3}));
  EXPECT_ERROR(ShapeError, cross_entropy(logits, {-100, 3}, /*ignore_index=*/-1), "cross_entropy:", "target -100");
}

TEST_CASE("bad input: bce_with_logits and mse name both shapes; bce refuses targets outside [0, 1]") {
  EXPECT_ERROR(ShapeError, bce_with_logits(P(2, 3), full<float>(3, 2, 0.0f)), "bce_with_logits:", "[2, 3]", "[3, 2]");
  EXPECT_ERROR(ShapeError, bce_with_logits(P(1, 2), mat<float>({{0.0f, 2.0f}})), "bce_with_logits:", "target 2",
               "[0, 1]");
  EXPECT_ERROR(ShapeError, bce_with_logits(P(1, 1), full<float>(1, 1, std::nanf(""))), "bce_with_logits:", "nan");
  EXPECT_ERROR(ShapeError, mse(P(2, 3), C(2, 2)), "mse:", "prediction is [2, 3]", "target is [2, 2]");
}

TEST_CASE("bad input: reductions and softmax on empty values, backward and item on the wrong shape") {
  EXPECT_ERROR(ShapeError, mean(P(0, 3)), "mean:", "empty", "[0, 3]");
  EXPECT_ERROR(ShapeError, softmax(P(3, 0)), "softmax:", "no columns", "[3, 0]");
  auto y = mul(P(2, 2), P(2, 2));
  EXPECT_ERROR(ShapeError, y.backward(), "backward:", "[1, 1]", "[2, 2]");
  EXPECT_ERROR(ShapeError, y.backward(full<float>(2, 3, 1.0f)), "backward:", "seed is [2, 3]", "output is [2, 2]");
  EXPECT_ERROR(ShapeError, y.item(), "item:", "[1, 1]", "[2, 2]");
}

TEST_CASE("bad input: dropout refuses p outside 0 <= p < 1") {
  Rng rng(1);
  EXPECT_ERROR(ShapeError, dropout(P(2, 2), 1.0, rng), "dropout:", "[0, 1)", "got 1");
  EXPECT_ERROR(ShapeError, dropout(P(2, 2), -0.1, rng), "dropout:", "-0.1");
  EXPECT_ERROR(ShapeError, dropout(P(2, 2), std::nan(""), rng), "dropout:", "nan");
  EXPECT_ERROR(ShapeError, Dropout<float>(1.5), "Dropout:", "[0, 1)", "1.5");
}

TEST_CASE("bad input: fused recurrent gate ops check gate widths and state shapes") {
  // LSTM: z must be [B, 4H] for c [B, H]
  EXPECT_ERROR(ShapeError, lstm_gates(P(2, 12), P(2, 4)), "lstm", "[2, 12]", "[2, 4]");
  EXPECT_ERROR(ShapeError, lstm_gates(P(2, 16), P(2, 16), P(3, 4)), "lstm", "[3, 4]");
  EXPECT_ERROR(ShapeError, lstm_gates(P(2, 16), P(2, 12), P(2, 4)), "lstm", "[2, 12]");
  EXPECT_ERROR(ShapeError, gru_gates(P(2, 9), P(2, 9), P(2, 4)), "gru", "[2, 9]", "[2, 4]");
  EXPECT_ERROR(ShapeError, rnn_gates(P(2, 3), P(2, 4)), "rnn_gates:", "[2, 3]", "[2, 4]");
}

// ---- modules ------------------------------------------------------------------------------------------

TEST_CASE("bad input: Linear names itself, the expected in_features and the shape that came") {
  Rng rng(1);
  Linear<float> fc(3, 4, rng);
  EXPECT_ERROR(ShapeError, fc(P(2, 5)), "Linear(in_features=3, out_features=4", "[2, 5]", "[B, 3]");
  EXPECT_ERROR(ShapeError, fc(Var<float>()), "Linear(", "undefined");
  EXPECT_ERROR(ShapeError, Linear<float>(0, 4, rng), "Linear:", "in_features=0");
  EXPECT_ERROR(ShapeError, Linear<float>(3, -2, rng), "Linear:", "out_features=-2");
}

TEST_CASE("bad input: Embedding refuses token ids out of range, negative ids, no ids and a bad padding_idx") {
  Rng rng(1);
  Embedding<float> emb(10, 3, rng, 0);
  EXPECT_ERROR(ShapeError, emb({1, 10}), "Embedding(10, 3, padding_idx=0)", "id 10", "position 1", "[0, 10)");
  EXPECT_ERROR(ShapeError, emb({-3}), "Embedding(10, 3", "id -3", "[0, 10)");
  EXPECT_ERROR(ShapeError, emb({}), "Embedding(10, 3", "no ids");
  EXPECT_ERROR(ShapeError, Embedding<float>(10, 3, rng, 10), "Embedding:", "padding_idx 10", "[0, 10)");
  EXPECT_ERROR(ShapeError, Embedding<float>(0, 3, rng), "Embedding:", "num_embeddings=0");
}

TEST_CASE("bad input: recurrent layers refuse inputs of the wrong feature size, at any step") {
  Rng rng(1);
  LSTM<float> lstm(3, 4, rng);
  EXPECT_ERROR(ShapeError, lstm.forward(steps(2, 2, 5)), "LSTM(3, 4", "x[0] has shape [2, 5]", "expected [2, 3]");
  auto xs = steps(3, 2, 3);
  xs[2] = C(1, 3);  // batch size changes mid-sequence
  EXPECT_ERROR(ShapeError, lstm.forward(xs), "LSTM(3, 4", "x[2] has shape [1, 3]", "expected [2, 3]");
  xs[2] = Var<float>();
  EXPECT_ERROR(ShapeError, lstm.forward(xs), "LSTM(3, 4", "x[2] is an undefined Var");
}

TEST_CASE("bad input: recurrent layers refuse T = 0 steps and an empty batch") {
  Rng rng(1);
  GRU<float> gru(3, 4, rng);
  EXPECT_ERROR(ShapeError, gru.forward({}), "GRU(3, 4", "empty input sequence", "T = 0");
  EXPECT_ERROR(ShapeError, gru.forward(steps(2, 0, 3)), "GRU(3, 4", "empty batch", "[0, 3]", "B = 0");
  std::vector<CellState<float>> state = gru.initial_state(1);
  EXPECT_ERROR(ShapeError, gru.step(C(0, 3), state), "GRU(3, 4", "step", "[0, 3]", "B > 0");
}

TEST_CASE("bad input: recurrent lengths — negative, 0, longer than the sequence, wrong count") {
  Rng rng(1);
  RNN<float> rnn(3, 4, rng, 1, /*bidirectional=*/true);
  auto xs = steps(3, 2, 3);
  EXPECT_ERROR(ShapeError, rnn.forward(xs, {3, -1}), "RNN(3, 4", "lengths[1] = -1", "[1, 3]", "T = 3");
  EXPECT_ERROR(ShapeError, rnn.forward(xs, {0, 2}), "RNN(3, 4", "lengths[0] = 0", "[1, 3]");
  EXPECT_ERROR(ShapeError, rnn.forward(xs, {4, 2}), "RNN(3, 4", "lengths[0] = 4", "[1, 3]");
  EXPECT_ERROR(ShapeError, rnn.forward(xs, {3}), "RNN(3, 4", "1 lengths", "B = 2", "one length per row");
  EXPECT_ERROR(ShapeError, rnn.forward(xs, {3, 3, 3}), "RNN(3, 4", "3 lengths", "B = 2");
}

TEST_CASE("bad input: recurrent initial states — hidden-size mismatch, batch mismatch, wrong count, c0 on a GRU") {
  Rng rng(1);
  LSTM<float> lstm(3, 4, rng, /*num_layers=*/2);
  auto xs = steps(2, 2, 3);
  std::vector<Var<float>> h0 = {C(2, 4), C(2, 5)}, c0 = {C(2, 4), C(2, 4)};
  EXPECT_ERROR(ShapeError, lstm.forward(xs, {}, h0, c0), "LSTM(3, 4, num_layers=2", "h0[1] has shape [2, 5]",
               "expected [2, 4]");
  h0 = {C(2, 4), C(3, 4)};
  EXPECT_ERROR(ShapeError, lstm.forward(xs, {}, h0, c0), "h0[1] has shape [3, 4]", "expected [2, 4]");
  h0 = {C(2, 4)};
  EXPECT_ERROR(ShapeError, lstm.forward(xs, {}, h0, c0), "LSTM(3, 4", "h0 has 1 tensors", "expected 2");
  h0 = {C(2, 4), C(2, 4)};
  c0 = {C(2, 4), C(2, 3)};
  EXPECT_ERROR(ShapeError, lstm.forward(xs, {}, h0, c0), "LSTM(3, 4", "c0[1] has shape [2, 3]", "expected [2, 4]");
  GRU<float> gru(3, 4, rng);
  EXPECT_ERROR(ShapeError, gru.forward(xs, {}, {C(2, 4)}, {C(2, 4)}), "GRU(3, 4", "c0 given", "only an LSTM");
}

TEST_CASE("bad input: the step API — wrong state count, wrong hidden size, bidirectional") {
  Rng rng(1);
  LSTM<float> lstm(3, 4, rng, 2);
  auto state = lstm.initial_state(2);
  state.pop_back();
  EXPECT_ERROR(ShapeError, lstm.step(C(2, 3), state), "LSTM(3, 4, num_layers=2", "state has 1 entries", "expected 2");
  state = lstm.initial_state(2);
  state[0].h = C(2, 6);
  EXPECT_ERROR(ShapeError, lstm.step(C(2, 3), state), "LSTMCell(3, 4)", "h has shape [2, 6]", "expected [2, 4]");
  state = lstm.initial_state(2);
  state[1].c = Var<float>();
  EXPECT_ERROR(ShapeError, lstm.step(C(2, 3), state), "LSTMCell(4, 4)", "c is an undefined Var");
  state = lstm.initial_state(2);
  EXPECT_ERROR(ShapeError, lstm.step(C(2, 7), state), "LSTM(3, 4", "step: x has shape [2, 7]", "[B, 3]");
  LSTM<float> bi(3, 4, rng, 1, true);
  auto s2 = bi.initial_state(2);
  EXPECT_ERROR(ShapeError, bi.step(C(2, 3), s2), "LSTM(3, 4", "bidirectional");
}

TEST_CASE("bad input: cells check x and the state against their sizes") {
  Rng rng(1);
  GRUCell<float> cell(3, 4, rng);
  EXPECT_ERROR(ShapeError, cell(C(2, 5), cell.zero_state(2)), "GRUCell(3, 4)", "x has shape [2, 5]", "[B, 3]");
  EXPECT_ERROR(ShapeError, cell(C(2, 3), cell.zero_state(3)), "GRUCell(3, 4)", "h has shape [3, 4]", "expected [2, 4]");
  EXPECT_ERROR(ShapeError, RNNCell<float>(3, 0, rng), "RNNCell", "hidden_size=0");
}

TEST_CASE("bad input: recurrent configuration errors name the layer and the value") {
  Rng rng(1);
  EXPECT_ERROR(ShapeError, LSTM<float>(3, 0, rng), "LSTM:", "must be positive", "3, 0, 1");
  EXPECT_ERROR(ShapeError, GRU<float>(3, 4, rng, 0), "GRU:", "3, 4, 0");
  RecurrentConfig c = recurrent_config(3, 4, 2);
  c.dropout = 1.0;
  EXPECT_ERROR(ShapeError, LSTM<float>(c, rng), "LSTM:", "dropout", "[0, 1)", "got 1");
  c = recurrent_config(3, 4);
  c.forget_bias = 1.0;
  EXPECT_ERROR(ShapeError, GRU<float>(c, rng), "GRU:", "forget_bias", "LSTM option");
  c = recurrent_config(3, 4);
  c.nonlinearity = Nonlinearity::Relu;
  EXPECT_ERROR(ShapeError, LSTM<float>(c, rng), "LSTM:", "nonlinearity", "RNN option");
}

// ---- sequence losses and truncated BPTT -----------------------------------------------------------------

TEST_CASE("bad input: sequence losses — lengths longer than T, wrong counts, shapes changing over time") {
  std::vector<Var<float>> logits = {P(2, 5), P(2, 5), P(2, 5)};
  std::vector<std::vector<std::int64_t>> targets(3, std::vector<std::int64_t>{1, 2});
  EXPECT_ERROR(ShapeError, sequence_cross_entropy(logits, targets, {3, 4}), "sequence_cross_entropy",
               "length 4 of sequence 1", "longer than the 3 steps");
  EXPECT_ERROR(ShapeError, sequence_cross_entropy(logits, targets, {3}), "sequence_cross_entropy", "1 lengths",
               "batch of 2");
  targets.pop_back();
  EXPECT_ERROR(ShapeError, sequence_cross_entropy(logits, targets), "sequence_cross_entropy", "2 steps of targets",
               "3 steps of logits");
  targets.push_back({1, 5});
  EXPECT_ERROR(ShapeError, sequence_cross_entropy(logits, targets), "cross_entropy", "target 5", "[0, 5)");
  logits[1] = P(2, 4);
  targets.back() = {1, 2};
  EXPECT_ERROR(ShapeError, sequence_cross_entropy(logits, targets), "sequence_cross_entropy", "step 1 is [2, 4]",
               "expected [2, 5]");
  EXPECT_ERROR(ShapeError, sequence_cross_entropy<float>({}, {}), "sequence_cross_entropy", "no steps");
  std::vector<Var<float>> pred = {P(2, 3)}, tgt = {C(3, 3)};
  EXPECT_ERROR(ShapeError, sequence_mse(pred, tgt), "sequence_mse", "[3, 3]", "[2, 3]");
  // length 0 is allowed in a loss (a sequence with nothing to score) and adds nothing
  CHECK_NOTHROW(sequence_mse(pred, {C(2, 3)}, {0, 1}));
}

TEST_CASE("bad input: tbptt refuses k = 0, a missing chunk function and a state that changes size") {
  EXPECT_ERROR(ShapeError, tbptt_chunks(10, 0), "tbptt", "k must be >= 1");
  EXPECT_ERROR(ShapeError, tbptt<float>(4, 2, {C(1, 2)}, ChunkFn<float>{}), "tbptt", "no chunk function");
  ChunkFn<float> grows = [](std::size_t, std::size_t, const std::vector<Var<float>>& s) {
    ChunkOutput<float> out;
    out.state = s;
    out.state.push_back(C(1, 2));
    return out;
  };
  EXPECT_ERROR(ShapeError, tbptt<float>(4, 2, {C(1, 2)}, grows), "tbptt", "state");
}

// ---- optimizers and clipping ----------------------------------------------------------------------------

TEST_CASE("bad input: optimizers refuse a negative or non-finite learning rate and bad hyperparameters") {
  std::vector<NamedParam<float>> ps = {{"w", P(2, 2)}};
  EXPECT_ERROR(ShapeError, SGD<float>(ps, {.lr = -0.1}), "optimizer:", "learning rate", ">= 0", "-0.1");
  EXPECT_ERROR(ShapeError, Adam<float>(ps, {.lr = std::nan("")}), "optimizer:", "learning rate", "nan");
  EXPECT_ERROR(ShapeError, Adagrad<float>(ps, {.lr = -std::numeric_limits<double>::infinity()}), "learning rate",
               "-inf");
  Adam<float> adam(ps);
  EXPECT_ERROR(ShapeError, adam.set_lr(-1.0), "Adam.set_lr:", "learning rate", "-1");
  CHECK(adam.lr() == doctest::Approx(0.001));  // unchanged
  EXPECT_ERROR(ShapeError, Adam<float>(ps, {.beta1 = 1.0}), "Adam:", "betas", "[0, 1)", "(1, 0.999)");
  EXPECT_ERROR(ShapeError, SGD<float>(ps, {.lr = 0.1, .nesterov = true}), "SGD:", "nesterov needs momentum > 0", "got momentum 0");
  EXPECT_ERROR(ShapeError, RMSprop<float>(ps, {.alpha = 1.5}), "RMSprop:", "alpha 1.5", "[0, 1]");
  EXPECT_ERROR(ShapeError, SGD<float>({{"w", P(1, 1)}, {"w", P(1, 1)}}), "optimizer:", "'w' appears twice");
  EXPECT_ERROR(ShapeError, SGD<float>({{"w", Var<float>()}}), "optimizer:", "'w'", "undefined");
  EXPECT_ERROR(ShapeError, adam.set_sparse_rows("nope", true), "Adam", "no parameter named 'nope'");
}

TEST_CASE("bad input: an optimizer refuses a gradient of the wrong shape and leaves the weights alone") {
  auto w = P(2, 3, 1.0f);
  SGD<float> sgd({{"fc.weight", w}}, {.lr = 0.1});
  w.grad() = full<float>(3, 2, 1.0f);
  EXPECT_ERROR(ShapeError, sgd.step(), "SGD.step:", "'fc.weight'", "[3, 2]", "[2, 3]");
  CHECK(w.value() == full<float>(2, 3, 1.0f));
  CHECK(sgd.steps() == 0);
}

TEST_CASE("bad input: optimizer load_state refuses state of another optimizer, shape or parameter") {
  auto w = P(2, 3, 1.0f);
  Adam<float> adam({{"w", w}});
  w.grad() = full<float>(2, 3, 0.5f);
  adam.step();
  auto tensors = adam.state();
  auto meta = adam.state_meta();

  auto w2 = P(2, 3, 1.0f);
  SGD<float> sgd({{"w", w2}}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_ERROR(ShapeError, sgd.load_state(tensors, meta), "SGD.load_state:", "saved by a Adam");

  auto w3 = P(3, 3, 1.0f);
  Adam<float> other({{"w", w3}});
  EXPECT_ERROR(ShapeError, other.load_state(tensors, meta), "Adam.load_state:", "[2, 3]", "[3, 3]", "'w'");

  Adam<float> fresh({{"w", P(2, 3)}});
  auto bad = tensors;
  bad[0].first = "exp_avg.nope";
  EXPECT_ERROR(ShapeError, fresh.load_state(bad, meta), "Adam.load_state:", "exp_avg.nope");
  auto bad_meta = meta;
  bad_meta["lr"] = "-1";
  EXPECT_ERROR(ShapeError, fresh.load_state(tensors, bad_meta), "Adam.load_state:", "-1");
  bad_meta = meta;
  bad_meta.erase("type");
  EXPECT_ERROR(ShapeError, fresh.load_state(tensors, bad_meta), "Adam.load_state:", "'type'", "missing");
  CHECK(fresh.steps() == 0);  // all-or-nothing: nothing was restored
}

TEST_CASE("bad input: clipping refuses negative limits and a zero norm type") {
  std::vector<NamedParam<float>> ps = {{"w", P(1, 2)}};
  EXPECT_ERROR(ShapeError, clip_grad_norm_(ps, -1.0), "clip_grad_norm_:", "max_norm", ">= 0", "-1");
  EXPECT_ERROR(ShapeError, clip_grad_value_(ps, -0.5), "clip_grad_value_:", "clip_value", "-0.5");
  EXPECT_ERROR(ShapeError, grad_norm(ps, 0.0), "grad_norm:", "norm_type", "> 0", "got 0");
}

// ---- checkpoints: loading weights of the wrong shape ----------------------------------------------------

TEST_CASE("bad input: loading weights of the wrong shape names the tensor and both shapes, changes nothing") {
  TempDir dir;
  const std::string path = (dir.path / "lstm.safetensors").string();
  Rng rng(1);
  LSTM<float> small(3, 4, rng);
  save_model(path, small);
  LSTM<float> big(3, 5, rng);
  auto before = big.parameters()[0].var.value();
  EXPECT_ERROR(CheckpointError, load_model(path, big), "lstm.safetensors", "weight_ih_l0", "[16, 3]", "[20, 3]");
  CHECK(big.parameters()[0].var.value() == before);

  LSTM<float> deeper(3, 4, rng, 2);
  EXPECT_ERROR(CheckpointError, load_model(path, deeper), "lstm.safetensors", "weight_ih_l1", "missing");
  GRU<float> gru(3, 4, rng);
  EXPECT_ERROR(CheckpointError, load_model(path, gru), "weight_ih_l0", "[12, 3]", "[16, 3]");
  EXPECT_ERROR(CheckpointError, load_model((dir.path / "nope.safetensors").string(), small), "nope.safetensors");
}

TEST_CASE("bad input: the safetensors writer refuses empty, reserved and duplicate names, wrong shapes and NaN") {
  SafeTensorsWriter w;
  const Mat<float> m = full<float>(2, 3, 1.0f);
  EXPECT_ERROR(CheckpointError, w.add("", m), "a tensor needs a name");
  EXPECT_ERROR(CheckpointError, w.add("__metadata__", m), "__metadata__", "reserved");
  w.add("w", m);
  EXPECT_ERROR(CheckpointError, w.add("w", m), "'w'", "added twice");
  EXPECT_ERROR(CheckpointError, w.add("v", m, {4, 2}), "[4, 2]", "8 elements", "[2, 3]", "6");
  Mat<float> bad = m;
  bad(1, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_ERROR(CheckpointError, w.add("nan", bad), "'nan'", "flat index 5", "not finite");
  EXPECT_ERROR(CheckpointError, w.set_metadata("unroll.checksum", "x"), "unroll.checksum", "reserved");
  CHECK(w.size() == 1);  // nothing refused was added
}

TEST_CASE("bad input: saving into a missing folder or under a folder's name names the path and keeps the old file") {
  TempDir dir;
  Rng rng(3);
  Linear<float> lin(2, 3, rng);
  const std::string missing = (dir.path / "no_such_dir" / "m.safetensors").string();
  EXPECT_ERROR(CheckpointError, save_model(missing, lin), "no_such_dir/m.safetensors");
  CHECK(!fs::exists(dir.path / "no_such_dir"));
  const fs::path folder = dir.path / "a_folder";
  fs::create_directories(folder);
  EXPECT_ERROR(CheckpointError, save_model(folder.string(), lin), "a_folder");
  CHECK(fs::is_directory(folder));
  // a good file stays as it was when a later save is refused (a NaN weight is never written)
  const std::string good = (dir.path / "good.safetensors").string();
  save_model(good, lin);
  const std::string bytes = read_file_bytes(good);
  lin.parameters()[0].var.value()(0, 0) = std::numeric_limits<float>::infinity();
  EXPECT_ERROR(CheckpointError, save_model(good, lin), "not finite");
  CHECK(read_file_bytes(good) == bytes);
}

TEST_CASE("bad input: gradcheck refuses no inputs, undefined inputs and inputs that take no gradient") {
  auto x = parameter(full<double>(2, 2, 0.5));
  auto f = [&] { return sum(mul(x, x)); };
  EXPECT_ERROR(ShapeError, gradcheck(f, {}), "gradcheck: no inputs to check");
  EXPECT_ERROR(ShapeError, gradcheck(f, {{"c", constant(full<double>(2, 2, 0.5))}}), "input 'c'", "requires_grad");
  EXPECT_ERROR(ShapeError, gradcheck(f, {{"u", Var<double>()}}), "input 'u'", "must be a parameter");
  CHECK(gradcheck(f, {{"x", x}}).ok);  // the same check with a proper input passes
}

// ---- the data layer -------------------------------------------------------------------------------------

TEST_CASE("bad input: data layer — ids out of range, bad batch requests, unknown labels") {
  data::Vocab v;
  EXPECT_ERROR(data::DataError, v.token(4), "Vocab::token:", "id 4", "0..3");
  EXPECT_ERROR(data::DataError, v.token(-1), "Vocab::token:", "id -1");
  data::CharVocab cv = data::CharVocab::build("ab");
  EXPECT_ERROR(data::DataError, cv.code_point(2), "CharVocab::code_point:", "id 2", "4..5");
  EXPECT_ERROR(data::DataError, cv.decode({4, 9}), "CharVocab::code_point:", "id 9");
  data::LabelSet labels;
  labels.add("nn");
  EXPECT_ERROR(data::DataError, labels.id("vb"), "LabelSet::id:", "'vb'");
  std::vector<std::vector<std::int64_t>> seqs = {{1, 2}, {3}};
  EXPECT_ERROR(data::DataError, data::pad_batch(seqs, {0, 2}), "pad_batch:", "index 2", "< 2");
  EXPECT_ERROR(data::DataError, data::StreamBatches({1, 2, 3}, 0, 4), "StreamBatches:", "B = 0");
  EXPECT_ERROR(data::DataError, data::StreamBatches({1, 2}, 2, 4), "StreamBatches:", "too short", "B = 2");
  EXPECT_ERROR(data::DataError, data::plan_batches({1, 2}, {.batch_size = 0}), "plan_batches:", "batch_size is 0");
}

TEST_CASE("bad input: vocabulary JSON — a non-boolean \"frozen\", surrogate code points, missing reserved ids") {
  const auto reserved = nlohmann::json::array({"<pad>", "<unk>", "<bos>", "<eos>"});
  EXPECT_ERROR(data::DataError, data::Vocab::from_json({{"tokens", reserved}, {"frozen", "yes"}}), "vocab json",
               "\"frozen\" must be true or false", "string");
  EXPECT_ERROR(data::DataError, data::CharVocab::from_json({{"code_points", {97u}}, {"frozen", 1}}), "char vocab json",
               "\"frozen\"", "number");
  EXPECT_ERROR(data::DataError, data::CharVocab::from_json({{"code_points", {0xD800u}}}), "char vocab json", "55296",
               "surrogates");
  EXPECT_ERROR(data::DataError, data::CharVocab::from_json({{"code_points", {0x110000u}}}), "char vocab json",
               "1114112", "0x10FFFF");
  EXPECT_ERROR(data::DataError, data::Vocab::from_json({{"tokens", {"<pad>", "<unk>"}}}), "vocab json", "2 tokens",
               "4 reserved");
  EXPECT_ERROR(data::DataError, data::LabelSet::from_json({{"labels", {"nn", "nn"}}}), "label json", "duplicate",
               "nn");
  CHECK(data::Vocab::from_json({{"tokens", reserved}, {"frozen", false}}).frozen() == false);
}

TEST_CASE("bad input: Vocab::save_json of a token that is not UTF-8 is a DataError and leaves the old file") {
  TempDir dir;
  const fs::path path = dir.path / "v.json";
  std::ofstream(path) << "{\"old\":1}\n";
  data::Counter counts;
  counts.add("caf\xe9");  // Latin-1, as in an unsanitized corpus
  const data::Vocab v = data::Vocab::build(counts);
  EXPECT_ERROR(data::DataError, v.save_json(path), "Vocab::save_json", "v.json", "not valid UTF-8");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "{\"old\":1}\n");
}
