// tests/test_numerics.cc — numerical safety (issue 8):
//   - cross_entropy, bce_with_logits, sigmoid, tanh, softmax and log_softmax stay finite AND correct (against a
//     long double reference) for logits of ±1e4, in float and double, gradients included; they run under
//     AnomalyGuard, so no intermediate NaN/Inf is produced either;
//   - a training step whose gradient holds NaN/Inf is refused (clip_grad_norm_ and every optimizer's step())
//     with a message naming the parameter, and the weights, gradients and optimizer state are bitwise untouched;
//     the next good step is the same as if the bad one had never happened;
//   - a checkpoint never holds a NaN/Inf: saving refuses one (the old file stays as it was), loading refuses one,
//     and an F64 value too large for a float model is refused rather than turned into an infinity.
#include "engine/ops.h"
#include "nn/checkpoint.h"
#include "nn/clip.h"
#include "nn/linear.h"
#include "nn/optim.h"

#include "tests/expect_error.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace unroll;
namespace fs = std::filesystem;


namespace {

using LD = long double;

template <class T>
bool all_finite(const Mat<T>& m) {
  for (T v : m)
    if (!std::isfinite(v)) return false;
  return true;
}
template <class T>
bool bitwise_equal(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}
// |got - want| <= atol + rtol·|want|, per precision.
template <class T>
void check_close(double got, LD want, const char* what) {
  const double rtol = std::is_same_v<T, float> ? 2e-6 : 1e-13, atol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  CAPTURE(what);
  CAPTURE(got);
  CAPTURE(double(want));
  CHECK(std::isfinite(got));
  CHECK(std::abs(LD(got) - want) <= atol + rtol * std::abs(want));
}

// Logits with ±1e4 everywhere: rows that are all huge, all tiny, tied at the top, and mixed.
template <class T>
Mat<T> huge_logits() {
  const T a = T(1e4);
  return mat<T>({{a, -a, T(0), T(1)}, {-a, -a, -a, -a}, {a, a, -a, T(-1)}, {-a, T(0), a, T(a - 1)}, {a, a, a, a}});
}

template <class T>
std::vector<std::vector<LD>> ref_log_softmax(const Mat<T>& x) {
  std::vector<std::vector<LD>> out;
  for (std::size_t r = 0; r < x.shape(0); ++r) {
    LD m = x(r, 0);
    for (std::size_t k = 1; k < x.shape(1); ++k) m = std::max(m, LD(x(r, k)));
    LD s = 0;
    for (std::size_t k = 0; k < x.shape(1); ++k) s += std::exp(LD(x(r, k)) - m);
    std::vector<LD> row;
    for (std::size_t k = 0; k < x.shape(1); ++k) row.push_back(LD(x(r, k)) - m - std::log(s));
    out.push_back(row);
  }
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("unroll_numerics_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

// ---- finite and correct at ±1e4 --------------------------------------------------------------------------

TEST_CASE_TEMPLATE("numerics: cross_entropy at logits ±1e4 is finite and exact, gradient included", T, float, double) {
  AnomalyGuard anomaly;  // any NaN/Inf in a forward value or a gradient throws
  const Mat<T> x = huge_logits<T>();
  const std::vector<std::int64_t> targets = {1, 3, 0, 0, 2};
  const auto ref = ref_log_softmax(x);
  const std::size_t B = x.shape(0), K = x.shape(1);

  for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    CAPTURE(int(red));
    Var<T> logits = parameter(x);
    Var<T> loss = cross_entropy(logits, targets, -100, red);
    Var<T> scalar = red == Reduction::None ? sum(loss) : loss;
    scalar.backward();
    LD total = 0;
    for (std::size_t r = 0; r < B; ++r) {
      const LD l = -ref[r][std::size_t(targets[r])];
      total += l;
      if (red == Reduction::None) check_close<T>(double(loss.value()(r, 0)), l, "per-row loss");
    }
    const LD w = red == Reduction::Mean ? LD(1) / LD(B) : LD(1);
    if (red != Reduction::None) check_close<T>(double(loss.item()), total * w, "reduced loss");
    REQUIRE(all_finite(logits.grad()));
    for (std::size_t r = 0; r < B; ++r)
      for (std::size_t k = 0; k < K; ++k) {
        const LD g = w * (std::exp(ref[r][k]) - (k == std::size_t(targets[r]) ? 1 : 0));
        check_close<T>(double(logits.grad()(r, k)), g, "d loss / d logits");
      }
  }
  // the two extremes: 2e4 nats for a target at -1e4 next to +1e4, exactly 0 for a sure hit
  Var<T> l = cross_entropy(parameter(mat<T>({{T(1e4), T(-1e4)}, {T(1e4), T(-1e4)}})), {1, 0}, -100, Reduction::None);
  CHECK(l.value()(0, 0) == T(2e4));
  CHECK(l.value()(1, 0) == T(0));
}

TEST_CASE_TEMPLATE("numerics: log_softmax and softmax at ±1e4 are finite and exact, gradients included", T, float,
                   double) {
  AnomalyGuard anomaly;
  const Mat<T> x = huge_logits<T>();
  const auto ref = ref_log_softmax(x);
  const std::size_t B = x.shape(0), K = x.shape(1);
  // a fixed projection R, so every entry of the gradient is exercised: L = Σ R ⊙ f(x)
  Mat<T> R = Mat<T>::from_shape({B, K});
  for (std::size_t i = 0; i < R.size(); ++i) R.data()[i] = T(0.25) * T(int(i % 7) - 3);

  Var<T> a = parameter(x);
  Var<T> y = log_softmax(a);
  sum(mul(y, constant(R))).backward();
  Var<T> b = parameter(x);
  Var<T> p = softmax(b);
  sum(mul(p, constant(R))).backward();
  REQUIRE(all_finite(a.grad()));
  REQUIRE(all_finite(b.grad()));
  for (std::size_t r = 0; r < B; ++r) {
    LD rs = 0, rp = 0;
    for (std::size_t k = 0; k < K; ++k) {
      rs += R(r, k);
      rp += R(r, k) * std::exp(ref[r][k]);
    }
    for (std::size_t k = 0; k < K; ++k) {
      const LD s = std::exp(ref[r][k]);
      check_close<T>(double(y.value()(r, k)), ref[r][k], "log_softmax");
      check_close<T>(double(p.value()(r, k)), s, "softmax");
      check_close<T>(double(a.grad()(r, k)), R(r, k) - s * rs, "d log_softmax");
      check_close<T>(double(b.grad()(r, k)), s * (R(r, k) - rp), "d softmax");
    }
  }
}

TEST_CASE_TEMPLATE("numerics: sigmoid and tanh saturate to exact limits with zero (not NaN) gradients", T, float,
                   double) {
  AnomalyGuard anomaly;
  // ±1e4, and the points where e^x over/underflows in float (88.7, 103) and double (709.8, 745)
  const Mat<T> x = mat<T>({{T(1e4), T(-1e4), T(88.8), T(-88.8), T(104), T(-104)},
                           {T(710), T(-710), T(746), T(-746), T(0), T(-0.0)}});
  Var<T> a = parameter(x), b = parameter(x);
  Var<T> s = sigmoid(a), t = unroll::tanh(b);
  sum(s).backward();
  sum(t).backward();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const LD v = x.data()[i];
    const LD sr = v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
    const LD tr = std::tanh(v);
    CAPTURE(double(v));
    check_close<T>(double(s.value().data()[i]), sr, "sigmoid");
    check_close<T>(double(t.value().data()[i]), tr, "tanh");
    check_close<T>(double(a.grad().data()[i]), sr * (1 - sr), "d sigmoid");
    check_close<T>(double(b.grad().data()[i]), 1 - tr * tr, "d tanh");
    CHECK(s.value().data()[i] >= T(0));
    CHECK(s.value().data()[i] <= T(1));
  }
  CHECK(s.value()(0, 0) == T(1));
  CHECK(s.value()(0, 1) == T(0));
  CHECK(t.value()(0, 0) == T(1));
  CHECK(t.value()(0, 1) == T(-1));
}

TEST_CASE_TEMPLATE("numerics: bce_with_logits at ±1e4 is finite and exact, gradient included", T, float, double) {
  AnomalyGuard anomaly;
  const T a = T(1e4);
  const Mat<T> x = mat<T>({{a, a, a, -a, -a, -a}, {T(30), T(-30), T(200), T(-200), T(0), T(1)}});
  const Mat<T> y = mat<T>({{T(0), T(1), T(0.5), T(0), T(1), T(0.5)}, {T(0), T(1), T(1), T(0), T(0.5), T(0.25)}});
  for (Reduction red : {Reduction::Sum, Reduction::None}) {
    Var<T> v = parameter(x);
    Var<T> l = bce_with_logits(v, y, red);
    (red == Reduction::None ? sum(l) : l).backward();
    LD total = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const LD xv = x.data()[i], yv = y.data()[i];
      const LD li = std::max(xv, LD(0)) - xv * yv + std::log1p(std::exp(-std::abs(xv)));
      const LD sg = xv >= 0 ? 1 / (1 + std::exp(-xv)) : std::exp(xv) / (1 + std::exp(xv));
      total += li;
      if (red == Reduction::None) check_close<T>(double(l.value().data()[i]), li, "bce per entry");
      check_close<T>(double(v.grad().data()[i]), sg - yv, "d bce");
    }
    if (red == Reduction::Sum) check_close<T>(double(l.item()), total, "bce sum");
  }
}

// ---- a step with a NaN/Inf gradient is refused ---------------------------------------------------------

namespace {

// A Linear(3, 2) and one loss whose gradient is healthy (poison = 1) or poisoned: dL/dy[0, 0] = poison, so
// dW[0, :] = poison · x and db[0, 0] = poison (NaN, +Inf or -Inf).
struct Toy {
  Rng rng{3};
  Linear<float> fc{3, 2, rng};
  void backward(float poison) {
    Var<float> x = constant(mat<float>({{0.5f, -1.0f, 2.0f}}));
    Var<float> w = constant(mat<float>({{poison, 1.0f}}));
    sum(mul(fc(x), w)).backward();
  }
  std::vector<Mat<float>> values() {
    std::vector<Mat<float>> v;
    for (auto& p : fc.parameters()) v.push_back(p.var.value());
    return v;
  }
  std::vector<Mat<float>> grads() {
    std::vector<Mat<float>> v;
    for (auto& p : fc.parameters()) v.push_back(p.var.grad());
    return v;
  }
};

bool same(const std::vector<Mat<float>>& a, const std::vector<Mat<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!bitwise_equal(a[i], b[i])) return false;
  return true;
}
bool same(const Optimizer<float>::StateTensors& a, const Optimizer<float>::StateTensors& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || !bitwise_equal(a[i].second, b[i].second)) return false;
  return true;
}

std::unique_ptr<Optimizer<float>> make_opt(int which, std::vector<NamedParam<float>> ps) {
  switch (which) {
    case 0: return std::make_unique<SGD<float>>(ps, SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
    case 1: return std::make_unique<Adagrad<float>>(ps, AdagradOptions{.lr = 0.1});
    case 2: return std::make_unique<RMSprop<float>>(ps, RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
    case 3: return std::make_unique<Adam<float>>(ps, AdamOptions{.lr = 0.01, .amsgrad = true});
    default: return std::make_unique<Adam<float>>(ps, AdamOptions{.lr = 0.01, .weight_decay = 0.01,
                                                                  .decoupled_weight_decay = true});
  }
}

}  // namespace

TEST_CASE("numerics: a step whose gradient is NaN/Inf is refused by clipping and by every optimizer, nothing changes") {
  const float poisons[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()};
  for (int which = 0; which < 5; ++which)
    for (float poison : poisons) {
      Toy toy, twin;  // twin never sees the bad step
      auto opt = make_opt(which, toy.fc.parameters());
      auto opt2 = make_opt(which, twin.fc.parameters());
      CAPTURE(opt->describe());
      CAPTURE(poison);
      for (int k = 0; k < 2; ++k) {  // two good steps first: the optimizer has state to protect
        for (auto* t : {&toy, &twin}) t->fc.zero_grad();
        toy.backward(1.0f);
        twin.backward(1.0f);
        opt->step();
        opt2->step();
      }
      toy.fc.zero_grad();
      toy.backward(poison);
      const auto w0 = toy.values(), g0 = toy.grads();
      const auto s0 = opt->state();
      const auto m0 = opt->state_meta();
      const std::uint64_t n0 = opt->steps();

      CHECK(!std::isfinite(grad_norm(toy.fc.parameters())));
      EXPECT_ERROR(NumericError, clip_grad_norm_(toy.fc.parameters(), 1.0), "clip_grad_norm_", "gradient of 'weight'",
                   "[2, 3]", "not finite", "step refused");
      CHECK(same(toy.grads(), g0));  // clipping did not rescale anything
      EXPECT_ERROR(NumericError, opt->step(), ".step", "gradient of 'weight'", "not finite", "(0, 0)",
                   "no weight changed");
      CHECK(same(toy.values(), w0));
      CHECK(same(toy.grads(), g0));
      CHECK(same(opt->state(), s0));
      CHECK(opt->state_meta() == m0);
      CHECK(opt->steps() == n0);

      // skip the batch and carry on: the same as never having seen it
      toy.fc.zero_grad();
      twin.fc.zero_grad();
      toy.backward(1.0f);
      twin.backward(1.0f);
      opt->step();
      opt2->step();
      CHECK(same(toy.values(), twin.values()));
      CHECK(same(opt->state(), opt2->state()));
    }
}

TEST_CASE("numerics: check_finite_grads names the parameter, the first bad entry and the count") {
  Toy toy;
  toy.backward(std::numeric_limits<float>::infinity());
  EXPECT_ERROR(NumericError, check_finite_grads(toy.fc.parameters(), "my_trainer"), "my_trainer:", "'weight'", "[2, 3]",
               "(0, 0) = inf", "3 non-finite entries");
  Toy ok;
  ok.backward(1.0f);
  CHECK_NOTHROW(check_finite_grads(ok.fc.parameters()));
}

// ---- never a NaN/Inf in a checkpoint ---------------------------------------------------------------------

TEST_CASE("numerics: saving refuses NaN/Inf weights or optimizer state and leaves the old file as it was") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  Toy toy;
  save_model(path, toy.fc);
  const std::string before = read_file_bytes(path);

  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    CAPTURE(bad);
    Toy t;
    t.fc.bias().value()(0, 1) = bad;
    EXPECT_ERROR(CheckpointError, save_model(path, t.fc), "model.safetensors", "'bias'", "flat index 1",
                 "not finite");
    TrainingState<float> st;
    st.optimizer_tensors = {{"exp_avg.weight", full<float>(2, 3, bad)}};
    EXPECT_ERROR(CheckpointError, save_training_checkpoint<float>(path, toy.fc, st), "model.safetensors",
                 "exp_avg.weight", "not finite");
    CHECK(read_file_bytes(path) == before);
    CHECK(dir.listing() == std::vector<std::string>{"model.safetensors"});  // no temporary left behind
  }
}

namespace {
// A safetensors file by hand (no checksum: as PyTorch would write it) holding one [1, 2] tensor "w".
std::string one_tensor_file(const char* dtype, const std::string& data) {
  std::string header = std::string("{\"w\":{\"dtype\":\"") + dtype + "\",\"shape\":[1,2],\"data_offsets\":[0," +
                       std::to_string(data.size()) + "]}}";
  while (header.size() % 8) header += ' ';
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + header + data;
}
template <class T>
std::string le_bytes(std::initializer_list<T> vs) {
  std::string s;
  for (T v : vs) s.append(reinterpret_cast<const char*>(&v), sizeof(T));  // the test machine is little-endian
  return s;
}
}  // namespace

TEST_CASE("numerics: loading refuses NaN/Inf values and F64 values that overflow a float model") {
  TempDir dir;
  const std::string path = (dir.path / "foreign.safetensors").string();
  const LoadOptions foreign{.strict = true, .require_checksum = false};
  auto wf = parameter(full<float>(1, 2, 0.5f));
  auto wd = parameter(full<double>(1, 2, 0.5));
  std::vector<NamedParam<float>> pf = {{"w", wf}};
  std::vector<NamedParam<double>> pd = {{"w", wd}};

  write_file_atomic(path, one_tensor_file("F32", le_bytes<float>({1.0f, std::nanf("")})));
  EXPECT_ERROR(CheckpointError, load_model<float>(path, pf, foreign), "foreign.safetensors", "'w'", "flat index 1",
               "not finite");
  write_file_atomic(path, one_tensor_file("F64", le_bytes<double>({-HUGE_VAL, 1.0})));
  EXPECT_ERROR(CheckpointError, load_model<double>(path, pd, foreign), "'w'", "flat index 0", "not finite");

  // 1e300 is a finite double but no float: a float model must refuse it, not load +inf
  write_file_atomic(path, one_tensor_file("F64", le_bytes<double>({1.0, 1e300})));
  CHECK_NOTHROW(load_model<double>(path, pd, foreign));
  CHECK(wd.value()(0, 1) == 1e300);
  EXPECT_ERROR(CheckpointError, load_model<float>(path, pf, foreign), "foreign.safetensors", "'w'", "flat index 1",
               "1e+300");
  CHECK(wf.value() == full<float>(1, 2, 0.5f));
  CHECK(all_finite(wf.value()));

  // the largest float survives F64 -> F32 exactly
  write_file_atomic(path, one_tensor_file("F64", le_bytes<double>({double(std::numeric_limits<float>::max()),
                                                                    -double(std::numeric_limits<float>::max())})));
  CHECK_NOTHROW(load_model<float>(path, pf, foreign));
  CHECK(wf.value()(0, 0) == std::numeric_limits<float>::max());
}
