// models/common/run_paths.h — the files a training run keeps next to its model file "<stem>.safetensors":
// <stem>.train.safetensors (the state --resume reads), <stem>.curve.csv and <stem>.curve.svg; and their folder.
#pragma once

#include <filesystem>
#include <string>

namespace unroll::common {

// "runs/char_lm.safetensors" -> "runs/char_lm"; "" -> "".
inline std::string stem_of(const std::string& model_path) {
  if (model_path.empty()) return {};
  const std::filesystem::path p(model_path);
  return (p.parent_path() / p.stem()).string();
}

// "runs/char_lm.safetensors" -> "runs/char_lm.train.safetensors"; "" -> "".
inline std::string train_state_path(const std::string& model_path) {
  return model_path.empty() ? std::string() : stem_of(model_path) + ".train.safetensors";
}

// Creates the folder a file will go to (nothing for "" or a bare file name).
inline void make_parent_dir(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}

}  // namespace unroll::common
