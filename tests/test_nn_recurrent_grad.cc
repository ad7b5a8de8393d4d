// tests/test_nn_recurrent_grad.cc — float64 gradient checks of the recurrent layers (the sweep of
// nn/gradcheck_modules.h per cell type), of the options not in the sweep, and the layers' shape errors.
#include "engine/gradcheck.h"
#include "nn/gradcheck_modules.h"
#include "nn_test_helpers.h"

using namespace unroll;
using namespace unroll::nntest;

TEST_CASE_TEMPLATE("recurrent: gradcheck over layers x directions x lengths x batch", L, RNN<double>, LSTM<double>,
                   GRU<double>) {
  const char* cell = kind_of<L>() == CellKind::RNN ? "rnn" : kind_of<L>() == CellKind::LSTM ? "lstm" : "gru";
  int n = 0;
  for (const auto& c : recurrent_check_cases()) {
    if (c.cell != cell) continue;
    ModuleCheckRow row = gradcheck_recurrent_case(c);
    CHECK_MESSAGE(row.ok, row.what << ": " << row.worst);
    CHECK(row.max_rel_err < 1e-3);
    ++n;
  }
  CHECK(n == 24);  // {1, 2 layers} x {uni, bi} x {batch 1, 3} x {lengths 1, 3, mixed}
}

TEST_CASE_TEMPLATE("recurrent: gradcheck of the plain-op reference path (2 layers, bidirectional, mixed lengths)", L,
                   RNN<double>, LSTM<double>, GRU<double>) {
  const char* cell = kind_of<L>() == CellKind::RNN ? "rnn" : kind_of<L>() == CellKind::LSTM ? "lstm" : "gru";
  RecurrentCheckCase c{cell, 2, true, {3, 1, 2}, 3};
  c.fused = false;
  ModuleCheckRow row = gradcheck_recurrent_case(c);
  CHECK(row.what.find("plain ops") != std::string::npos);
  CHECK_MESSAGE(row.ok, row.what << ": " << row.worst);
}

TEST_CASE_TEMPLATE("recurrent: gradcheck without bias, with learned initial state, LSTM forget bias", L, RNN<double>,
                   LSTM<double>, GRU<double>) {
  RecurrentConfig c = cfg(3, 4, 2, true);
  c.bias = false;
  c.learn_initial_state = true;
  c.init = RecurrentInit::XavierOrthogonal;
  if (kind_of<L>() == CellKind::RNN) c.nonlinearity = Nonlinearity::Relu;
  Rng rng(5);
  L layer(c, rng);
  for (auto& p : layer.parameters()) {  // the learned initial state starts at zero: move it off
    CHECK(p.name.find("bias") == std::string::npos);
    if (p.name.rfind("initial_", 0) == 0) p.var.value() = rng.normal_mat<double>(1, 4);
  }
  auto xs = random_steps(3, 3, 3, 11);
  std::vector<std::pair<std::string, Var<double>>> inputs;
  for (std::size_t t = 0; t < xs.size(); ++t) inputs.push_back({"x" + std::to_string(t), xs[t]});
  for (auto& p : layer.parameters()) inputs.push_back({p.name, p.var});
  auto f = [&] {
    auto o = layer.forward(xs, {3, 1, 2});
    std::vector<Var<double>> all = o.outputs;
    for (auto& h : o.h_n) all.push_back(h);
    for (auto& cn : o.c_n) all.push_back(cn);
    return concat_cols(all);
  };
  auto r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("recurrent: forget_bias sets the forget slice of bias_ih and zeroes bias_hh's") {
  RecurrentConfig c = cfg(3, 4);
  c.forget_bias = 1.0;
  Rng rng(1);
  LSTM<double> lstm(c, rng);
  for (auto& p : lstm.parameters()) {
    if (p.name == "bias_ih_l0")
      for (int j = 4; j < 8; ++j) CHECK(p.var.value()(0, j) == 1.0);
    if (p.name == "bias_hh_l0")
      for (int j = 4; j < 8; ++j) CHECK(p.var.value()(0, j) == 0.0);
  }
  c.forget_bias.reset();
  Rng rng2(1);
  CHECK_THROWS_AS(GRU<double>([&] { auto g = c; g.forget_bias = 1.0; return g; }(), rng2), ShapeError);
}

TEST_CASE("recurrent: bad inputs throw ShapeError naming the module and the shapes") {
  Rng rng(3);
  LSTM<double> lstm(3, 4, rng, 2, true);
  auto xs = random_steps(2, 2, 3, 1);
  SUBCASE("feature size") {
    auto bad = xs;
    bad[1] = parameter(zeros<double>(2, 5));
    CHECK_THROWS_WITH_AS(lstm.forward(bad),
                         doctest::Contains("LSTM(3, 4, num_layers=2, bidirectional=True): x[1] has shape [2, 5], "
                                           "expected [2, 3] ([B, input_size])"),
                         ShapeError);
  }
  SUBCASE("batch size changes over time") {
    auto bad = xs;
    bad[1] = parameter(zeros<double>(3, 3));
    CHECK_THROWS_WITH_AS(lstm.forward(bad), doctest::Contains("x[1] has shape [3, 3], expected [2, 3]"), ShapeError);
  }
  SUBCASE("h0 hidden size") {
    std::vector<Var<double>> h0(4, constant(zeros<double>(2, 4)));
    h0[2] = constant(zeros<double>(2, 5));
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {}, h0),
                         doctest::Contains("h0[2] has shape [2, 5], expected [2, 4] ([B, hidden_size])"), ShapeError);
    h0.pop_back();
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {}, h0), doctest::Contains("h0 has 3 tensors, expected 4"), ShapeError);
  }
  SUBCASE("c0 on a GRU") {
    GRU<double> gru(3, 4, rng);
    std::vector<Var<double>> s(1, constant(zeros<double>(2, 4)));
    CHECK_THROWS_WITH_AS(gru.forward(xs, {}, s, s), doctest::Contains("GRU(3, 4): c0 given"), ShapeError);
  }
  SUBCASE("lengths") {
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {2, 3}), doctest::Contains("lengths[1] = 3 is out of range [1, 2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {0, 2}), doctest::Contains("lengths[0] = 0 is out of range [1, 2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {2, -1}), doctest::Contains("lengths[1] = -1 is out of range"), ShapeError);
    CHECK_THROWS_WITH_AS(lstm.forward(xs, {2}), doctest::Contains("1 lengths for a batch of B = 2 rows"), ShapeError);
  }
  SUBCASE("empty batch and empty sequence") {
    CHECK_THROWS_WITH_AS(lstm.forward({}), doctest::Contains("empty input sequence"), ShapeError);
    std::vector<Var<double>> empty_rows{constant(zeros<double>(0, 3))};
    CHECK_THROWS_WITH_AS(lstm.forward(empty_rows), doctest::Contains("empty batch: x[0] has shape [0, 3]"), ShapeError);
  }
  SUBCASE("cell step") {
    LSTMCell<double> cell(3, 4, rng);
    CellState<double> s = cell.zero_state(2);
    CHECK_THROWS_WITH_AS(cell.step(constant(zeros<double>(2, 2)), s),
                         doctest::Contains("LSTMCell(3, 4): x has shape [2, 2], expected [B, 3]"), ShapeError);
    s.c = constant(zeros<double>(2, 3));
    CHECK_THROWS_WITH_AS(cell.step(xs[0], s), doctest::Contains("LSTMCell(3, 4): c has shape [2, 3], expected [2, 4]"),
                         ShapeError);
  }
  SUBCASE("bad config") {
    CHECK_THROWS_AS(LSTM<double>(0, 4, rng), ShapeError);
    RecurrentConfig c = cfg(3, 4);
    c.dropout = 1.0;
    CHECK_THROWS_WITH_AS(GRU<double>(c, rng), doctest::Contains("GRU: dropout must be in [0, 1), got 1"), ShapeError);
  }
}

TEST_CASE("gradcheck_module_sweep: filter and the worst-location report") {
  auto rows = gradcheck_module_sweep("gru(3, 4, num_layers=2, bidirectional=true) b=3 t=3 lengths=[3, 1, 2]");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].ok);
  CHECK(rows[0].what == "GRU(3, 4, num_layers=2, bidirectional=True) B=3 T=3 lengths=[3, 1, 2]");
  CHECK(rows[0].shape == "x: 3 × [3, 3], h0: 4 × [3, 4], 552 parameters");
  CHECK(rows[0].max_abs_err < 1e-6);
  CHECK(!rows[0].worst.empty());
  CHECK(recurrent_check_cases().size() == 72);
  CHECK(gradcheck_module_sweep("no such module").empty());
  // A gate name is derived from the row of a recurrent weight: row / H.
  bool gate_named = false;
  for (const auto& r : gradcheck_module_sweep("LSTM(3, 4) B=1 T=3 lengths=[3]"))
    gate_named = gate_named || r.worst.find("(gate ") != std::string::npos || r.worst.find("x[t=") != std::string::npos ||
                 r.worst.find("h0[") != std::string::npos || r.worst.find("c0[") != std::string::npos;
  CHECK(gate_named);
}
