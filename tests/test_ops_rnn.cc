// tests/test_ops_rnn.cc — engine/ops_rnn.cc: the fused LSTM/GRU/RNN gate ops, linear_fused, split_rows and the
// hoisted projection. Each is held against its composition of plain ops (values and gradients, float and
// double), gradient-checked in float64 on (B, H) = (1, 1), (1, 3), (3, 4), run with an input used twice, and
// its shape errors are checked.
#include "engine/ops_rnn.h"
#include "tests/op_test_helpers.h"

using namespace unroll;
using namespace unroll::test;

namespace {
struct Bh {
  std::size_t B, H;
};
const std::vector<Bh> kShapes = {{1, 1}, {1, 3}, {3, 4}};

// The unfused references, written from plain ops only (the formulas of ops_rnn.h).
template <class T>
LSTMGates<T> lstm_ref(const Var<T>& z, const Var<T>& c) {
  const std::size_t H = c.cols();
  Var<T> i = sigmoid(cols(z, 0, H)), f = sigmoid(cols(z, H, 2 * H));
  Var<T> g = tanh(cols(z, 2 * H, 3 * H)), o = sigmoid(cols(z, 3 * H, 4 * H));
  Var<T> cn = f * c + i * g;
  return {o * tanh(cn), cn};
}
template <class T>
Var<T> gru_ref(const Var<T>& gi, const Var<T>& gh, const Var<T>& h) {
  const std::size_t H = h.cols();
  Var<T> r = sigmoid(cols(gi, 0, H) + cols(gh, 0, H));
  Var<T> z = sigmoid(cols(gi, H, 2 * H) + cols(gh, H, 2 * H));
  Var<T> n = tanh(cols(gi, 2 * H, 3 * H) + r * cols(gh, 2 * H, 3 * H));
  Var<T> one_minus_z = add_scalar(neg(z), T(1));
  return one_minus_z * n + z * h;  // PyTorch's (1 - z)⊙n + z⊙h, written literally
}

// Σ y ⊙ R with a fixed R: a scalar loss that sends a different dy to every entry.
template <class T>
Var<T> project(const Var<T>& y, std::uint64_t seed) {
  return sum(mul(y, constant(randn<T>(y.rows(), y.cols(), seed))));
}
}  // namespace

TEST_SUITE("ops.rnn") {

// ---- lstm_gates ------------------------------------------------------------------------------------
TEST_CASE("lstm_gates: forward by hand (H = 1)") {
  // z = [i, f, g, o] = [0, ln 3, atanh(0.5), 0] -> i = 0.5, f = 0.75, g = 0.5, o = 0.5; c_prev = 2
  Var<double> z = constant(mat<double>({{0.0, std::log(3.0), std::atanh(0.5), 0.0}}));
  Var<double> c = constant(mat<double>({{2.0}}));
  LSTMGates<double> s = lstm_gates(z, c);
  CHECK(s.c.item() == doctest::Approx(0.75 * 2 + 0.5 * 0.5));
  CHECK(s.h.item() == doctest::Approx(0.5 * std::tanh(1.75)));
}

TEST_CASE_TEMPLATE("lstm_gates: fused equals the composition of plain ops (values and gradients)", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (auto s : kShapes) {
    CAPTURE(s.B);
    CAPTURE(s.H);
    Var<T> gi = parameter(randn<T>(s.B, 4 * s.H, 1)), gh = parameter(randn<T>(s.B, 4 * s.H, 2));
    Var<T> c = parameter(randn<T>(s.B, s.H, 3));
    LSTMGates<T> f = lstm_gates(gi, gh, c);
    LSTMGates<T> r = lstm_ref(gi + gh, c);
    CHECK_MAT_NEAR(f.h.value(), r.h.value(), tol);
    CHECK_MAT_NEAR(f.c.value(), r.c.value(), tol);
    // gradients through both outputs
    add(project(f.h, 10), project(f.c, 11)).backward();
    Mat<T> dgi = gi.grad(), dgh = gh.grad(), dc = c.grad();
    gi.zero_grad();
    gh.zero_grad();
    c.zero_grad();
    add(project(r.h, 10), project(r.c, 11)).backward();
    CHECK_MAT_NEAR(dgi, gi.grad(), tol);
    CHECK_MAT_NEAR(dgh, gh.grad(), tol);
    CHECK_MAT_NEAR(dc, c.grad(), tol);
    // the one-input form is the same op
    LSTMGates<T> z1 = lstm_gates(gi + gh, c);
    CHECK_MAT_NEAR(z1.h.value(), f.h.value(), tol);
    CHECK_MAT_NEAR(z1.c.value(), f.c.value(), tol);
  }
}

TEST_CASE("lstm_gates: gradcheck (both forms, both outputs)") {
  std::uint64_t seed = 20;
  for (auto s : kShapes) {
    CAPTURE(s.B);
    CAPTURE(s.H);
    VarD gi = parameter(randn(s.B, 4 * s.H, seed++)), gh = parameter(randn(s.B, 4 * s.H, seed++));
    VarD c = parameter(randn(s.B, s.H, seed++));
    CHECK_GRADCHECK([&] { auto r = lstm_gates(gi, gh, c); return concat_cols(std::vector<VarD>{r.h, r.c}); },
                    (Inputs{{"gi", gi}, {"gh", gh}, {"c_prev", c}}));
    CHECK_GRADCHECK([&] { auto r = lstm_gates(gi, c); return concat_cols(std::vector<VarD>{r.h, r.c}); },
                    (Inputs{{"z", gi}, {"c_prev", c}}));
    // only h reaches the loss (c's gradient then comes from h alone), and only c
    CHECK_GRADCHECK([&] { return lstm_gates(gi, gh, c).h; }, (Inputs{{"gi", gi}, {"gh", gh}, {"c_prev", c}}));
    CHECK_GRADCHECK([&] { return lstm_gates(gi, gh, c).c; }, (Inputs{{"gi", gi}, {"gh", gh}, {"c_prev", c}}));
  }
}

TEST_CASE("lstm_gates: two steps chained, and the input used twice") {
  VarD gi = parameter(randn(2, 12, 30)), c0 = parameter(randn(2, 3, 31));
  CHECK_GRADCHECK([&] {
    auto s1 = lstm_gates(gi, gi, c0);             // gi used twice in one op
    auto s2 = lstm_gates(gi, s1.c);               // and again at the next step
    return concat_cols(std::vector<VarD>{s2.h, s1.h, s2.c});
  }, (Inputs{{"gi", gi}, {"c0", c0}}));
}

TEST_CASE("lstm_gates: saturates without NaN") {
  Var<float> z = parameter(full<float>(2, 8, 1e4f)), c = parameter(full<float>(2, 2, -1e4f));
  auto s = lstm_gates(z, c);
  add(sum(s.h), sum(s.c)).backward();
  CHECK(all_finite(s.h.value()));
  CHECK(all_finite(z.grad()));
  CHECK(all_finite(c.grad()));
  Var<float> zn = parameter(full<float>(2, 8, -1e4f));
  auto t = lstm_gates(zn, c);
  sum(t.h).backward();
  CHECK(all_finite(t.h.value()));
  CHECK(all_finite(zn.grad()));
}

TEST_CASE("lstm_gates, gru_gates, rnn_gates: the float kernels agree with double over [-30, 30]") {
  // float runs vectorized exp/tanh polynomials; double runs std::exp / std::tanh. Inputs are made
  // float-representable first, so the difference is the kernels' own error.
  const std::size_t B = 3, H = 37;  // H not a multiple of 16: the vector tail is exercised
  auto in = [](std::size_t r, std::size_t c, double lo, double hi, std::uint64_t seed) {
    return unroll::to_precision<double>(unroll::to_precision<float>(randu(r, c, lo, hi, seed)));
  };
  auto f32 = [](const Mat<double>& m) { return constant(unroll::to_precision<float>(m)); };
  auto f64 = [](const Var<float>& v) { return unroll::to_precision<double>(v.value()); };
  Mat<double> z = in(B, 4 * H, -30, 30, 300), g = in(B, 4 * H, -3, 3, 301), c = in(B, H, -5, 5, 302);
  auto fd = lstm_gates(constant(z), constant(g), constant(c));
  auto ff = lstm_gates(f32(z), f32(g), f32(c));
  CHECK_MAT_NEAR(f64(ff.h), fd.h.value(), 1e-6);
  CHECK_MAT_NEAR(f64(ff.c), fd.c.value(), 4e-6);  // |c| up to ~6: a few float ulps
  Mat<double> gi = in(B, 3 * H, -30, 30, 303), gh = in(B, 3 * H, -30, 30, 304), h = in(B, H, -1, 1, 305);
  // n's pre-activation gi_n + r·gh_n (|.| up to 60) is itself rounded to float: ~2e-6 before tanh
  CHECK_MAT_NEAR(f64(gru_gates(f32(gi), f32(gh), f32(h))), gru_gates(constant(gi), constant(gh), constant(h)).value(),
                 4e-6);
  Mat<double> a = in(B, H, -30, 30, 306), b = in(B, H, -1, 1, 307);
  CHECK_MAT_NEAR(f64(rnn_gates(f32(a), f32(b))), rnn_gates(constant(a), constant(b)).value(), 1e-6);
}

TEST_CASE("lstm_gates: shape errors name the op and the shapes") {
  Var<double> z = constant(zeros<double>(2, 8)), c = constant(zeros<double>(2, 3));
  CHECK_THROWS_WITH_AS(lstm_gates(z, c), doctest::Contains("lstm_gates: gates are [2, 8], c_prev is [2, 3]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(lstm_gates(constant(zeros<double>(2, 12)), constant(zeros<double>(2, 8)), c),
                       doctest::Contains("gi is [2, 12], gh is [2, 8]"), ShapeError);
  CHECK_THROWS_AS(lstm_gates(z, Var<double>()), ShapeError);
}

// ---- gru_gates -------------------------------------------------------------------------------------
TEST_CASE("gru_gates: forward by hand (H = 1)") {
  // r = σ(0) = 0.5, z = σ(ln 3) = 0.75, n = tanh(0.2 + 0.5·0.6) = tanh(0.5); h' = 0.25·n + 0.75·h
  Var<double> gi = constant(mat<double>({{0.0, std::log(3.0), 0.2}})), gh = constant(mat<double>({{0.0, 0.0, 0.6}}));
  Var<double> h = constant(mat<double>({{-1.0}}));
  CHECK(gru_gates(gi, gh, h).item() == doctest::Approx(0.25 * std::tanh(0.5) - 0.75));
}

TEST_CASE_TEMPLATE("gru_gates: fused equals the composition of plain ops (values and gradients)", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (auto s : kShapes) {
    CAPTURE(s.B);
    CAPTURE(s.H);
    Var<T> gi = parameter(randn<T>(s.B, 3 * s.H, 4)), gh = parameter(randn<T>(s.B, 3 * s.H, 5));
    Var<T> h = parameter(randn<T>(s.B, s.H, 6));
    Var<T> f = gru_gates(gi, gh, h), r = gru_ref(gi, gh, h);
    CHECK_MAT_NEAR(f.value(), r.value(), tol);
    project(f, 12).backward();
    Mat<T> dgi = gi.grad(), dgh = gh.grad(), dh = h.grad();
    gi.zero_grad();
    gh.zero_grad();
    h.zero_grad();
    project(r, 12).backward();
    CHECK_MAT_NEAR(dgi, gi.grad(), tol);
    CHECK_MAT_NEAR(dgh, gh.grad(), tol);
    CHECK_MAT_NEAR(dh, h.grad(), tol);
  }
}

TEST_CASE("gru_gates: gradcheck, and the input used twice") {
  std::uint64_t seed = 40;
  for (auto s : kShapes) {
    CAPTURE(s.B);
    CAPTURE(s.H);
    VarD gi = parameter(randn(s.B, 3 * s.H, seed++)), gh = parameter(randn(s.B, 3 * s.H, seed++));
    VarD h = parameter(randn(s.B, s.H, seed++));
    CHECK_GRADCHECK([&] { return gru_gates(gi, gh, h); }, (Inputs{{"gi", gi}, {"gh", gh}, {"h_prev", h}}));
    CHECK_GRADCHECK([&] { return gru_gates(gi, gi, gru_gates(gi, gh, h)); }, (Inputs{{"gi", gi}, {"gh", gh}, {"h", h}}));
  }
}

TEST_CASE("gru_gates: shape errors") {
  Var<double> g = constant(zeros<double>(2, 9)), h = constant(zeros<double>(2, 4));
  CHECK_THROWS_WITH_AS(gru_gates(g, g, h), doctest::Contains("gru_gates: gates are [2, 9], h_prev is [2, 4]"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(gru_gates(constant(zeros<double>(2, 12)), g, h),
                       doctest::Contains("gi is [2, 12], gh is [2, 9]"), ShapeError);
}

// ---- rnn_gates -------------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("rnn_gates: equals tanh(gi + gh) and relu(gi + gh), values and gradients", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  for (bool relu : {false, true}) {
    CAPTURE(relu);
    Var<T> gi = parameter(randn<T>(3, 4, 7)), gh = parameter(randn<T>(3, 4, 8));
    Var<T> f = rnn_gates(gi, gh, relu), r = relu ? unroll::relu(gi + gh) : unroll::tanh(gi + gh);
    CHECK_MAT_NEAR(f.value(), r.value(), tol);
    project(f, 13).backward();
    Mat<T> dgi = gi.grad(), dgh = gh.grad();
    gi.zero_grad();
    gh.zero_grad();
    project(r, 13).backward();
    CHECK_MAT_NEAR(dgi, gi.grad(), tol);
    CHECK_MAT_NEAR(dgh, gh.grad(), tol);
  }
}

TEST_CASE("rnn_gates: gradcheck and shape error") {
  std::uint64_t seed = 60;
  for (auto s : kShapes) {
    VarD gi = parameter(randn(s.B, s.H, seed++)), gh = parameter(randn(s.B, s.H, seed++));
    CHECK_GRADCHECK([&] { return rnn_gates(gi, gh); }, (Inputs{{"gi", gi}, {"gh", gh}}));
    CHECK_GRADCHECK([&] { return rnn_gates(gi, gi); }, (Inputs{{"gi", gi}}));
  }
  CHECK_THROWS_WITH_AS(rnn_gates(constant(zeros<double>(2, 3)), constant(zeros<double>(3, 2))),
                       doctest::Contains("rnn_gates: gi is [2, 3], gh is [3, 2]"), ShapeError);
}

// ---- linear_fused, split_rows, project_steps -------------------------------------------------------
TEST_CASE_TEMPLATE("linear_fused: equals linear (values and gradients), with and without bias", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (bool with_bias : {true, false}) {
    CAPTURE(with_bias);
    Var<T> x = parameter(randn<T>(5, 3, 9)), W = parameter(randn<T>(4, 3, 10));
    Var<T> b = with_bias ? parameter(randn<T>(1, 4, 11)) : Var<T>();
    Var<T> f = linear_fused(x, W, b), r = linear(x, W, b);
    CHECK_MAT_NEAR(f.value(), r.value(), tol);
    project(f, 14).backward();
    Mat<T> dx = x.grad(), dW = W.grad(), db = with_bias ? b.grad() : Mat<T>();
    x.zero_grad();
    W.zero_grad();
    if (with_bias) b.zero_grad();
    project(r, 14).backward();
    CHECK_MAT_NEAR(dx, x.grad(), tol);
    CHECK_MAT_NEAR(dW, W.grad(), tol);
    if (with_bias) CHECK_MAT_NEAR(db, b.grad(), tol);
  }
}

TEST_CASE("linear_fused: gradcheck and shape errors") {
  VarD x = parameter(randn(1, 3, 70)), W = parameter(randn(2, 3, 71)), b = parameter(randn(1, 2, 72));
  CHECK_GRADCHECK([&] { return linear_fused(x, W, b); }, (Inputs{{"x", x}, {"W", W}, {"b", b}}));
  VarD sq = parameter(randn(3, 3, 73));
  CHECK_GRADCHECK([&] { return linear_fused(sq, sq, Var<double>()); }, (Inputs{{"x=W", sq}}));
  CHECK_THROWS_WITH_AS(linear_fused(x, parameter(randn(2, 4, 1)), b),
                       doctest::Contains("x is [1, 3], weight is [2, 4]"), ShapeError);
  CHECK_THROWS_WITH_AS(linear_fused(x, W, parameter(randn(1, 3, 1))), doctest::Contains("bias is [1, 3]"), ShapeError);
}

TEST_CASE("split_rows: values, gradcheck (every slice and a subset), errors") {
  VarD x = parameter(randn(6, 2, 80));
  auto parts = split_rows(x, 3);
  REQUIRE(parts.size() == 3);
  CHECK_MAT_NEAR(parts[1].value(), xt::view(x.value(), xt::range(2, 4), xt::all()), 0);
  CHECK_GRADCHECK([&] { auto p = split_rows(x, 3); return concat_cols(std::vector<VarD>{p[2], p[0], p[2]}); },
                  (Inputs{{"x", x}}));
  CHECK_THROWS_WITH_AS(split_rows(x, 4), doctest::Contains("split_rows: 6 rows do not split into 4"), ShapeError);
}

TEST_CASE_TEMPLATE("project_steps: equals per-step linear(x_t, W, b_ih) + b_hh (values and gradients)", T, float,
                   double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const std::size_t steps = 4, B = 2, in = 3, G = 5;
  Var<T> W = parameter(randn<T>(G, in, 90)), b1 = parameter(randn<T>(1, G, 91)), b2 = parameter(randn<T>(1, G, 92));
  std::vector<Var<T>> xs;
  for (std::size_t t = 0; t < steps; ++t) xs.push_back(parameter(randn<T>(B, in, 100 + t)));
  auto fused = project_steps(xs, W, {b1, b2});
  REQUIRE(fused.size() == steps);
  Var<T> loss_f = constant(zeros<T>(1, 1)), loss_r = constant(zeros<T>(1, 1));
  std::vector<Var<T>> ref;
  for (std::size_t t = 0; t < steps; ++t) {
    ref.push_back(add_bias(linear(xs[t], W, b1), b2));
    CHECK_MAT_NEAR(fused[t].value(), ref[t].value(), tol);
    loss_f = loss_f + project(fused[t], 200 + t);
    loss_r = loss_r + project(ref[t], 200 + t);
  }
  auto grads = [&] {
    std::vector<Mat<T>> g{W.grad(), b1.grad(), b2.grad()};
    for (auto& x : xs) g.push_back(x.grad());
    W.zero_grad();
    b1.zero_grad();
    b2.zero_grad();
    for (auto& x : xs) x.zero_grad();
    return g;
  };
  loss_f.backward();
  auto gf = grads();
  loss_r.backward();
  auto gr = grads();
  for (std::size_t k = 0; k < gf.size(); ++k) {
    CAPTURE(k);
    CHECK_MAT_NEAR(gf[k], gr[k], tol);
  }
}

TEST_CASE("project_steps: gradcheck (T = 1 and T = 3, batch 1 and 2), errors") {
  for (std::size_t steps : {1, 3})
    for (std::size_t B : {1, 2}) {
      CAPTURE(steps);
      CAPTURE(B);
      VarD x = parameter(randn(steps * B, 3, 110 + steps + B)), W = parameter(randn(4, 3, 111)),
           b = parameter(randn(1, 4, 112));
      CHECK_GRADCHECK([&] { return concat_rows(project_steps(x, W, {b, Var<double>()}, steps)); },
                      (Inputs{{"x_all", x}, {"W_ih", W}, {"b", b}}));
    }
  VarD x = parameter(randn(5, 3, 1)), W = parameter(randn(4, 3, 2));
  CHECK_THROWS_WITH_AS(project_steps(x, W, {}, 2), doctest::Contains("x_all is [5, 3], which does not split into 2"),
                       ShapeError);
  CHECK_THROWS_AS(project_steps(std::vector<VarD>{}, W, {}), ShapeError);
}

}  // TEST_SUITE
