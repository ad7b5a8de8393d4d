// tests/test_nn_recurrent.cc — known answers for the RNN/LSTM/GRU layers: names and descriptions,
// reverse direction == forward on the reversed input, a 2-layer stack == two 1-layer modules, closed forms,
// a padded batch == each sequence alone (values and gradients), step API == forward, dropout, gradient flow.
#include "nn_test_helpers.h"

#include <cmath>
#include <type_traits>

using namespace unroll;
using namespace unroll::nntest;

TEST_CASE("recurrent: PyTorch parameter names, shapes, order and descriptions") {
  Rng rng(1);
  LSTM<float> lstm(3, 4, rng, 2, true);
  CHECK(lstm.describe() == "LSTM(3, 4, num_layers=2, bidirectional=True)");
  std::vector<std::string> names;
  for (auto& p : lstm.parameters()) names.push_back(p.name);
  const std::vector<std::string> want{
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  CHECK(names == want);
  auto ps = lstm.parameters();
  CHECK(shape_str(ps[0].var.value()) == "[16, 3]");
  CHECK(shape_str(ps[1].var.value()) == "[16, 4]");
  CHECK(shape_str(ps[2].var.value()) == "[1, 16]");
  CHECK(shape_str(ps[8].var.value()) == "[16, 8]");  // layer 1 reads [forward | reverse]
  CHECK(lstm.num_parameters() == 2 * (16 * 3 + 16 * 4 + 32) + 2 * (16 * 8 + 16 * 4 + 32));
  // PyTorch's default init: U(-1/sqrt(H), 1/sqrt(H)) = U(-0.5, 0.5)
  for (auto& p : ps) CHECK(xt::amax(xt::abs(p.var.value()))() <= 0.5f);

  RecurrentConfig c = cfg(5, 6, 3);
  c.bias = false;
  c.dropout = 0.25;
  c.nonlinearity = Nonlinearity::Relu;
  c.learn_initial_state = true;
  RNN<float> rnn(c, rng);
  CHECK(rnn.describe() == "RNN(5, 6, num_layers=3, bias=False, dropout=0.25, nonlinearity=relu, learn_initial_state=True)");
  CHECK(rnn.parameters().size() == 3 * 2 + 3);
  CHECK(rnn.parameters().back().name == "initial_h_l2");
  GRU<float> gru(2, 3, rng);
  CHECK(gru.describe() == "GRU(2, 3)");
  CHECK(gru.cell(0).describe() == "GRUCell(2, 3)");
  CHECK(RNNCell<float>(2, 3, rng, false, Nonlinearity::Relu).describe() == "RNNCell(2, 3, bias=False, nonlinearity=relu)");
  CHECK(shape_str(gru.parameters()[0].var.value()) == "[9, 2]");
}

TEST_CASE_TEMPLATE("recurrent: reverse direction equals a forward layer on each row's reversed sequence", L,
                   RNN<double>, LSTM<double>, GRU<double>) {
  Rng rng(2);
  L bi(cfg(3, 4, 1, true), rng), uni(cfg(3, 4), rng);
  for (const char* n : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
    copy_param<double>(uni, std::string(n) + "_l0", bi, std::string(n) + "_l0_reverse");
  const std::vector<int> lengths{4, 2, 3};
  auto xs = random_steps(4, 3, 3, 9);
  // Row b reversed within its own length: rev[t][b] = x[len_b - 1 - t][b]; padding stays zero.
  std::vector<Var<double>> rev;
  for (std::size_t t = 0; t < 4; ++t) {
    Mat<double> m = zeros<double>(3, 3);
    for (std::size_t b = 0; b < 3; ++b)
      if (int(t) < lengths[b]) xt::view(m, b, xt::all()) = xt::view(xs[lengths[b] - 1 - t].value(), b, xt::all());
    rev.push_back(constant(m));
  }
  auto ob = bi.forward(xs, lengths);
  auto ou = uni.forward(rev, lengths);
  for (std::size_t b = 0; b < 3; ++b)
    for (int t = 0; t < lengths[b]; ++t) {
      Mat<double> got = xt::view(ob.outputs[t].value(), xt::range(b, b + 1), xt::range(4, 8));
      Mat<double> want = xt::view(ou.outputs[lengths[b] - 1 - t].value(), xt::range(b, b + 1), xt::all());
      CHECK(max_diff(got, want) < 1e-12);
    }
  CHECK(max_diff(ob.h_n[1].value(), ou.h_n[0].value()) < 1e-12);
  if (kind_of<L>() == CellKind::LSTM) CHECK(max_diff(ob.c_n[1].value(), ou.c_n[0].value()) < 1e-12);
}

TEST_CASE_TEMPLATE("recurrent: a 2-layer stack equals two 1-layer modules composed", L, RNN<double>, LSTM<double>,
                   GRU<double>) {
  for (bool bi : {false, true}) {
    const int D = bi ? 2 : 1;
    Rng rng(3);
    L two(cfg(3, 4, 2, bi), rng), first(cfg(3, 4, 1, bi), rng), second(cfg(4 * D, 4, 1, bi), rng);
    for (const char* n : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
      for (const char* s : {"", "_reverse"}) {
        if (!bi && *s) continue;
        copy_param<double>(first, std::string(n) + "_l0" + s, two, std::string(n) + "_l0" + s);
        copy_param<double>(second, std::string(n) + "_l0" + s, two, std::string(n) + "_l1" + s);
      }
    const std::vector<int> lengths{3, 1, 2};
    auto xs = random_steps(3, 3, 3, 4);
    auto o2 = two.forward(xs, lengths);
    auto o1 = first.forward(xs, lengths);
    auto o12 = second.forward(o1.outputs, lengths);
    for (std::size_t t = 0; t < 3; ++t) CHECK(max_diff(o2.outputs[t].value(), o12.outputs[t].value()) < 1e-12);
    for (int d = 0; d < D; ++d) {
      CHECK(max_diff(o2.h_n[d].value(), o1.h_n[d].value()) < 1e-12);
      CHECK(max_diff(o2.h_n[D + d].value(), o12.h_n[d].value()) < 1e-12);
    }
  }
}

TEST_CASE("recurrent: closed forms with all weights zero but one gate") {
  Rng rng(4);
  SUBCASE("LSTM: only the g bias: c_t = 1/2 c_{t-1} + 1/4, h_t = 1/2 tanh(c_t)") {
    LSTM<double> lstm(2, 3, rng);
    for (auto& p : lstm.parameters()) p.var.value().fill(0.0);
    xt::view(lstm.cell(0).bias_ih().value(), 0, xt::range(6, 9)) = std::atanh(0.5);  // g = 1/2
    auto o = lstm.forward(random_steps(5, 2, 2, 1));
    double c = 0;
    for (int t = 0; t < 5; ++t) {
      c = 0.5 * c + 0.25;
      for (double v : o.outputs[t].value()) CHECK(v == doctest::Approx(0.5 * std::tanh(c)).epsilon(1e-14));
    }
    for (double v : o.c_n[0].value()) CHECK(v == doctest::Approx(c).epsilon(1e-14));
  }
  SUBCASE("GRU: zero weights: r = z = 1/2, n = 0, so h_t = h_0 / 2^t") {
    GRU<double> gru(2, 3, rng);
    for (auto& p : gru.parameters()) p.var.value().fill(0.0);
    Mat<double> h0 = rng.normal_mat<double>(2, 3);
    auto o = gru.forward(random_steps(4, 2, 2, 1), {}, {constant(h0)});
    Mat<double> want = h0 / 16.0;
    CHECK(max_diff(o.h_n[0].value(), want) < 1e-15);
  }
  SUBCASE("RNN: W_ih = I, the rest zero: h_t = tanh(x_t) / relu(x_t)") {
    for (auto f : {Nonlinearity::Tanh, Nonlinearity::Relu}) {
      RecurrentConfig c = cfg(3, 3);
      c.nonlinearity = f;
      RNN<double> rnn(c, rng);
      for (auto& p : rnn.parameters()) p.var.value().fill(0.0);
      for (int i = 0; i < 3; ++i) rnn.cell(0).weight_ih().value()(i, i) = 1.0;
      auto xs = random_steps(3, 2, 3, 6);
      auto o = rnn.forward(xs);
      for (int t = 0; t < 3; ++t) {
        Mat<double> want = f == Nonlinearity::Tanh ? Mat<double>(xt::tanh(xs[t].value()))
                                                   : Mat<double>(xt::maximum(xs[t].value(), 0.0));
        CHECK(max_diff(o.outputs[t].value(), want) < 1e-15);
      }
    }
  }
}

TEST_CASE_TEMPLATE("recurrent: a padded batch equals each sequence alone (outputs, states, gradients)", L,
                   RNN<double>, LSTM<double>, GRU<double>) {
  Rng rng(5);
  L layer(cfg(3, 4, 2, true), rng);
  const bool lstm = kind_of<L>() == CellKind::LSTM;
  const std::vector<int> lengths{3, 1, 2};
  const std::size_t T = 4, B = 3, S = 4;  // T = 4: the last step is padding for every row
  auto xs = random_steps(T, B, 3, 12);
  std::vector<Mat<double>> R_out, R_state;
  for (std::size_t t = 0; t < T; ++t) R_out.push_back(rng.normal_mat<double>(B, 8));
  for (std::size_t i = 0; i < S; ++i) R_state.push_back(rng.normal_mat<double>(B, 4));

  layer.zero_grad();
  auto o = layer.forward(xs, lengths);
  Var<double> loss = project(o.outputs, R_out) + project(o.h_n, R_state);
  if (lstm) loss = loss + project(o.c_n, R_state);
  loss.backward();
  auto batch_grads = grads_by_name<double>(layer);

  layer.zero_grad();  // the alone runs accumulate: their sum must equal the batch gradient
  for (std::size_t b = 0; b < B; ++b) {
    auto row = [&](const Mat<double>& m) { return Mat<double>(xt::view(m, xt::range(b, b + 1), xt::all())); };
    std::vector<Var<double>> xb;
    std::vector<Mat<double>> Rb, Rsb;
    for (int t = 0; t < lengths[b]; ++t) {
      xb.push_back(parameter(row(xs[t].value())));
      Rb.push_back(row(R_out[t]));
    }
    for (auto& R : R_state) Rsb.push_back(row(R));
    auto ob = layer.forward(xb);
    Var<double> lb = project(ob.outputs, Rb) + project(ob.h_n, Rsb);
    if (lstm) lb = lb + project(ob.c_n, Rsb);
    lb.backward();
    for (std::size_t t = 0; t < T; ++t) {
      const bool real = int(t) < lengths[b];
      Mat<double> got = row(o.outputs[t].value()), g = row(xs[t].grad());
      if (real) {
        CHECK(max_diff(got, ob.outputs[t].value()) < 1e-12);
        CHECK(max_diff(g, xb[t].grad()) < 1e-12);
      } else {
        CHECK(max_diff(got, zeros<double>(1, 8)) == 0.0);  // padding outputs are exactly zero
        CHECK(max_diff(g, zeros<double>(1, 3)) == 0.0);    // and padded inputs get no gradient
      }
    }
    for (std::size_t i = 0; i < S; ++i) {
      CHECK(max_diff(row(o.h_n[i].value()), ob.h_n[i].value()) < 1e-12);
      if (lstm) CHECK(max_diff(row(o.c_n[i].value()), ob.c_n[i].value()) < 1e-12);
    }
  }
  for (auto& [name, g] : grads_by_name<double>(layer)) CHECK_MESSAGE(max_diff(g, batch_grads[name]) < 1e-12, name);
}

TEST_CASE_TEMPLATE("recurrent: step() through the layers equals forward()", L, RNN<double>, LSTM<double>,
                   GRU<double>) {
  Rng rng(6);
  L layer(cfg(3, 4, 2), rng);
  auto xs = random_steps(3, 2, 3, 7);
  auto o = layer.forward(xs);
  auto state = layer.initial_state(2);
  for (std::size_t t = 0; t < 3; ++t) {
    Var<double> h = layer.step(xs[t], state);
    CHECK(max_diff(h.value(), o.outputs[t].value()) < 1e-14);
  }
  CHECK(max_diff(state[0].h.value(), o.h_n[0].value()) < 1e-14);
  CHECK(max_diff(state[1].h.value(), o.h_n[1].value()) < 1e-14);
  // The cell API on its own: one step from zeros.
  CellState<double> s = layer.cell(0).step(xs[0], layer.cell(0).zero_state(2));
  CHECK(max_diff(s.h.value(), o.hidden[0][0].value()) < 1e-14);
}

TEST_CASE("recurrent: dropout between layers acts in training only and repeats with the seed") {
  RecurrentConfig c = cfg(3, 4, 2);
  c.dropout = 0.5;
  Rng rng(7);
  LSTM<double> lstm(c, rng);
  auto xs = random_steps(3, 2, 3, 8);
  Rng r1(42), r2(42);
  auto a = lstm.forward(xs, {}, {}, {}, &r1);
  auto b = lstm.forward(xs, {}, {}, {}, &r2);
  CHECK(max_diff(a.outputs[2].value(), b.outputs[2].value()) == 0.0);
  lstm.eval();
  auto e1 = lstm.forward(xs);
  lstm.train(false);
  c.dropout = 0.0;
  Rng rng_same(7);
  LSTM<double> plain(c, rng_same);  // the same weights (same seed, same draws)
  auto e2 = plain.forward(xs);
  CHECK(max_diff(e1.outputs[2].value(), e2.outputs[2].value()) == 0.0);
  CHECK(max_diff(a.outputs[2].value(), e2.outputs[2].value()) > 1e-6);  // training mode did drop something
  // The first layer's own outputs never see dropout: layer 0's h_n is the same in both modes.
  CHECK(max_diff(a.h_n[0].value(), e1.h_n[0].value()) == 0.0);
}

TEST_CASE_TEMPLATE("recurrent: gradient flow: ||dL/dh_t|| per step from the hidden Vars", L, RNN<double>,
                   LSTM<double>, GRU<double>) {
  Rng rng(8);
  L layer(cfg(3, 4, 1, true), rng);
  auto xs = random_steps(5, 2, 3, 3);
  auto o = layer.forward(xs, {5, 3});
  // Loss on the last real output of row 0 only: forward-direction grads flow back from t = 4.
  Mat<double> R = zeros<double>(2, 8);
  xt::view(R, 0, xt::range(0, 4)) = 1.0;
  Var<double> loss = sum(mask(o.outputs[4], R));
  loss.backward();
  auto fwd = gradient_norms(o, 0, 0);
  REQUIRE(fwd.size() == 5);
  CHECK(fwd[4] == doctest::Approx(2.0));  // ‖(1, 1, 1, 1)‖
  for (int t = 0; t < 4; ++t) CHECK(fwd[t] > 0.0);
  // Reverse direction at t = 4 started from h0 and feeds nothing later in its own time: only t = 4 matters
  auto rev = gradient_norms(o, 0, 1);
  for (int t = 0; t < 5; ++t) CHECK(rev[t] == 0.0);
  // By hand for one step: the forward h_3's gradient restricted to the real rows.
  const auto& g = o.hidden[0][3].grad();
  double s = 0;
  for (std::size_t j = 0; j < 4; ++j) s += g(0, j) * g(0, j);  // row 1 has length 3: t = 3 is padding
  CHECK(fwd[3] == doctest::Approx(std::sqrt(s)));
}

TEST_CASE_TEMPLATE("recurrent: fused ops and the plain-op reference give the same values and gradients", L,
                   RNN<double>, LSTM<double>, GRU<double>) {
  for (bool bi : {false, true})
    for (const std::vector<int>& lengths : {std::vector<int>{3, 3}, std::vector<int>{3, 1}, std::vector<int>{1, 2}}) {
      RecurrentConfig c = cfg(3, 4, 2, bi);
      if (kind_of<L>() == CellKind::RNN && bi) c.nonlinearity = Nonlinearity::Relu;
      Rng r1(9), r2(9);
      L fused(c, r1);
      c.fused = false;
      L plain(c, r2);  // same seed: same weights
      auto xs = random_steps(3, 2, 3, 5);
      std::vector<Mat<double>> R;
      for (int t = 0; t < 3; ++t) R.push_back(r1.normal_mat<double>(2, bi ? 8 : 4));
      std::vector<Mat<double>> gx[2];
      std::map<std::string, Mat<double>> gp[2];
      RecurrentOutput<double> o[2];
      int i = 0;
      for (L* layer : {&fused, &plain}) {
        layer->zero_grad();
        for (auto& x : xs) x.zero_grad();
        o[i] = layer->forward(xs, lengths);
        Var<double> loss = project(o[i].outputs, R) + sum(concat_cols(o[i].h_n));
        loss.backward();
        for (auto& x : xs) gx[i].push_back(x.grad());
        gp[i] = grads_by_name<double>(*layer);
        ++i;
      }
      for (std::size_t t = 0; t < 3; ++t) {
        CHECK(max_diff(o[0].outputs[t].value(), o[1].outputs[t].value()) < 1e-13);
        CHECK(max_diff(gx[0][t], gx[1][t]) < 1e-13);
      }
      for (std::size_t k = 0; k < o[0].h_n.size(); ++k) CHECK(max_diff(o[0].h_n[k].value(), o[1].h_n[k].value()) < 1e-13);
      for (auto& [name, g] : gp[0]) CHECK_MESSAGE(max_diff(g, gp[1][name]) < 1e-13, name);
    }
}

TEST_CASE_TEMPLATE("recurrent: float matches double on the same weights, and no graph under NoGradGuard", L, LSTM<double>,
                   GRU<double>, RNN<double>) {
  Rng r1(10), r2(10);
  L d(cfg(3, 4, 2, true), r1);
  using LF = std::conditional_t<std::is_same_v<L, LSTM<double>>, LSTM<float>,
                                std::conditional_t<std::is_same_v<L, GRU<double>>, GRU<float>, RNN<float>>>;
  LF f(cfg(3, 4, 2, true), r2);
  auto pd = d.parameters(), pf = f.parameters();
  for (std::size_t i = 0; i < pd.size(); ++i) pf[i].var.value() = unroll::to_precision<float, double>(pd[i].var.value());
  auto xd = random_steps<double>(4, 3, 3, 2);
  std::vector<Var<float>> xf;
  for (auto& x : xd) xf.push_back(constant(unroll::to_precision<float, double>(x.value())));
  auto od = d.forward(xd, {4, 2, 3});
  NoGradGuard ng;
  auto of = f.forward(xf, {4, 2, 3});
  for (std::size_t t = 0; t < 4; ++t) {
    CHECK(max_diff(od.outputs[t].value(), of.outputs[t].value()) < 1e-5);
    CHECK(!of.outputs[t].requires_grad());
    CHECK(of.outputs[t].node()->parents.empty());  // inference keeps no graph
  }
}
