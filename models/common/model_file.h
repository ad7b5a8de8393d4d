// models/common/model_file.h — a zoo model file: the weights under their state_dict names plus, in the metadata,
// the config JSON, the vocabulary list (model_vocab.h) and "model" = which zoo model wrote it (nn/checkpoint.h).
// Loading builds the model from its config and loads the weights into it, in eval mode.
#pragma once

#include "engine/rng.h"
#include "engine/check.h"
#include "nn/checkpoint.h"

#include <memory>
#include <string>
#include <vector>

namespace unroll::common {

template <class Model>
void save_model_file(const std::string& path, Model& model, const std::string& zoo_name,
                     std::vector<std::string> vocab) {
  ModelInfo info;
  info.config = model.config().to_json();
  info.vocab = std::move(vocab);
  info.extra["model"] = zoo_name;  // "char_lm", "word_lm", "seq2seq"
  save_model<float>(path, model, info);
}

// The model of `config` with the weights of path (all or nothing: nn/checkpoint.h checks names and shapes).
template <class Model, class Config>
std::unique_ptr<Model> load_model_weights(const std::string& path, const Config& config) {
  Rng rng(0);  // the initial values are all overwritten
  auto model = std::make_unique<Model>(config, rng);
  load_model<float>(path, *model);
  model->eval();
  return model;
}

// --init-from: the weights of the model file `path` as the starting point of a new run of `config` with the
// vocabulary `vocab` (a new optimizer). Refuses, naming path and both sides, a file of another zoo model, another
// shape or another vocabulary (same size but other tokens would silently scramble the embedding rows).
template <class Config>
void load_initial_weights(const std::string& path, const Config& config, const std::string& zoo_name,
                          const std::vector<std::string>& vocab, const std::vector<NamedParam<float>>& params) {
  const ModelInfo info = read_model_info(path);
  const auto it = info.extra.find("model");
  UNROLL_CHECK(it != info.extra.end() && it->second == zoo_name, "{}: --init-from {} is not a {} model file",
               zoo_name, path, zoo_name);
  const Config from = Config::from_json(info.config, config.arch, path);
  UNROLL_CHECK(from.to_json() == config.to_json(), "{}: --init-from {} holds {}, this run builds {}", zoo_name, path,
               from.describe(), config.describe());
  UNROLL_CHECK(info.vocab == vocab, "{}: --init-from {} has another vocabulary ({} entries) than this run ({})",
               zoo_name, path, info.vocab.size(), vocab.size());
  load_model<float>(path, params);
}

}  // namespace unroll::common
