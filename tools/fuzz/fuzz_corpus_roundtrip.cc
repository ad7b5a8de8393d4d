// tools/fuzz/fuzz_corpus_roundtrip.cc — libFuzzer target for the save -> load round trip of model files and
// training checkpoints (nn/checkpoint.h over nn/safetensors.h), and of an optimizer's state through them.
// Built by tools/fuzz/build_more.sh with clang -fsanitize=fuzzer,address,undefined.
//
// The bytes (FuzzedDataProvider) choose parameters — names (any bytes: empty, duplicates, invalid UTF-8,
// reserved prefixes…), shapes (0..4 × 0..4), values (raw float/double bits: NaN, ±Inf, -0, subnormals) —,
// the ModelInfo (config text, vocab tokens, extra metadata, all arbitrary bytes) and a TrainingState (step,
// data position, RNG state — real or junk —, optimizer tensors and metadata). Then:
//   - save either throws CheckpointError, and the file saved before is still there byte for byte with no
//     temporary left beside it; or it succeeds, and then
//   - loading into fresh parameters of the same names and shapes succeeds and gives every value back bit for
//     bit, and the ModelInfo (and TrainingState) back exactly; loading into the other precision succeeds or
//     refuses a value that does not fit (never an Inf in a float model);
//   - saving did not change the parameters it read;
//   - when the values are finite, an Adam optimizer stepped on them has its state saved, loaded into a fresh
//     Adam and restored bitwise.
// Saving must throw exactly when the input breaks a documented rule (non-finite value, empty / duplicate /
// reserved name, config not a JSON object, duplicate vocab token, reserved extra key, bad RNG state, bytes that
// are not UTF-8 where JSON needs text). Anything else escaping is a finding.
#include "engine/rng.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/safetensors.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

using namespace unroll;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void finding(const char* what, int line) {
  std::fprintf(stderr, "FUZZ FINDING: %s (fuzz_corpus_roundtrip.cc:%d)\n", what, line);
  std::abort();
}
#define PROPERTY(cond)                      \
  do {                                      \
    if (!(cond)) finding(#cond, __LINE__);  \
  } while (0)

const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("unroll_fuzz_roundtrip_" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

std::vector<std::string> listing() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(scratch())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

template <class T>
bool bitwise_equal(const Mat<T>& a, const Mat<T>& b) {
  return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}
template <class T>
bool all_finite(const Mat<T>& m) {
  for (std::size_t i = 0; i < m.size(); ++i)
    if (!std::isfinite(m.data()[i])) return false;
  return true;
}
bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}
bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// A short string: mostly from a small alphabet (so names collide and look like real ones), sometimes raw bytes.
std::string fuzz_name(FuzzedDataProvider& in) {
  static const char* const stock[] = {"weight", "bias", "lstm.weight_ih_l0", "fc.bias", "optimizer/x", "__metadata__",
                                      "", "unroll.step", "config", "vocab", "a\xff", "emb.weight"};
  if (in.ConsumeBool()) return stock[in.ConsumeIntegralInRange<std::size_t>(0, std::size(stock) - 1)];
  return in.ConsumeRandomLengthString(12);
}

template <class T>
Mat<T> fuzz_mat(FuzzedDataProvider& in, std::size_t rows, std::size_t cols) {
  Mat<T> m = zeros<T>(rows, cols);
  const bool raw_bits = in.ConsumeBool();
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (raw_bits) {
      using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
      m.data()[i] = std::bit_cast<T>(in.ConsumeIntegral<U>());
    } else {
      m.data()[i] = T(in.ConsumeIntegralInRange<int>(-1000, 1000)) / T(64);
    }
  }
  return m;
}

struct Case {
  std::vector<std::string> names;
  std::vector<std::pair<std::size_t, std::size_t>> shapes;
  ModelInfo info;
  bool training = false;
  std::uint64_t step = 0;
  std::string data_position, rng_state;
  std::map<std::string, std::string> opt_meta;
  std::vector<std::string> opt_names;
  std::vector<std::pair<std::size_t, std::size_t>> opt_shapes;
};

Case fuzz_case(FuzzedDataProvider& in) {
  Case c;
  const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, 4);
  for (std::size_t i = 0; i < n; ++i) {
    c.names.push_back(fuzz_name(in));
    c.shapes.push_back({in.ConsumeIntegralInRange<std::size_t>(0, 4), in.ConsumeIntegralInRange<std::size_t>(0, 4)});
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: break;
    case 1: c.info.config = R"({"arch":"lstm","hidden":4})"; break;
    default: c.info.config = in.ConsumeRandomLengthString(24); break;
  }
  const std::size_t nv = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  for (std::size_t i = 0; i < nv; ++i) c.info.vocab.push_back(in.ConsumeRandomLengthString(6));
  const std::size_t ne = in.ConsumeIntegralInRange<std::size_t>(0, 2);
  for (std::size_t i = 0; i < ne; ++i) c.info.extra[fuzz_name(in)] = in.ConsumeRandomLengthString(8);
  c.training = in.ConsumeBool();
  if (c.training) {
    c.step = in.ConsumeIntegral<std::uint64_t>();
    c.data_position = in.ConsumeRandomLengthString(16);
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: break;
      case 1: {
        Rng r(in.ConsumeIntegral<std::uint64_t>());
        r.next();
        c.rng_state = r.state();
        break;
      }
      default: c.rng_state = in.ConsumeRandomLengthString(16); break;
    }
    const std::size_t nm = in.ConsumeIntegralInRange<std::size_t>(0, 2);
    for (std::size_t i = 0; i < nm; ++i) c.opt_meta[in.ConsumeRandomLengthString(6)] = in.ConsumeRandomLengthString(8);
    const std::size_t nt = in.ConsumeIntegralInRange<std::size_t>(0, 2);
    for (std::size_t i = 0; i < nt; ++i) {
      c.opt_names.push_back(fuzz_name(in));
      c.opt_shapes.push_back({in.ConsumeIntegralInRange<std::size_t>(0, 3), in.ConsumeIntegralInRange<std::size_t>(0, 3)});
    }
  }
  return c;
}

// Whether saving this case must be refused (see the top of this file), given the values.
template <class T>
bool must_refuse(const Case& c, const std::vector<NamedParam<T>>& ps, const std::vector<std::pair<std::string, Mat<T>>>& ot) {
  std::set<std::string> seen;
  for (const auto& p : ps) {
    if (p.name.empty() || p.name == "__metadata__" || starts_with(p.name, "optimizer/") || !seen.insert(p.name).second)
      return true;
    if (!all_finite(p.var.value()) || !valid_utf8(p.name)) return true;
  }
  if (!c.info.config.empty()) {
    if (!valid_utf8(c.info.config)) return true;
    auto j = nlohmann::json::parse(c.info.config, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return true;
  }
  std::set<std::string> tokens;
  for (const auto& t : c.info.vocab)
    if (!tokens.insert(t).second || !valid_utf8(t)) return true;
  for (const auto& [k, v] : c.info.extra)
    if (starts_with(k, "unroll.") || starts_with(k, "optimizer/") || k == "config" || k == "vocab" || !valid_utf8(k) ||
        !valid_utf8(v))
      return true;
  if (c.training) {
    if (!valid_utf8(c.data_position)) return true;
    if (!c.rng_state.empty()) {
      try {
        Rng r;
        r.set_state(c.rng_state);
      } catch (const std::exception&) {
        return true;
      }
      if (!valid_utf8(c.rng_state)) return true;
    }
    for (const auto& [k, v] : c.opt_meta)
      if (k.empty() || !valid_utf8(k) || !valid_utf8(v)) return true;
    for (const auto& [name, m] : ot) {
      if (name.empty() || !valid_utf8(name) || !all_finite(m)) return true;
      if (!seen.insert("optimizer/" + name).second) return true;
    }
  }
  return false;
}

template <class T, class U>
void load_other_precision(const std::string& path, const Case& c, const std::vector<NamedParam<T>>& ps) {
  std::vector<NamedParam<U>> other;
  for (const auto& p : ps) other.push_back({p.name, parameter(zeros<U>(p.var.rows(), p.var.cols()))});
  try {
    if (c.training) load_training_checkpoint<U>(path, other);
    else load_model<U>(path, other);
  } catch (const CheckpointError& e) {
    // only a double that does not fit a float may be refused
    PROPERTY(sizeof(U) < sizeof(T) && std::strstr(e.what(), "does not fit") != nullptr);
    return;
  }
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const Mat<U>& got = other[i].var.value();
    PROPERTY(all_finite(got));
    for (std::size_t k = 0; k < got.size(); ++k) PROPERTY(got.data()[k] == U(ps[i].var.value().data()[k]));
  }
}

template <class T>
void round_trip(FuzzedDataProvider& in, const Case& c) {
  std::vector<NamedParam<T>> ps;
  for (std::size_t i = 0; i < c.names.size(); ++i)
    ps.push_back({c.names[i], parameter(fuzz_mat<T>(in, c.shapes[i].first, c.shapes[i].second))});
  std::vector<std::pair<std::string, Mat<T>>> ot;
  for (std::size_t i = 0; i < c.opt_names.size(); ++i)
    ot.push_back({c.opt_names[i], fuzz_mat<T>(in, c.opt_shapes[i].first, c.opt_shapes[i].second)});
  std::vector<Mat<T>> before;
  for (const auto& p : ps) before.push_back(p.var.value());

  // a previous good file under the same path: a refused save must leave it alone
  const std::string path = (scratch() / "ckpt.safetensors").string();
  std::vector<NamedParam<T>> old = {{"old", parameter(full<T>(1, 2, T(0.5)))}};
  save_model<T>(path, old);
  const std::string old_bytes = read_file_bytes(path);

  TrainingState<T> st;
  st.step = c.step;
  st.data_position = c.data_position;
  st.rng_state = c.rng_state;
  st.optimizer_tensors = ot;
  st.optimizer_meta = c.opt_meta;
  st.info = c.info;
  const bool refuse = must_refuse<T>(c, ps, ot);
  try {
    if (c.training) save_training_checkpoint<T>(path, ps, st);
    else save_model<T>(path, ps, c.info);
  } catch (const CheckpointError&) {
    PROPERTY(refuse);
    PROPERTY(read_file_bytes(path) == old_bytes);
    PROPERTY(listing() == std::vector<std::string>{"ckpt.safetensors"});
    return;
  }
  PROPERTY(!refuse);
  PROPERTY(listing() == std::vector<std::string>{"ckpt.safetensors"});
  for (std::size_t i = 0; i < ps.size(); ++i) PROPERTY(bitwise_equal(ps[i].var.value(), before[i]));

  std::vector<NamedParam<T>> fresh;
  for (const auto& p : ps) fresh.push_back({p.name, parameter(full<T>(p.var.rows(), p.var.cols(), T(7)))});
  ModelInfo info;
  if (c.training) {
    TrainingState<T> back = load_training_checkpoint<T>(path, fresh);
    info = back.info;
    PROPERTY(back.step == st.step && back.data_position == st.data_position && back.rng_state == st.rng_state);
    PROPERTY(back.optimizer_meta == st.optimizer_meta);
    PROPERTY(back.optimizer_tensors.size() == ot.size());
    std::map<std::string, const Mat<T>*> by_name;
    for (const auto& [name, m] : back.optimizer_tensors) by_name[name] = &m;
    for (const auto& [name, m] : ot) PROPERTY(by_name.count(name) && bitwise_equal(*by_name[name], m));
  } else {
    info = load_model<T>(path, fresh);
  }
  for (std::size_t i = 0; i < ps.size(); ++i) PROPERTY(bitwise_equal(fresh[i].var.value(), ps[i].var.value()));
  PROPERTY(info.config == c.info.config && info.vocab == c.info.vocab && info.extra == c.info.extra);
  const ModelInfo meta = read_model_info(path);
  PROPERTY(meta.config == c.info.config && meta.vocab == c.info.vocab && meta.extra == c.info.extra);

  if constexpr (std::is_same_v<T, float>) load_other_precision<float, double>(path, c, ps);
  else load_other_precision<double, float>(path, c, ps);

  // A wrong shape for the first parameter is refused and changes nothing.
  std::vector<NamedParam<T>> wrong;
  for (const auto& p : ps) wrong.push_back({p.name, parameter(full<T>(p.var.rows() + 1, p.var.cols(), T(3)))});
  bool refused = false;
  try {
    if (c.training) load_training_checkpoint<T>(path, wrong);
    else load_model<T>(path, wrong);
  } catch (const CheckpointError&) {
    refused = true;
  }
  PROPERTY(refused);
  for (const auto& p : wrong)
    for (std::size_t k = 0; k < p.var.value().size(); ++k) PROPERTY(p.var.value().data()[k] == T(3));
}

// Adam stepped on fuzzed gradients: its state goes through a training checkpoint and comes back bitwise.
void optimizer_round_trip(FuzzedDataProvider& in) {
  const std::size_t r = in.ConsumeIntegralInRange<std::size_t>(1, 3), cc = in.ConsumeIntegralInRange<std::size_t>(1, 3);
  std::vector<NamedParam<float>> ps = {{"w", parameter(fuzz_mat<float>(in, r, cc))}, {"b", parameter(fuzz_mat<float>(in, 1, cc))}};
  if (!all_finite(ps[0].var.value()) || !all_finite(ps[1].var.value())) return;
  AdamOptions o;
  o.amsgrad = in.ConsumeBool();
  o.weight_decay = in.ConsumeBool() ? 0.01 : 0.0;
  Adam<float> adam(ps, o);
  adam.set_sparse_rows("w", in.ConsumeBool());
  const int steps = in.ConsumeIntegralInRange<int>(0, 3);
  for (int s = 0; s < steps; ++s) {
    for (auto& p : ps) p.var.grad() = fuzz_mat<float>(in, p.var.rows(), p.var.cols());
    try {
      adam.step();
    } catch (const NumericError&) {
      bool any_bad = false;  // refused only for a non-finite gradient
      for (auto& p : ps) any_bad = any_bad || !all_finite(p.var.grad());
      PROPERTY(any_bad);
    }
  }
  for (auto& p : ps)
    if (!all_finite(p.var.value())) return;  // a huge gradient can overflow a weight; nothing to save then
  TrainingState<float> st;
  st.optimizer_tensors = adam.state();
  st.optimizer_meta = adam.state_meta();
  for (const auto& [n, m] : st.optimizer_tensors)
    if (!all_finite(m)) return;
  const std::string path = (scratch() / "adam.safetensors").string();
  save_training_checkpoint<float>(path, ps, st);
  std::vector<NamedParam<float>> fresh = {{"w", parameter(zeros<float>(r, cc))}, {"b", parameter(zeros<float>(1, cc))}};
  Adam<float> back(fresh, AdamOptions{});
  load_training_checkpoint<float>(path, fresh,
                                  [&](const TrainingState<float>& s) { back.load_state(s.optimizer_tensors, s.optimizer_meta); });
  const auto a = adam.state(), b = back.state();
  PROPERTY(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) PROPERTY(a[i].first == b[i].first && bitwise_equal(a[i].second, b[i].second));
  PROPERTY(adam.state_meta() == back.state_meta());
  for (std::size_t i = 0; i < ps.size(); ++i) PROPERTY(bitwise_equal(ps[i].var.value(), fresh[i].var.value()));
  std::error_code ec;
  fs::remove(path, ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const int what = in.ConsumeIntegralInRange<int>(0, 2);
  if (what == 2) {
    optimizer_round_trip(in);
    return 0;
  }
  const Case c = fuzz_case(in);
  if (what == 0) round_trip<float>(in, c);
  else round_trip<double>(in, c);
  return 0;
}
