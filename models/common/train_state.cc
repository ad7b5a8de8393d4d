// models/common/train_state.cc — see train_state.h.
#include "models/common/train_state.h"

#include "engine/check.h"
#include "nn/checkpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace unroll::common {

void save_train_state(const std::string& path, const std::vector<NamedParam<float>>& params,
                      const Optimizer<float>& opt, const Rng& rng, const TrainPosition& at,
                      const std::string& config_json) {
  TrainingState<float> st;
  st.step = at.step;
  st.data_position = nlohmann::json{{"epoch", at.epoch}, {"batch", at.batch}, {"best_dev", at.best_dev}}.dump();
  st.rng_state = rng.state();
  st.optimizer_tensors = opt.state();
  st.optimizer_meta = opt.state_meta();
  st.info.config = config_json;
  save_training_checkpoint<float>(path, params, st);
}

TrainPosition load_train_state(const std::string& path, const std::vector<NamedParam<float>>& params,
                               Optimizer<float>& opt, Rng& rng, double no_best) {
  // The optimizer takes its state inside the check: if it refuses it, no weight has been written yet.
  TrainPosition at;
  const TrainingState<float> st = load_training_checkpoint<float>(path, params, [&](const TrainingState<float>& s) {
    nlohmann::json pos;
    try {
      pos = nlohmann::json::parse(s.data_position);
      at.epoch = pos.at("epoch").get<std::size_t>();
      at.batch = pos.at("batch").get<std::size_t>();
      at.best_dev = pos.contains("best_dev") && pos["best_dev"].is_number() ? pos["best_dev"].get<double>() : no_best;
    } catch (const std::exception& e) {
      throw std::invalid_argument(fmt::format("{}: data position '{}' is not {{\"epoch\":…,\"batch\":…}} ({})", path,
                                              s.data_position, e.what()));
    }
    opt.load_state(s.optimizer_tensors, s.optimizer_meta);
  });
  at.step = st.step;
  if (!st.rng_state.empty()) rng.set_state(st.rng_state);
  return at;
}

double resume_training(const std::string& path, LoopPlan& plan, const std::vector<NamedParam<float>>& params,
                       Optimizer<float>& opt, Rng& rng, double no_best, const std::string& what) {
  UNROLL_CHECK(!path.empty(), "{}: --resume needs a checkpoint path", what);
  const TrainPosition at = load_train_state(path, params, opt, rng, no_best);
  UNROLL_CHECK(at.batch < plan.batches, "{}: {} resumes at batch {} of an epoch of {} batches (other data or batch size?)",
               what, path, at.batch, plan.batches);
  plan.step = at.step;
  plan.epoch = at.epoch;
  plan.batch = at.batch;
  return at.best_dev;
}

}  // namespace unroll::common
