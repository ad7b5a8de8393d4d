// tests/test_nn_modules.cc — Linear, Embedding, Dropout, the initialisers and the Module base:
// names and descriptions, forward values by hand, float64 gradchecks (the sweep's rows), shape errors.
#include "engine/gradcheck.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/gradcheck_modules.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn_test_helpers.h"

using namespace unroll;
using namespace unroll::nntest;

TEST_CASE("linear: PyTorch names, init bounds, forward by hand, description") {
  Rng rng(1);
  Linear<double> lin(4, 2, rng);
  CHECK(lin.describe() == "Linear(in_features=4, out_features=2, bias=True)");
  auto ps = lin.parameters();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].name == "weight");
  CHECK(shape_str(ps[0].var.value()) == "[2, 4]");
  CHECK(ps[1].name == "bias");
  CHECK(shape_str(ps[1].var.value()) == "[1, 2]");
  CHECK(xt::amax(xt::abs(ps[0].var.value()))() <= 0.5);  // U(-1/sqrt(4), 1/sqrt(4))
  lin.weight().value() = mat<double>({{1, 0, 0, 0}, {0, 1, 1, 1}});
  lin.bias().value() = mat<double>({{10, 20}});
  Var<double> y = lin(constant(mat<double>({{1, 2, 3, 4}})));
  CHECK(max_diff(y.value(), mat<double>({{11, 29}})) == 0.0);
  Linear<double> nb(4, 2, rng, false);
  CHECK(nb.describe() == "Linear(in_features=4, out_features=2, bias=False)");
  CHECK(nb.parameters().size() == 1);
  CHECK(nb.num_parameters() == 8);
  CHECK_THROWS_WITH_AS(lin(constant(zeros<double>(3, 5))),
                       doctest::Contains("Linear(in_features=4, out_features=2, bias=True): x has shape [3, 5], "
                                         "expected [B, 4]"),
                       ShapeError);
}

TEST_CASE("embedding: lookup, padding row gives zeros and no gradient, description, errors") {
  Rng rng(2);
  Embedding<double> emb(5, 3, rng, 0);
  CHECK(emb.describe() == "Embedding(5, 3, padding_idx=0)");
  CHECK(Embedding<double>(5, 3, rng).describe() == "Embedding(5, 3)");
  CHECK(emb.parameters()[0].name == "weight");
  CHECK(max_diff(Mat<double>(xt::view(emb.weight().value(), xt::range(0, 1), xt::all())), zeros<double>(1, 3)) == 0);
  emb.weight().value() = rng.normal_mat<double>(5, 3);  // even a non-zero padding row looks up as zeros
  Var<double> y = emb({3, 0, 3});
  CHECK(max_diff(Mat<double>(xt::view(y.value(), xt::range(0, 1), xt::all())),
                 Mat<double>(xt::view(emb.weight().value(), xt::range(3, 4), xt::all()))) == 0);
  CHECK(max_diff(Mat<double>(xt::view(y.value(), xt::range(1, 2), xt::all())), zeros<double>(1, 3)) == 0);
  emb.zero_grad();
  sum(y).backward();
  CHECK(emb.weight().grad()(3, 0) == 2.0);  // used twice: accumulated
  CHECK(emb.weight().grad()(0, 0) == 0.0);
  CHECK_THROWS_WITH_AS(emb({1, 5}), doctest::Contains("Embedding(5, 3, padding_idx=0): id 5 at position 1 is out of range [0, 5)"),
                       ShapeError);
  CHECK_THROWS_AS(Embedding<double>(5, 3, rng, 5), ShapeError);
}

TEST_CASE("linear, embedding: float64 gradient checks") {
  for (const char* f : {"linear", "embedding"}) {
    auto rows = gradcheck_module_sweep(f);
    CHECK(rows.size() == 2);
    for (const auto& r : rows) CHECK_MESSAGE(r.ok, r.what << ": " << r.worst);
  }
}

TEST_CASE("dropout module: identity in eval, inverted scaling in training, seeded") {
  Dropout<double> d(0.5);
  CHECK(d.describe() == "Dropout(p=0.5)");
  CHECK(d.parameters().empty());
  Var<double> x = constant(full<double>(20, 20, 1.0));
  Rng r1(3), r2(3);
  Mat<double> a = d(x, r1).value(), b = d(x, r2).value();
  CHECK(max_diff(a, b) == 0.0);
  std::size_t zeros_seen = 0;
  for (double v : a) {
    CHECK((v == 0.0 || v == 2.0));
    zeros_seen += v == 0.0;
  }
  CHECK(zeros_seen > 120);  // about half of 400
  CHECK(zeros_seen < 280);
  d.eval();
  CHECK(!d.training());
  CHECK(max_diff(d(x, r1).value(), x.value()) == 0.0);
  CHECK_THROWS_AS(Dropout<double>(1.0), ShapeError);
}

TEST_CASE("init: bounds, Xavier range, orthogonal rows/columns, seeded") {
  Rng rng(4), same(4);
  Mat<double> u = uniform_init<double>(30, 20, 0.1, rng);
  CHECK(max_diff(u, uniform_init<double>(30, 20, 0.1, same)) == 0.0);
  CHECK(xt::amax(xt::abs(u))() <= 0.1);
  Mat<double> x = xavier_uniform<double>(30, 20, rng);
  CHECK(xt::amax(xt::abs(x))() <= std::sqrt(6.0 / 50.0));
  CHECK(xt::amax(xt::abs(x))() > 0.8 * std::sqrt(6.0 / 50.0));
  for (auto [r, c] : {std::pair<std::size_t, std::size_t>{6, 4}, {4, 6}, {5, 5}}) {
    Mat<double> q = orthogonal<double>(r, c, rng, 2.0);
    const bool tall = r >= c;
    Mat<double> gram = tall ? Mat<double>(xt::zeros<double>({c, c})) : Mat<double>(xt::zeros<double>({r, r}));
    for (std::size_t i = 0; i < gram.shape(0); ++i)
      for (std::size_t j = 0; j < gram.shape(1); ++j)
        for (std::size_t k = 0; k < (tall ? r : c); ++k) gram(i, j) += tall ? q(k, i) * q(k, j) : q(i, k) * q(j, k);
    CHECK(max_diff(gram, Mat<double>(4.0 * xt::eye<double>(gram.shape(0)))) < 1e-12);  // gain² · I
  }
  Mat<double> blocks = orthogonal_blocks<double>(3, 4, 4, rng);
  CHECK(shape_str(blocks) == "[12, 4]");
  Var<double> p = parameter(zeros<double>(3, 3));
  init_constant_(p, 0.5);
  CHECK(p.value()(2, 2) == 0.5);
  init_orthogonal_(p, rng);
  CHECK(std::abs(p.value()(0, 0)) <= 1.0);
}

TEST_CASE("recurrent: XavierOrthogonal init makes each gate block of weight_hh orthogonal, biases zero") {
  RecurrentConfig c = cfg(3, 4);
  c.init = RecurrentInit::XavierOrthogonal;
  Rng rng(5);
  GRU<double> gru(c, rng);
  const Mat<double>& W = gru.cell(0).weight_hh().value();
  for (std::size_t g = 0; g < 3; ++g) {
    Mat<double> blk = xt::view(W, xt::range(4 * g, 4 * g + 4), xt::all());
    Mat<double> gram = zeros<double>(4, 4);
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t k = 0; k < 4; ++k) gram(i, j) += blk(k, i) * blk(k, j);
    CHECK(max_diff(gram, Mat<double>(xt::eye<double>(4))) < 1e-12);
  }
  CHECK(xt::amax(xt::abs(gru.cell(0).bias_ih().value()))() == 0.0);
}

TEST_CASE("module: zero_grad, num_parameters, train/eval reach every layer's dropout") {
  Rng rng(6);
  LSTM<float> lstm(3, 4, rng);
  CHECK(lstm.num_parameters() == 16 * 3 + 16 * 4 + 32);
  lstm.zero_grad();
  for (auto& p : lstm.parameters()) CHECK(p.var.grad().shape() == p.var.value().shape());
  lstm.eval();
  CHECK(!lstm.training());
  lstm.train();
  CHECK(lstm.training());
}
