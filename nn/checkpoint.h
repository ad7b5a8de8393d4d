// nn/checkpoint.h — model files and training checkpoints in safetensors (nn/safetensors.h).
//
// A MODEL FILE holds one tensor per parameter under its PyTorch state_dict name ("lstm.weight_ih_l0"),
// so PyTorch's load_state_dict reads it and a PyTorch state_dict written as safetensors loads here.
// Shapes follow PyTorch: a [1, n] parameter whose last name component starts with "bias" is stored as
// the vector [n] (PyTorch biases are 1-D); every other parameter as [rows, cols]. When loading, [n]
// fills a [1, n] parameter and [rows, cols] a [rows, cols] one; F32 and F64 both load into float and
// double models (converted). Metadata (all strings):
//   unroll.format = "unroll", unroll.format_version = "1", unroll.kind = "model" | "training",
//   unroll.checksum = "fnv1a64:…" (header + data; see nn/safetensors.h),
//   config = the model's config as a JSON object text, vocab = a JSON array of the tokens in id order,
//   plus any extra keys of the caller (not starting with "unroll." or "optimizer/").
//
// A TRAINING CHECKPOINT is a model file plus what exact resumption needs:
//   unroll.step (decimal), unroll.data_position (opaque text, e.g. {"epoch":2,"offset":1234}),
//   unroll.rng_state (Rng::state()), and the optimizer's state: named tensors stored as
//   "optimizer/<name>" and string metadata stored as "optimizer/<key>".
//   Optimizer plug-in contract: an optimizer exposes its state as
//       std::vector<std::pair<std::string, Mat<T>>>  (e.g. {"exp_avg.lstm.weight_ih_l0", m}, …)
//       std::map<std::string, std::string>           (e.g. {"step", "1200"}, {"lr", "0.001"})
//   and restores itself from the same two containers, exactly as saved (names, order, values bitwise).
//   load_training_checkpoint hands them back; its `check` callback runs after the file is validated and
//   before any parameter is written, so an optimizer that refuses its state (wrong names or shapes)
//   leaves the model untouched. load_model on a training checkpoint loads just the weights.
//   With nn/optim.h (its state() / state_meta() / load_state() follow this contract):
//       TrainingState<float> st{step, position, rng.state(), opt.state(), opt.state_meta(), info};
//       save_training_checkpoint<float>(path, model, st);
//       …
//       auto st = load_training_checkpoint<float>(path, model, [&](const TrainingState<float>& s) {
//         opt.load_state(s.optimizer_tensors, s.optimizer_meta); });   // throws -> model untouched
//       rng.set_state(st.rng_state);  // then resume the data at st.data_position, step st.step
//   (after the callback returns nothing can fail, so model and optimizer change together or not at all).
//
// Loading is all-or-nothing: the whole file is read, parsed, validated (format, checksum, metadata,
// missing / unexpected tensors, every shape vs the model's parameter, every value finite) and converted
// before the first parameter is written; any problem throws CheckpointError and changes nothing.
// Saving is crash-safe (write_file_atomic): after a crash the path holds the old file or the new one.
// A checkpoint is only data: no name in it is opened as a file, nothing in it is executed.
#pragma once

#include "nn/module.h"
#include "nn/safetensors.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace unroll {

inline constexpr int kCheckpointFormatVersion = 1;

// What a model file says about the model besides its weights.
struct ModelInfo {
  std::string config;                          // JSON object text, e.g. {"arch":"lstm","hidden":256}; "" = none
  std::vector<std::string> vocab;              // tokens in id order; empty = none (no duplicates allowed)
  std::map<std::string, std::string> extra;    // more string metadata
};

struct LoadOptions {
  bool strict = true;              // tensors in the file that the model lacks are an error (else ignored)
  bool require_checksum = true;    // false to load files from other tools (PyTorch), which carry none
};

// Everything but the weights that a training checkpoint carries. T is the model's scalar.
template <class T>
struct TrainingState {
  std::uint64_t step = 0;
  std::string data_position;                                   // opaque to the checkpoint
  std::string rng_state;                                       // Rng::state(); "" = none
  std::vector<std::pair<std::string, Mat<T>>> optimizer_tensors;
  std::map<std::string, std::string> optimizer_meta;
  ModelInfo info;
};

// ---- model files -------------------------------------------------------------------------------------
template <class T>
void save_model(const std::string& path, const std::vector<NamedParam<T>>& params, const ModelInfo& info = {});
template <class T>
ModelInfo load_model(const std::string& path, const std::vector<NamedParam<T>>& params, const LoadOptions& opt = {});

template <class T>
void save_model(const std::string& path, Module<T>& m, const ModelInfo& info = {}) {
  save_model<T>(path, m.parameters(), info);
}
template <class T>
ModelInfo load_model(const std::string& path, Module<T>& m, const LoadOptions& opt = {}) {
  return load_model<T>(path, m.parameters(), opt);
}

// The metadata of a model file or training checkpoint without loading weights (to build the model from
// its config first). Validates the file and checksum like a load.
ModelInfo read_model_info(const std::string& path, const LoadOptions& opt = {});

// ---- training checkpoints ------------------------------------------------------------------------------
template <class T>
void save_training_checkpoint(const std::string& path, const std::vector<NamedParam<T>>& params,
                              const TrainingState<T>& state);
template <class T>
TrainingState<T> load_training_checkpoint(const std::string& path, const std::vector<NamedParam<T>>& params,
                                          const std::function<void(const TrainingState<T>&)>& check = {});

template <class T>
void save_training_checkpoint(const std::string& path, Module<T>& m, const TrainingState<T>& state) {
  save_training_checkpoint<T>(path, m.parameters(), state);
}
template <class T>
TrainingState<T> load_training_checkpoint(const std::string& path, Module<T>& m,
                                          const std::function<void(const TrainingState<T>&)>& check = {}) {
  return load_training_checkpoint<T>(path, m.parameters(), check);
}

// ---- building blocks (also used by the fuzz target) ----------------------------------------------------
// The file shape a [rows, cols] parameter called name is stored with (see the top of this file).
std::vector<std::uint64_t> stored_shape(const std::string& name, std::size_t rows, std::size_t cols);

// Validates f's unroll metadata (format, version, config, vocab) and returns the ModelInfo.
ModelInfo parse_model_info(const SafeTensors& f);

// Checks f against parameters of the given names and [rows, cols] shapes and converts every value;
// returns the new values in the order of `shapes`. Throws CheckpointError naming every missing and
// unexpected tensor, or the first shape mismatch / non-finite value. Tensors whose name starts with
// "optimizer/" are never model tensors.
struct ParamSpec {
  std::string name;
  std::size_t rows = 0, cols = 0;
};
template <class T>
std::vector<Mat<T>> read_params(const SafeTensors& f, const std::vector<ParamSpec>& specs, bool strict);

}  // namespace unroll
