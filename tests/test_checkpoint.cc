// tests/test_checkpoint.cc — model files and training checkpoints: round trips, PyTorch interop (a
// fixture written by PyTorch, a file of ours read back by PyTorch), all-or-nothing loads, metadata
// validation, exact resume, and SIGKILL during saves.
#include "nn/checkpoint.h"

#include "engine/ops.h"
#include "engine/rng.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "nn/recurrent.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace unroll;
namespace fs = std::filesystem;

namespace {

// A module with exactly the state_dict of the PyTorch fixture's Tagger:
// Embedding(6,3) + LSTM(3,4,num_layers=2,bidirectional=True) + Linear(8,5). Biases are [1, n] as in unroll.
template <class T>
struct TinyTagger : Module<T> {
  std::vector<NamedParam<T>> params;
  TinyTagger() {
    auto add = [&](const std::string& n, std::size_t r, std::size_t c) { params.push_back({n, parameter(zeros<T>(r, c), n)}); };
    add("embed.weight", 6, 3);
    for (int layer = 0; layer < 2; ++layer)
      for (std::string sfx : {"", "_reverse"}) {
        std::string l = "_l" + std::to_string(layer) + sfx;
        add("lstm.weight_ih" + l, 16, layer == 0 ? 3 : 8);
        add("lstm.weight_hh" + l, 16, 4);
        add("lstm.bias_ih" + l, 1, 16);
        add("lstm.bias_hh" + l, 1, 16);
      }
    add("fc.weight", 5, 8);
    add("fc.bias", 1, 5);
  }
  std::vector<NamedParam<T>> parameters() override { return params; }
  std::string describe() const override { return "TinyTagger()"; }
  // Tensor j at flat index k: the formula tools/torch/make_safetensors_fixture.py checks.
  void fill_formula() {
    for (std::size_t j = 0; j < params.size(); ++j) {
      Mat<T>& m = params[j].var.value();
      for (std::size_t k = 0; k < m.size(); ++k) m.data()[k] = T(double((k * 7 + j * 13) % 97) / 97.0 - 0.5);
    }
  }
  std::vector<Mat<T>> snapshot() {
    std::vector<Mat<T>> s;
    for (auto& p : params) s.push_back(p.var.value());
    return s;
  }
};

template <class T>
bool same_bits(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
bool unchanged(TinyTagger<T>& m, const std::vector<Mat<T>>& before) {
  for (std::size_t i = 0; i < before.size(); ++i)
    if (!same_bits(m.params[i].var.value(), before[i])) return false;
  return true;
}

// A fresh folder under the build tree (or /tmp), removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
#ifdef UNROLL_BINARY_DIR
    fs::path base = fs::path(UNROLL_BINARY_DIR) / "test_tmp";
#else
    fs::path base = fs::temp_directory_path();
#endif
    fs::create_directories(base);
    std::string tmpl = (base / "ckpt_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

fs::path source_dir() {
#ifdef UNROLL_SOURCE_DIR
  return UNROLL_SOURCE_DIR;
#else
  return fs::path(__FILE__).parent_path().parent_path();
#endif
}

std::string load_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE_TEMPLATE("checkpoint: model round trip keeps every parameter bitwise plus config and vocab", T, float, double) {
  TempDir dir;
  TinyTagger<T> a;
  Rng rng(7);
  for (auto& p : a.params) p.var.value() = rng.normal_mat<T>(p.var.rows(), p.var.cols());
  ModelInfo info{R"({"arch":"tagger","hidden":4,"layers":2})", {"<pad>", "the", "dog", "é", "\"q\""}, {{"trained_on", "brown"}}};
  save_model<T>(dir.file("m.safetensors"), a, info);

  TinyTagger<T> b;
  ModelInfo got = load_model<T>(dir.file("m.safetensors"), b);
  for (std::size_t i = 0; i < a.params.size(); ++i) CHECK(same_bits(a.params[i].var.value(), b.params[i].var.value()));
  CHECK(got.config == info.config);
  CHECK(got.vocab == info.vocab);
  CHECK(got.extra == info.extra);
  CHECK(read_model_info(dir.file("m.safetensors")).vocab.size() == 5);

  // On disk: PyTorch shapes (biases 1-D), our dtype, our metadata; no temporary left behind.
  SafeTensors f = SafeTensors::read_file(dir.file("m.safetensors"));
  CHECK(f.find("lstm.bias_ih_l1_reverse")->shape == std::vector<std::uint64_t>{16});
  CHECK(f.find("fc.weight")->shape == std::vector<std::uint64_t>{5, 8});
  CHECK(f.find("fc.weight")->dtype == dtype_of<T>());
  CHECK(f.metadata().at("unroll.kind") == "model");
  CHECK(f.metadata().at("unroll.format_version") == "1");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("checkpoint: loads the fixture PyTorch wrote (LSTM + Embedding + Linear in F32, GRU in F64)") {
  fs::path fx = source_dir() / "tests/fixtures/safetensors";
  std::ifstream ef(fx / "expected.json");
  REQUIRE(ef.good());
  nlohmann::json expected = nlohmann::json::parse(ef);

  TinyTagger<float> tagger;
  std::string path = (fx / "tagger_f32.safetensors").string();
  CHECK(load_error([&] { load_model<float>(path, tagger); }).find("no checksum") != std::string::npos);
  ModelInfo info = load_model<float>(path, tagger, LoadOptions{true, false});
  CHECK(info.extra.at("format") == "pt");
  std::size_t checked = 0;
  for (auto& p : tagger.params) {
    INFO(p.name);
    const auto& e = expected["tagger_f32"][p.name];
    REQUIRE(e.is_object());
    double sum = 0;
    for (float v : p.var.value()) sum += v;
    CHECK(sum == doctest::Approx(e["sum"].get<double>()).epsilon(1e-6));
    for (std::size_t k = 0; k < e["first"].size(); ++k) CHECK(double(p.var.value().data()[k]) == e["first"][k].get<double>());
    ++checked;
  }
  CHECK(checked == expected["tagger_f32"].size());

  // The same file into a float64 model (converted exactly), and the F64 GRU into float and double.
  TinyTagger<double> tagger64;
  load_model<double>(path, tagger64, LoadOptions{true, false});
  CHECK(tagger64.params[1].var.value()(0, 0) == double(tagger.params[1].var.value()(0, 0)));
  for (int as_double = 0; as_double < 2; ++as_double) {
    auto run = [&](auto zero) {
      using T = decltype(zero);
      std::vector<NamedParam<T>> gru = {{"weight_ih_l0", parameter(zeros<T>(9, 2))},
                                        {"weight_hh_l0", parameter(zeros<T>(9, 3))},
                                        {"bias_ih_l0", parameter(zeros<T>(1, 9))},
                                        {"bias_hh_l0", parameter(zeros<T>(1, 9))}};
      load_model<T>((fx / "gru_f64.safetensors").string(), gru, LoadOptions{true, false});
      for (auto& p : gru) {
        double sum = 0;
        for (T v : p.var.value()) sum += double(v);
        CHECK(sum == doctest::Approx(expected["gru_f64"][p.name]["sum"].template get<double>()).epsilon(1e-6));
        if (as_double) CHECK(double(p.var.value().data()[0]) == expected["gru_f64"][p.name]["first"][0].template get<double>());
      }
    };
    if (as_double) run(0.0);
    else run(0.0f);
  }
}

void save_real_tagger_with_logits(const std::string& path);  // below, with the real modules

TEST_CASE("checkpoint: PyTorch reads our files back with load_state_dict(strict=True)") {
  TempDir dir;
  TinyTagger<float> f32;
  TinyTagger<double> f64;
  f32.fill_formula();
  f64.fill_formula();
  save_model<float>(dir.file("ours_f32.safetensors"), f32, {R"({"arch":"tagger"})", {"a", "b"}, {}});
  save_model<double>(dir.file("ours_f64.safetensors"), f64);
  save_real_tagger_with_logits(dir.file("ours_real.safetensors"));
  if (std::getenv("UNROLL_SKIP_TORCH") || !fs::exists("/usr/bin/python3")) {
    MESSAGE("skipped: UNROLL_SKIP_TORCH set or no /usr/bin/python3");
    return;
  }
  std::string cmd = "/usr/bin/python3 '" + (source_dir() / "tools/torch/make_safetensors_fixture.py").string() +
                    "' check '" + dir.file("ours_f32.safetensors") + "' F32 '" + dir.file("ours_f64.safetensors") +
                    "' F64 '" + dir.file("ours_real.safetensors") + "' F32 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 3) {
    MESSAGE("skipped: PyTorch is not importable here (", out, ")");
    return;
  }
  CHECK_MESSAGE(code == 0, out);
  CHECK_MESSAGE(out.find("its logits match unroll's") != std::string::npos, out);
  MESSAGE(out);
}

TEST_CASE("checkpoint: a failed load changes no parameter") {
  TempDir dir;
  TinyTagger<float> src;
  src.fill_formula();
  TinyTagger<float> dst;
  Rng rng(3);
  for (auto& p : dst.params) p.var.value() = rng.uniform_mat<float>(p.var.rows(), p.var.cols(), -1, 1);
  auto before = dst.snapshot();

  // Shape mismatch in the LAST tensor: every earlier one would load, none may.
  std::vector<NamedParam<float>> wrong = src.parameters();
  wrong.back().var = parameter(zeros<float>(1, 6));
  save_model<float>(dir.file("shape.safetensors"), wrong);
  CHECK(load_error([&] { load_model<float>(dir.file("shape.safetensors"), dst); })
            .find("tensor 'fc.bias': shape [6] in the file, but the model's parameter is [1, 5] (or [5])") != std::string::npos);
  CHECK(unchanged(dst, before));

  std::vector<NamedParam<float>> fewer(src.params.begin(), src.params.end() - 2);
  save_model<float>(dir.file("missing.safetensors"), fewer);
  CHECK(load_error([&] { load_model<float>(dir.file("missing.safetensors"), dst); })
            .find("missing tensors for 2 of the model's 19 parameters: 'fc.weight', 'fc.bias'") != std::string::npos);
  CHECK(unchanged(dst, before));

  // The training-checkpoint hook (e.g. the optimizer refusing its state) runs before any write.
  TrainingState<float> st;
  save_training_checkpoint<float>(dir.file("train.safetensors"), src, st);
  CHECK_THROWS_WITH(load_training_checkpoint<float>(dir.file("train.safetensors"), dst,
                                                    [](const TrainingState<float>&) { throw CheckpointError("optimizer: no"); }),
                    "optimizer: no");
  CHECK(unchanged(dst, before));

  // A NaN in the data (a file from elsewhere, no checksum): refused, nothing written.
  SafeTensorsWriter w;
  for (auto& p : src.params) w.add(p.name, p.var.value(), stored_shape(p.name, p.var.rows(), p.var.cols()));
  std::string bytes = w.serialize(false);
  const float nan = std::nanf("");
  std::memcpy(bytes.data() + bytes.size() - 4, &nan, 4);
  { std::ofstream(dir.file("nan.safetensors"), std::ios::binary) << bytes; }
  CHECK(load_error([&] { load_model<float>(dir.file("nan.safetensors"), dst, LoadOptions{true, false}); })
            .find("tensor 'fc.bias': value nan at flat index 4 is not finite") != std::string::npos);
  CHECK(unchanged(dst, before));

  // Loading a model file never leaves a half-loaded model even when the path is missing.
  CHECK(load_error([&] { load_model<float>(dir.file("nope.safetensors"), dst); }).find("nope.safetensors: open failed") !=
        std::string::npos);
  CHECK(unchanged(dst, before));
}

TEST_CASE("checkpoint: malformed metadata and model mismatches each give their message") {
  TempDir dir;
  TinyTagger<float> model;
  model.fill_formula();
  struct Case {
    const char* what;
    std::map<std::string, std::string> meta;  // overrides; "" value erases the key
    std::function<void(std::vector<NamedParam<float>>&)> edit;
    bool training;
    const char* message;
  };
  auto drop_last = [](std::vector<NamedParam<float>>& p) { p.pop_back(); };
  auto add_extra = [](std::vector<NamedParam<float>>& p) { p.push_back({"fc.extra", parameter(zeros<float>(1, 2))}); };
  auto transpose_fc = [](std::vector<NamedParam<float>>& p) { p[17].var = parameter(zeros<float>(8, 5)); };
  auto bias_column = [](std::vector<NamedParam<float>>& p) { p[3].var = parameter(zeros<float>(16, 1)); };
  std::vector<Case> cases = {
      {"foreign format", {{"unroll.format", "tf"}}, {}, false, "metadata 'unroll.format' is 'tf', expected 'unroll'"},
      {"version missing", {{"unroll.format_version", ""}}, {}, false, "metadata 'unroll.format_version' is missing"},
      {"version from the future", {{"unroll.format_version", "2"}}, {}, false, "is 2: written by a newer unroll (this build reads up to 1)"},
      {"version not a number", {{"unroll.format_version", "1a"}}, {}, false, "metadata 'unroll.format_version' is '1a', expected a positive integer"},
      {"kind missing", {{"unroll.kind", ""}}, {}, false, "metadata 'unroll.kind' is missing"},
      {"kind unknown", {{"unroll.kind", "weights"}}, {}, false, "metadata 'unroll.kind' is 'weights', expected 'model' or 'training'"},
      {"unknown unroll key", {{"unroll.exec", "rm -rf /"}}, {}, false, "unknown metadata key 'unroll.exec'"},
      {"config not JSON", {{"config", "{hidden: 4}"}}, {}, false, "metadata 'config' is not valid JSON"},
      {"config not an object", {{"config", "[4]"}}, {}, false, "metadata 'config' must be a JSON object, got array"},
      {"config nested too deep", {{"config", std::string(100, '[') + std::string(100, ']')}}, {}, false, "metadata 'config': JSON nests deeper than 64 levels"},
      {"vocab not an array", {{"vocab", R"({"a":0})"}}, {}, false, "metadata 'vocab' must be a JSON array of strings, got object"},
      {"vocab with a number", {{"vocab", R"(["a",3])"}}, {}, false, "metadata 'vocab': entry 1 must be a string, got number"},
      {"vocab with a duplicate", {{"vocab", R"(["a","b","a"])"}}, {}, false, "metadata 'vocab': token 'a' appears at ids 0 and 2"},
      {"missing tensor", {}, drop_last, false, "missing tensors for 1 of the model's 19 parameters: 'fc.bias'"},
      {"unexpected tensor", {}, add_extra, false, "unexpected tensors (the model has no such parameter): 'fc.extra'"},
      {"transposed weight", {}, transpose_fc, false, "tensor 'fc.weight': shape [8, 5] in the file, but the model's parameter is [5, 8]"},
      {"bias as a column", {}, bias_column, false, "tensor 'lstm.bias_ih_l0': shape [16, 1] in the file, but the model's parameter is [1, 16]"},
      {"model file as training checkpoint", {}, {}, true, "not a training checkpoint (metadata 'unroll.kind' is 'model')"},
      {"step negative", {{"unroll.kind", "training"}, {"unroll.step", "-1"}, {"unroll.data_position", "0"}}, {}, true,
       "metadata 'unroll.step' is '-1', expected a non-negative integer"},
      {"step missing", {{"unroll.kind", "training"}, {"unroll.data_position", "0"}}, {}, true, "metadata 'unroll.step' is missing"},
      {"data position missing", {{"unroll.kind", "training"}, {"unroll.step", "5"}}, {}, true, "metadata 'unroll.data_position' is missing"},
      {"rng state garbage", {{"unroll.kind", "training"}, {"unroll.step", "5"}, {"unroll.data_position", "0"}, {"unroll.rng_state", "x y z"}},
       {}, true, "metadata 'unroll.rng_state' is not a generator state"},
  };
  for (const auto& c : cases) {
    INFO("case: ", c.what);
    std::vector<NamedParam<float>> params = model.parameters();
    if (c.edit) c.edit(params);
    std::map<std::string, std::string> meta = {{"unroll.format", "unroll"}, {"unroll.format_version", "1"}, {"unroll.kind", "model"}};
    for (const auto& [k, v] : c.meta) {
      if (v.empty()) meta.erase(k);
      else meta[k] = v;
    }
    SafeTensorsWriter w;
    for (const auto& [k, v] : meta) w.set_metadata(k, v);
    for (auto& p : params) w.add(p.name, p.var.value(), stored_shape(p.name, p.var.rows(), p.var.cols()));
    std::string path = dir.file("case.safetensors");
    w.write(path);
    TinyTagger<float> dst;
    std::string msg = c.training ? load_error([&] { load_training_checkpoint<float>(path, dst); })
                                 : load_error([&] { load_model<float>(path, dst); });
    CHECK_MESSAGE(msg.find(c.message) != std::string::npos, "got: ", msg);
    CHECK(msg.rfind(path + ": ", 0) == 0);
    CHECK(unchanged(dst, TinyTagger<float>().snapshot()));
  }
  CHECK(cases.size() >= 20);
}

TEST_CASE("checkpoint: saving refuses what it could not load back") {
  TempDir dir;
  TinyTagger<float> m;
  CHECK(load_error([&] { save_model<float>(dir.file("x"), m, {"[1]", {}, {}}); }).find("ModelInfo::config must be a JSON object") != std::string::npos);
  CHECK(load_error([&] { save_model<float>(dir.file("x"), m, {"", {"a", "a"}, {}}); }).find("ModelInfo::vocab has the token 'a' twice") != std::string::npos);
  CHECK(load_error([&] { save_model<float>(dir.file("x"), m, {"", {}, {{"unroll.step", "1"}}}); }).find("is reserved") != std::string::npos);
  m.params[2].var.value()(0, 1) = INFINITY;
  CHECK(load_error([&] { save_model<float>(dir.file("x"), m); }).find("tensor 'lstm.weight_hh_l0': value inf at flat index 1 is not finite") != std::string::npos);
  CHECK(load_error([&] { save_model<float>(dir.file("no/such/dir/x"), m.params); }).find("no/such/dir/x") != std::string::npos);
  CHECK(!fs::exists(dir.file("x")));
  TrainingState<float> st;
  st.rng_state = "not a state";
  m.params[2].var.value()(0, 1) = 0;
  CHECK(load_error([&] { save_training_checkpoint<float>(dir.file("x"), m, st); }).find("rng_state is not an Rng::state()") != std::string::npos);
}

// ---- exact resume ------------------------------------------------------------------------------------
namespace {
// A toy training run: SGD with momentum on two parameters, a noisy "gradient" drawn from the Rng, and a
// data cursor. What it exercises is the checkpoint: params + optimizer tensors + RNG + step + position.
struct ToyRun {
  std::vector<NamedParam<float>> params;
  std::vector<Mat<float>> momentum;
  Rng rng;
  std::uint64_t step = 0, cursor = 0;
  std::vector<float> data;
  explicit ToyRun(std::uint64_t seed) : rng(seed) {
    params = {{"fc.weight", parameter(rng.normal_mat<float>(4, 3))}, {"fc.bias", parameter(rng.normal_mat<float>(1, 4))}};
    for (auto& p : params) momentum.push_back(zeros<float>(p.var.rows(), p.var.cols()));
    for (int i = 0; i < 37; ++i) data.push_back(float(std::sin(i * 0.7)));
  }
  void train(int steps) {
    for (int s = 0; s < steps; ++s, ++step) {
      float x = data[cursor];
      cursor = (cursor + 5) % data.size();
      for (std::size_t i = 0; i < params.size(); ++i) {
        Mat<float>& w = params[i].var.value();
        for (std::size_t k = 0; k < w.size(); ++k) {
          float g = w.data()[k] * x + float(rng.normal(0, 0.1));
          momentum[i].data()[k] = 0.9f * momentum[i].data()[k] + g;
          w.data()[k] -= 0.05f * momentum[i].data()[k];
        }
      }
    }
  }
  TrainingState<float> state() const {
    TrainingState<float> st;
    st.step = step;
    st.data_position = nlohmann::json{{"cursor", cursor}}.dump();
    st.rng_state = rng.state();
    for (std::size_t i = 0; i < params.size(); ++i) st.optimizer_tensors.push_back({"momentum." + params[i].name, momentum[i]});
    st.optimizer_meta = {{"lr", "0.05"}, {"momentum", "0.9"}};
    return st;
  }
  void restore(const std::string& path) {
    TrainingState<float> st = load_training_checkpoint<float>(path, params, [&](const TrainingState<float>& s) {
      // What an optimizer does in the hook: refuse state that does not fit before anything is written.
      if (s.optimizer_tensors.size() != params.size()) throw CheckpointError("toy optimizer: wrong state size");
    });
    step = st.step;
    cursor = nlohmann::json::parse(st.data_position)["cursor"].get<std::uint64_t>();
    rng.set_state(st.rng_state);
    for (std::size_t i = 0; i < params.size(); ++i) {
      REQUIRE(st.optimizer_tensors[i].first == "momentum." + params[i].name);
      momentum[i] = st.optimizer_tensors[i].second;
    }
    CHECK(st.optimizer_meta.at("lr") == "0.05");
  }
};
}  // namespace

TEST_CASE("checkpoint: save at step N, load, continue = bitwise the same as never stopping") {
  TempDir dir;
  ToyRun straight(42);
  straight.train(40);

  ToyRun first(42);
  first.train(17);
  save_training_checkpoint<float>(dir.file("ckpt.safetensors"), first.params, first.state());
  ToyRun resumed(999);  // different init, different RNG: all of it must come from the checkpoint
  resumed.restore(dir.file("ckpt.safetensors"));
  CHECK(resumed.step == 17);
  resumed.train(23);

  CHECK(resumed.step == straight.step);
  CHECK(resumed.cursor == straight.cursor);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(same_bits(resumed.params[i].var.value(), straight.params[i].var.value()));
    CHECK(same_bits(resumed.momentum[i], straight.momentum[i]));
  }
  CHECK(resumed.rng.next() == straight.rng.next());
  // The weights of a training checkpoint also load as a plain model (optimizer tensors ignored).
  std::vector<NamedParam<float>> plain = {{"fc.weight", parameter(zeros<float>(4, 3))}, {"fc.bias", parameter(zeros<float>(1, 4))}};
  load_model<float>(dir.file("ckpt.safetensors"), plain);
  CHECK(same_bits(plain[0].var.value(), first.params[0].var.value()));
}

// ---- SIGKILL during saves ----------------------------------------------------------------------------
namespace {
constexpr std::size_t kKillRows = 256, kKillCols = 128;  // 128 KB of float32 per save

std::vector<NamedParam<float>> kill_params() {
  return {{"w", parameter(zeros<float>(kKillRows, kKillCols))}, {"b", parameter(zeros<float>(1, kKillCols))}};
}
float kill_value(std::uint64_t version, std::size_t i) { return float(version % 100000) + float(i % 13) * 0.25f; }

// The file must load and be one consistent version: every value matches the version in its metadata.
std::uint64_t check_kill_file(const std::string& path) {
  auto params = kill_params();
  ModelInfo info = load_model<float>(path, params);
  std::uint64_t version = std::stoull(info.extra.at("version"));
  for (auto& p : params)
    for (std::size_t i = 0; i < p.var.value().size(); ++i)
      if (p.var.value().data()[i] != kill_value(version, i)) throw CheckpointError(path + ": mixed versions");
  return version;
}

void save_kill_version(const std::string& path, std::vector<NamedParam<float>>& params, std::uint64_t version) {
  for (auto& p : params)
    for (std::size_t i = 0; i < p.var.value().size(); ++i) p.var.value().data()[i] = kill_value(version, i);
  save_model<float>(path, params, {"", {}, {{"version", std::to_string(version)}}});
}
}  // namespace

// Run by the kill test in a child process; idle in a normal run.
TEST_CASE("checkpoint: kill-test writer child") {
  const char* path = std::getenv("UNROLL_KILL_WRITER");
  const char* fd_s = std::getenv("UNROLL_KILL_READY_FD");
  const char* trial_s = std::getenv("UNROLL_KILL_TRIAL");
  if (!path || !fd_s || !trial_s) return;
  int fd = std::atoi(fd_s);
  std::uint64_t base = std::stoull(trial_s) * 1000;
  auto params = kill_params();
  char c = 'r';  // ready: the next instruction starts a save
  if (::write(fd, &c, 1) != 1) std::_Exit(2);
  ::close(fd);
  for (std::uint64_t k = 1; k < 1000; ++k) save_kill_version(path, params, base + k);
  std::_Exit(0);
}

TEST_CASE("checkpoint: SIGKILL at random moments during saves never leaves an unreadable file") {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  auto start = std::chrono::steady_clock::now();
  int trials = 100;
  if (const char* t = std::getenv("UNROLL_KILL_TRIALS")) trials = std::atoi(t);
  auto params = kill_params();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) save_kill_version(path, params, 0);
  double save_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 5;
  REQUIRE(check_kill_file(path) == 0);

  std::string self = fs::read_symlink("/proc/self/exe").string();
  Rng rng(20261123);
  int unreadable = 0, mid_save = 0, advanced = 0;
  std::uint64_t last = 0;
  for (int t = 1; t <= trials; ++t) {
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    ::fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) env_s.push_back(*e);
    env_s.push_back("UNROLL_KILL_WRITER=" + path);
    env_s.push_back("UNROLL_KILL_READY_FD=" + std::to_string(pipefd[1]));
    env_s.push_back("UNROLL_KILL_TRIAL=" + std::to_string(t));
    std::vector<char*> envp;
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string a1 = "--test-case=checkpoint: kill-test writer child", a2 = "--no-version=true";
    std::vector<char*> argv = {self.data(), a1.data(), a2.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, self.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(pipefd[1]);
    REQUIRE(rc == 0);
    pollfd pfd{pipefd[0], POLLIN, 0};
    bool ready = ::poll(&pfd, 1, 20000) == 1;
    ::close(pipefd[0]);
    // Kill somewhere in the child's first ~2.5 saves (uniform), so kills land in every phase of a save.
    if (ready) std::this_thread::sleep_for(std::chrono::microseconds(std::int64_t(rng.uniform(0, 2.5 * save_us))));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(ready, "the writer child did not start");
    for (const auto& e : fs::directory_iterator(dir.path))
      if (e.path().filename().string().rfind(".model.safetensors.tmp.", 0) == 0) {
        ++mid_save;
        fs::remove(e.path());
      }
    try {
      std::uint64_t v = check_kill_file(path);
      if (v < last) throw CheckpointError("went back from version " + std::to_string(last) + " to " + std::to_string(v));
      if (v > last) ++advanced;
      last = v;
    } catch (const std::exception& e) {
      ++unreadable;
      FAIL_CHECK("trial ", t, ": ", e.what());
    }
  }
  MESSAGE("kill test: ", trials, " trials, ", unreadable, " unreadable, ", mid_save,
          " killed mid-save (temporary left behind), ", advanced, " found a newer version than the trial before; one save takes ~", int(save_us), " us; ",
          int(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 1000), " ms in all");
  CHECK(unreadable == 0);
  CHECK(advanced > 0);
}

// ---- with the real modules and optimizer ---------------------------------------------------------------
namespace {
// The fixture's Tagger built from unroll's modules: state_dict names come from Module::parameters().
template <class T>
struct RealTagger : Module<T> {
  Embedding<T> embed;
  LSTM<T> lstm;
  Linear<T> fc;
  explicit RealTagger(Rng& rng) : embed(6, 3, rng), lstm(3, 4, rng, 2, true), fc(8, 5, rng) {}
  std::vector<NamedParam<T>> parameters() override {
    std::vector<NamedParam<T>> out;
    this->add_child_params(out, "embed", embed.parameters());
    this->add_child_params(out, "lstm", lstm.parameters());
    this->add_child_params(out, "fc", fc.parameters());
    return out;
  }
  std::string describe() const override { return "RealTagger"; }
  // ids: one sequence (batch 1) -> logits [T, 5]
  Var<T> forward(const std::vector<std::int64_t>& ids) {
    std::vector<Var<T>> xs;
    for (auto id : ids) xs.push_back(embed.forward({id}));
    return fc.forward(concat_rows(lstm.forward(xs).outputs));
  }
};
}  // namespace

TEST_CASE("checkpoint: unroll's Embedding+LSTM+Linear loaded from PyTorch's file compute PyTorch's logits") {
  fs::path fx = source_dir() / "tests/fixtures/safetensors";
  std::ifstream ef(fx / "expected.json");
  REQUIRE(ef.good());
  nlohmann::json expected = nlohmann::json::parse(ef);
  Rng rng(1);
  RealTagger<float> model(rng);
  load_model<float>((fx / "tagger_f32.safetensors").string(), model, LoadOptions{true, false});
  std::vector<std::int64_t> ids = expected["tagger_forward"]["ids"][0].get<std::vector<std::int64_t>>();
  NoGradGuard ng;
  Mat<float> logits = model.forward(ids).value();
  const auto& want = expected["tagger_forward"]["logits"][0];
  REQUIRE(logits.shape(0) == want.size());
  double worst = 0;
  for (std::size_t t = 0; t < want.size(); ++t)
    for (std::size_t k = 0; k < 5; ++k) worst = std::max(worst, std::abs(double(logits(t, k)) - want[t][k].get<double>()));
  MESSAGE("max |unroll - PyTorch| over the fixture's logits (float32): ", worst);
  CHECK(worst < 1e-5);
}

TEST_CASE("checkpoint: Adam + LSTM training resumed from a checkpoint is bitwise the uninterrupted run") {
  TempDir dir;
  // Data: 30 random sequences; each step draws one with the data Rng and walks a cursor.
  auto run = [&](int from, int to, RealTagger<float>& model, Adam<float>& opt, Rng& data_rng, std::uint64_t& cursor,
                 std::vector<float>& losses) {
    for (int s = from; s < to; ++s) {
      std::vector<std::int64_t> ids, targets;
      std::size_t len = 3 + data_rng.below(4);
      for (std::size_t t = 0; t < len; ++t) {
        ids.push_back(std::int64_t((cursor * 7 + t * 3 + data_rng.below(2)) % 6));
        targets.push_back(std::int64_t((ids.back() + cursor) % 5));
      }
      cursor = (cursor + 1) % 30;
      opt.zero_grad();
      Var<float> loss = cross_entropy(model.forward(ids), targets);
      loss.backward();
      opt.step();
      losses.push_back(loss.item());
    }
  };
  Rng init(5);
  RealTagger<float> straight(init);
  Adam<float> opt_s(straight.parameters(), AdamOptions{0.01});
  Rng data_s(77);
  std::uint64_t cursor_s = 0;
  std::vector<float> losses_s;
  run(0, 12, straight, opt_s, data_s, cursor_s, losses_s);

  Rng init_a(5);
  RealTagger<float> a(init_a);
  Adam<float> opt_a(a.parameters(), AdamOptions{0.01});
  Rng data_a(77);
  std::uint64_t cursor_a = 0;
  std::vector<float> losses_a;
  run(0, 5, a, opt_a, data_a, cursor_a, losses_a);
  TrainingState<float> st;
  st.step = 5;
  st.data_position = std::to_string(cursor_a);
  st.rng_state = data_a.state();
  st.optimizer_tensors = opt_a.state();
  st.optimizer_meta = opt_a.state_meta();
  st.info.config = R"({"arch":"tagger","vocab_size":6})";
  save_training_checkpoint<float>(dir.file("train.safetensors"), a, st);

  Rng init_b(12345);  // a different model, optimizer and data stream: everything must come from the file
  RealTagger<float> b(init_b);
  Adam<float> opt_b(b.parameters(), AdamOptions{0.5});
  TrainingState<float> got = load_training_checkpoint<float>(dir.file("train.safetensors"), b,
      [&](const TrainingState<float>& s) { opt_b.load_state(s.optimizer_tensors, s.optimizer_meta); });
  Rng data_b(0);
  data_b.set_state(got.rng_state);
  std::uint64_t cursor_b = std::stoull(got.data_position);
  std::vector<float> losses_b = losses_a;
  run(int(got.step), 12, b, opt_b, data_b, cursor_b, losses_b);

  CHECK(losses_b == losses_s);
  auto ps = straight.parameters(), pb = b.parameters();
  REQUIRE(ps.size() == pb.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    INFO(ps[i].name);
    CHECK(same_bits(ps[i].var.value(), pb[i].var.value()));
  }
  auto os = opt_s.state(), ob = opt_b.state();
  REQUIRE(os.size() == ob.size());
  for (std::size_t i = 0; i < os.size(); ++i) CHECK(same_bits(os[i].second, ob[i].second));
  CHECK(opt_b.lr() == 0.01);

  // An optimizer that refuses the state (another model's optimizer) leaves the model untouched.
  Rng init_c(9);
  RealTagger<float> c(init_c);
  std::vector<Mat<float>> before;
  for (auto& p : c.parameters()) before.push_back(p.var.value());
  SGD<float> wrong(c.parameters());
  CHECK_THROWS(load_training_checkpoint<float>(dir.file("train.safetensors"), c,
      [&](const TrainingState<float>& s) { wrong.load_state(s.optimizer_tensors, s.optimizer_meta); }));
  auto pc = c.parameters();
  for (std::size_t i = 0; i < pc.size(); ++i) CHECK(same_bits(pc[i].var.value(), before[i]));
}

// A RealTagger with its own init, and the logits unroll computes for a few ids, for PyTorch to reproduce.
void save_real_tagger_with_logits(const std::string& path) {
  Rng rng(2024);
  RealTagger<float> model(rng);
  std::vector<std::int64_t> ids = {5, 0, 3, 3, 1, 4};
  NoGradGuard ng;
  Mat<float> logits = model.forward(ids).value();
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t t = 0; t < logits.shape(0); ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t k = 0; k < logits.shape(1); ++k) row.push_back(double(logits(t, k)));
    rows.push_back(row);
  }
  save_model<float>(path, model, {"", {}, {{"test.ids", nlohmann::json(ids).dump()}, {"test.logits", rows.dump()}}});
}
