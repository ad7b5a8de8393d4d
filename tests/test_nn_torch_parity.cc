// tests/test_nn_torch_parity.cc — RNN/LSTM/GRU against PyTorch in float64: weights, inputs, outputs, final
// states and the gradients of a fixed projection loss w.r.t. inputs, initial states and every parameter,
// from tests/fixtures/torch_rnn/rnn_parity.json (written by tools/torch/make_rnn_fixture.py: 2 layers,
// bidirectional, mixed unsorted lengths through pack_padded_sequence).
#include "nn_test_helpers.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace unroll;
using namespace unroll::nntest;
using json = nlohmann::json;

namespace {

// A 2-D list as [rows, cols]; a 1-D list (a PyTorch bias) as [1, n].
Mat<double> to_mat(const json& j) {
  if (!j.empty() && j[0].is_array()) {
    Mat<double> m = zeros<double>(j.size(), j[0].size());
    for (std::size_t r = 0; r < j.size(); ++r)
      for (std::size_t c = 0; c < j[r].size(); ++c) m(r, c) = j[r][c].get<double>();
    return m;
  }
  Mat<double> m = zeros<double>(1, j.size());
  for (std::size_t c = 0; c < j.size(); ++c) m(0, c) = j[c].get<double>();
  return m;
}
// A 3-D list [n][rows][cols] as n matrices.
std::vector<Mat<double>> to_mats(const json& j) {
  std::vector<Mat<double>> v;
  for (const auto& e : j) v.push_back(to_mat(e));
  return v;
}
std::vector<Var<double>> leaves(const std::vector<Mat<double>>& ms) {
  std::vector<Var<double>> v;
  for (const auto& m : ms) v.push_back(parameter(m));
  return v;
}

}  // namespace

TEST_CASE("recurrent: matches PyTorch (outputs, h_n, c_n, gradients) to 1e-5 in float64") {
  std::ifstream in(std::string(UNROLL_SOURCE_DIR) + "/tests/fixtures/torch_rnn/rnn_parity.json");
  REQUIRE_MESSAGE(in.good(), "missing fixture: run /usr/bin/python3 tools/torch/make_rnn_fixture.py");
  const json fx = json::parse(in);
  REQUIRE(fx.at("cases").size() == 4);
  double worst_overall = 0;
  for (bool fused : {true, false})
  for (const auto& c : fx.at("cases")) {
    const std::string kind = c.at("cell");
    RecurrentConfig cfg = recurrent_config(c.at("input_size"), c.at("hidden_size"), c.at("num_layers"),
                                           c.at("bidirectional"));
    if (c.at("nonlinearity") == "relu") cfg.nonlinearity = Nonlinearity::Relu;
    cfg.fused = fused;
    Rng rng(0);
    Recurrent<double> layer(kind == "LSTM" ? CellKind::LSTM : kind == "GRU" ? CellKind::GRU : CellKind::RNN, cfg, rng);
    const bool lstm = kind == "LSTM";
    CAPTURE(layer.describe());
    for (auto& p : layer.parameters()) {
      REQUIRE_MESSAGE(c.at("params").contains(p.name), p.name);
      Mat<double> w = to_mat(c.at("params").at(p.name));
      REQUIRE_MESSAGE(w.shape() == p.var.value().shape(), p.name);
      p.var.value() = w;
    }
    REQUIRE(layer.parameters().size() == c.at("params").size());
    const std::vector<int> lengths = c.at("lengths").get<std::vector<int>>();
    auto xs = leaves(to_mats(c.at("x")));
    auto h0 = leaves(to_mats(c.at("h0")));
    std::vector<Var<double>> c0;
    if (lstm) c0 = leaves(to_mats(c.at("c0")));

    layer.zero_grad();
    auto o = layer.forward(xs, lengths, h0, c0);
    Var<double> loss = project(o.outputs, to_mats(c.at("R_out"))) + project(o.h_n, to_mats(c.at("R_h")));
    if (lstm) loss = loss + project(o.c_n, to_mats(c.at("R_c")));
    loss.backward();

    double worst = std::abs(loss.item() - c.at("loss").get<double>());
    std::string where = "loss";
    auto cmp = [&](const std::string& what, const Mat<double>& got, const Mat<double>& want) {
      const double d = max_diff(got, want);
      if (d > worst) { worst = d; where = what; }
    };
    auto want_out = to_mats(c.at("outputs")), want_h = to_mats(c.at("h_n"));
    for (std::size_t t = 0; t < xs.size(); ++t) cmp("outputs", o.outputs[t].value(), want_out[t]);
    for (std::size_t i = 0; i < h0.size(); ++i) cmp("h_n", o.h_n[i].value(), want_h[i]);
    if (lstm) {
      auto want_c = to_mats(c.at("c_n"));
      for (std::size_t i = 0; i < c0.size(); ++i) cmp("c_n", o.c_n[i].value(), want_c[i]);
    }
    const json& g = c.at("grads");
    auto gx = to_mats(g.at("x")), gh = to_mats(g.at("h0"));
    for (std::size_t t = 0; t < xs.size(); ++t) cmp("d x", xs[t].grad(), gx[t]);
    for (std::size_t i = 0; i < h0.size(); ++i) cmp("d h0", h0[i].grad(), gh[i]);
    if (lstm) {
      auto gc = to_mats(g.at("c0"));
      for (std::size_t i = 0; i < c0.size(); ++i) cmp("d c0", c0[i].grad(), gc[i]);
    }
    for (auto& p : layer.parameters()) cmp("d " + p.name, p.var.grad(), to_mat(g.at(p.name)));
    MESSAGE(layer.describe() << std::string(fused ? " fused" : " plain ops") << " lengths [4, 2, 3]: max |unroll - torch| = "
                             << worst << " (at " << where << ")");
    CHECK_MESSAGE(worst < 1e-5, where);
    worst_overall = std::max(worst_overall, worst);
  }
  CHECK(worst_overall < 1e-10);  // float64 on both sides: only rounding differs
}
