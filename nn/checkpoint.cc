// nn/checkpoint.cc — model files and training checkpoints over safetensors; validation before any write.
#include "nn/checkpoint.h"

#include "engine/rng.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <set>

namespace unroll {

using json = nlohmann::json;

namespace {

constexpr const char* kOptPrefix = "optimizer/";
const std::set<std::string> kUnrollKeys = {"unroll.format", "unroll.format_version", "unroll.kind", "unroll.checksum",
                                           "unroll.step",   "unroll.data_position",  "unroll.rng_state"};

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

[[noreturn]] void fail(const std::string& source, const std::string& msg) {
  throw CheckpointError(source + ": " + msg);
}

std::string q(const std::string& s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 120; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? fmt::format("\\x{:02x}", c) : std::string(1, static_cast<char>(c));
  }
  return out + (s.size() > 120 ? "...'" : "'");
}

// JSON text from metadata, with nesting bounded (the text is untrusted).
json parse_meta_json(const std::string& text, const std::string& source, const std::string& key) {
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) && depth > 64)
      fail(source, fmt::format("metadata '{}': JSON nests deeper than 64 levels", key));
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    fail(source, fmt::format("metadata '{}' is not valid JSON: {}", key, e.what()));
  }
}

bool parse_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

void check_info_for_save(const ModelInfo& info, const std::string& path) {
  if (!info.config.empty()) {
    json c = parse_meta_json(info.config, path + " (saving)", "config");
    if (!c.is_object()) fail(path, "ModelInfo::config must be a JSON object text, got " + std::string(c.type_name()));
  }
  std::set<std::string> seen;
  for (const auto& t : info.vocab)
    if (!seen.insert(t).second) fail(path, fmt::format("ModelInfo::vocab has the token {} twice", q(t)));
  for (const auto& [k, v] : info.extra)
    if (starts_with(k, "unroll.") || starts_with(k, kOptPrefix) || k == "config" || k == "vocab")
      fail(path, fmt::format("ModelInfo::extra key {} is reserved", q(k)));
}

template <class T>
SafeTensorsWriter model_writer(const std::string& path, const std::vector<NamedParam<T>>& params,
                               const ModelInfo& info, const char* kind) {
  check_info_for_save(info, path);
  SafeTensorsWriter w;
  w.set_metadata("unroll.format", "unroll");
  w.set_metadata("unroll.format_version", std::to_string(kCheckpointFormatVersion));
  w.set_metadata("unroll.kind", kind);
  if (!info.config.empty()) w.set_metadata("config", info.config);
  if (!info.vocab.empty()) {
    try {
      w.set_metadata("vocab", json(info.vocab).dump());
    } catch (const json::exception& e) {
      fail(path, fmt::format("ModelInfo::vocab cannot be encoded: {}", e.what()));
    }
  }
  for (const auto& [k, v] : info.extra) w.set_metadata(k, v);
  for (const auto& p : params) {
    if (!p.var.defined()) fail(path, fmt::format("parameter {} is undefined", q(p.name)));
    if (starts_with(p.name, kOptPrefix)) fail(path, fmt::format("parameter name {} uses the reserved prefix '{}'", q(p.name), kOptPrefix));
    try {
      w.add(p.name, p.var.value(), stored_shape(p.name, p.var.rows(), p.var.cols()));
    } catch (const CheckpointError& e) {
      fail(path, e.what());
    }
  }
  return w;
}

template <class T>
std::vector<ParamSpec> specs_of(const std::vector<NamedParam<T>>& params, const std::string& path) {
  std::vector<ParamSpec> s;
  std::set<std::string> seen;
  for (const auto& p : params) {
    if (!p.var.defined()) fail(path, fmt::format("the model's parameter {} is undefined", q(p.name)));
    if (!seen.insert(p.name).second) fail(path, fmt::format("the model has two parameters named {}", q(p.name)));
    s.push_back({p.name, p.var.rows(), p.var.cols()});
  }
  return s;
}

}  // namespace

std::vector<std::uint64_t> stored_shape(const std::string& name, std::size_t rows, std::size_t cols) {
  auto dot = name.rfind('.');
  std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
  if (rows == 1 && starts_with(last, "bias")) return {cols};
  return {rows, cols};
}

ModelInfo parse_model_info(const SafeTensors& f) {
  const auto& m = f.metadata();
  const std::string& src = f.source();
  ModelInfo info;
  auto get = [&](const char* k) -> const std::string* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
  };
  if (const std::string* fmt_ = get("unroll.format")) {
    if (*fmt_ != "unroll") fail(src, fmt::format("metadata 'unroll.format' is {}, expected 'unroll'", q(*fmt_)));
    const std::string* ver = get("unroll.format_version");
    if (!ver) fail(src, "metadata 'unroll.format_version' is missing (expected \"1\")");
    std::uint64_t v = 0;
    if (!parse_u64(*ver, v) || v == 0)
      fail(src, fmt::format("metadata 'unroll.format_version' is {}, expected a positive integer", q(*ver)));
    if (v > std::uint64_t(kCheckpointFormatVersion))
      fail(src, fmt::format("metadata 'unroll.format_version' is {}: written by a newer unroll (this build reads up to {})",
                            v, kCheckpointFormatVersion));
    const std::string* kind = get("unroll.kind");
    if (!kind) fail(src, "metadata 'unroll.kind' is missing (expected 'model' or 'training')");
    if (*kind != "model" && *kind != "training")
      fail(src, fmt::format("metadata 'unroll.kind' is {}, expected 'model' or 'training'", q(*kind)));
  }
  for (const auto& [k, v] : m) {
    if (starts_with(k, "unroll.")) {
      if (!kUnrollKeys.count(k)) fail(src, fmt::format("unknown metadata key {} (reserved prefix 'unroll.')", q(k)));
      if (!get("unroll.format")) fail(src, fmt::format("metadata {} without 'unroll.format'", q(k)));
    } else if (k == "config") {
      json c = parse_meta_json(v, src, "config");
      if (!c.is_object()) fail(src, fmt::format("metadata 'config' must be a JSON object, got {}", c.type_name()));
      info.config = v;
    } else if (k == "vocab") {
      json a = parse_meta_json(v, src, "vocab");
      if (!a.is_array()) fail(src, fmt::format("metadata 'vocab' must be a JSON array of strings, got {}", a.type_name()));
      std::map<std::string, std::size_t> seen;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_string())
          fail(src, fmt::format("metadata 'vocab': entry {} must be a string, got {}", i, a[i].type_name()));
        auto [it, fresh] = seen.emplace(a[i].get<std::string>(), i);
        if (!fresh) fail(src, fmt::format("metadata 'vocab': token {} appears at ids {} and {}", q(it->first), it->second, i));
        info.vocab.push_back(it->first);
      }
    } else if (!starts_with(k, kOptPrefix)) {
      info.extra[k] = v;
    }
  }
  return info;
}

ModelInfo read_model_info(const std::string& path, const LoadOptions& opt) {
  SafeTensors f = SafeTensors::read_file(path);
  f.verify_checksum(opt.require_checksum);
  return parse_model_info(f);
}

template <class T>
std::vector<Mat<T>> read_params(const SafeTensors& f, const std::vector<ParamSpec>& specs, bool strict) {
  const std::string& src = f.source();
  std::set<std::string> wanted;
  std::vector<std::string> missing, unexpected;
  for (const auto& s : specs) {
    wanted.insert(s.name);
    if (!f.find(s.name)) missing.push_back(s.name);
  }
  for (const auto& t : f.tensors())
    if (!starts_with(t.name, kOptPrefix) && !wanted.count(t.name)) unexpected.push_back(t.name);
  if (!missing.empty() || (strict && !unexpected.empty())) {
    std::string msg;
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? ", " : "") + q(v[i]);
      return s + (v.size() > 20 ? fmt::format(" and {} more", v.size() - 20) : "");
    };
    if (!missing.empty())
      msg += fmt::format("missing tensors for {} of the model's {} parameters: {}", missing.size(), specs.size(), list(missing));
    if (strict && !unexpected.empty())
      msg += fmt::format("{}unexpected tensors (the model has no such parameter): {}", msg.empty() ? "" : "; ", list(unexpected));
    fail(src, msg);
  }
  std::vector<Mat<T>> out;
  out.reserve(specs.size());
  for (const auto& s : specs) {
    const TensorEntry& t = *f.find(s.name);
    bool ok = (t.shape.size() == 2 && t.shape[0] == s.rows && t.shape[1] == s.cols) ||
              (t.shape.size() == 1 && s.rows == 1 && t.shape[0] == s.cols);
    if (!ok)
      fail(src, fmt::format("tensor {}: shape {} in the file, but the model's parameter is {}{}", q(s.name),
                            shape_str(t.shape), shape_str(s.rows, s.cols),
                            s.rows == 1 ? fmt::format(" (or [{}])", s.cols) : std::string()));
    out.push_back(f.to_mat<T>(t, s.rows, s.cols));
  }
  return out;
}

template <class T>
void save_model(const std::string& path, const std::vector<NamedParam<T>>& params, const ModelInfo& info) {
  model_writer(path, params, info, "model").write(path);
}

template <class T>
ModelInfo load_model(const std::string& path, const std::vector<NamedParam<T>>& params, const LoadOptions& opt) {
  std::vector<ParamSpec> specs = specs_of(params, path);
  SafeTensors f = SafeTensors::read_file(path);
  f.verify_checksum(opt.require_checksum);
  ModelInfo info = parse_model_info(f);
  std::vector<Mat<T>> values = read_params<T>(f, specs, opt.strict);
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.node()->value = std::move(values[i]);  // nothing throws now
  return info;
}

template <class T>
void save_training_checkpoint(const std::string& path, const std::vector<NamedParam<T>>& params,
                              const TrainingState<T>& state) {
  SafeTensorsWriter w = model_writer(path, params, state.info, "training");
  w.set_metadata("unroll.step", std::to_string(state.step));
  w.set_metadata("unroll.data_position", state.data_position);
  if (!state.rng_state.empty()) {
    try {
      Rng r;
      r.set_state(state.rng_state);
    } catch (const std::exception&) {
      fail(path, "TrainingState::rng_state is not an Rng::state() string");
    }
    w.set_metadata("unroll.rng_state", state.rng_state);
  }
  for (const auto& [k, v] : state.optimizer_meta) {
    if (k.empty()) fail(path, "TrainingState::optimizer_meta has an empty key");
    w.set_metadata(kOptPrefix + k, v);
  }
  for (const auto& [name, m] : state.optimizer_tensors) {
    if (name.empty()) fail(path, "TrainingState::optimizer_tensors has an empty name");
    try {
      w.add(kOptPrefix + name, m);
    } catch (const CheckpointError& e) {
      fail(path, e.what());
    }
  }
  w.write(path);
}

template <class T>
TrainingState<T> load_training_checkpoint(const std::string& path, const std::vector<NamedParam<T>>& params,
                                          const std::function<void(const TrainingState<T>&)>& check) {
  std::vector<ParamSpec> specs = specs_of(params, path);
  SafeTensors f = SafeTensors::read_file(path);
  f.verify_checksum(true);
  TrainingState<T> st;
  st.info = parse_model_info(f);
  const auto& m = f.metadata();
  auto kind = m.find("unroll.kind");
  if (kind == m.end() || kind->second != "training")
    fail(path, fmt::format("not a training checkpoint (metadata 'unroll.kind' is {})",
                           kind == m.end() ? std::string("absent") : q(kind->second)));
  auto step = m.find("unroll.step");
  if (step == m.end()) fail(path, "metadata 'unroll.step' is missing");
  if (!parse_u64(step->second, st.step))
    fail(path, fmt::format("metadata 'unroll.step' is {}, expected a non-negative integer", q(step->second)));
  auto pos = m.find("unroll.data_position");
  if (pos == m.end()) fail(path, "metadata 'unroll.data_position' is missing");
  st.data_position = pos->second;
  if (auto r = m.find("unroll.rng_state"); r != m.end()) {
    try {
      Rng probe;
      probe.set_state(r->second);
    } catch (const std::exception&) {
      fail(path, "metadata 'unroll.rng_state' is not a generator state");
    }
    st.rng_state = r->second;
  }
  for (const auto& [k, v] : m)
    if (starts_with(k, kOptPrefix)) st.optimizer_meta[k.substr(std::string(kOptPrefix).size())] = v;
  for (const auto& t : f.tensors()) {
    if (!starts_with(t.name, kOptPrefix)) continue;
    if (t.shape.size() != 2)
      fail(path, fmt::format("tensor {}: optimizer state is stored as [rows, cols], got shape {}", q(t.name), shape_str(t.shape)));
    st.optimizer_tensors.emplace_back(t.name.substr(std::string(kOptPrefix).size()),
                                      f.to_mat<T>(t, t.shape[0], t.shape[1]));
  }
  std::vector<Mat<T>> values = read_params<T>(f, specs, true);
  if (check) check(st);
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.node()->value = std::move(values[i]);
  return st;
}

#define UNROLL_INSTANTIATE(T)                                                                                      \
  template std::vector<Mat<T>> read_params<T>(const SafeTensors&, const std::vector<ParamSpec>&, bool);            \
  template void save_model<T>(const std::string&, const std::vector<NamedParam<T>>&, const ModelInfo&);             \
  template ModelInfo load_model<T>(const std::string&, const std::vector<NamedParam<T>>&, const LoadOptions&);      \
  template void save_training_checkpoint<T>(const std::string&, const std::vector<NamedParam<T>>&,                  \
                                            const TrainingState<T>&);                                               \
  template TrainingState<T> load_training_checkpoint<T>(const std::string&, const std::vector<NamedParam<T>>&,      \
                                                        const std::function<void(const TrainingState<T>&)>&);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
