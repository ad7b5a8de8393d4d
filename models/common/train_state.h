// models/common/train_state.h — what `--resume` needs, as one training checkpoint (<stem>.train.safetensors, see
// nn/checkpoint.h): the weights, the optimizer's state (its lr included, so a decayed lr stays decayed), the Rng,
// the step count, where in the data the next step starts and the best dev metric so far.
// The data position is the JSON {"epoch":…,"batch":…,"best_dev":…} that the char LM's files have always held.
#pragma once

#include "engine/rng.h"
#include "models/common/run_paths.h"  // train_state_path
#include "models/common/train_loop.h"
#include "nn/module.h"
#include "nn/optim.h"

#include <cstdint>
#include <string>
#include <vector>

namespace unroll::common {

struct TrainPosition {
  std::uint64_t step = 0;        // optimizer steps done
  std::size_t epoch = 0, batch = 0;  // the next step's epoch and batch
  double best_dev = 0;           // the best dev metric so far
};

void save_train_state(const std::string& path, const std::vector<NamedParam<float>>& params,
                      const Optimizer<float>& opt, const Rng& rng, const TrainPosition& at,
                      const std::string& config_json);

// All or nothing: the file is checked (weights' names and shapes, the optimizer's state) before anything changes.
// best_dev is `no_best` when the file holds none.
TrainPosition load_train_state(const std::string& path, const std::vector<NamedParam<float>>& params,
                               Optimizer<float>& opt, Rng& rng, double no_best);

// --resume: loads the state at path (all or nothing, as above), moves plan to its position and returns the best dev
// metric so far. `what` names the model in errors ("char LM").
double resume_training(const std::string& path, LoopPlan& plan, const std::vector<NamedParam<float>>& params,
                       Optimizer<float>& opt, Rng& rng, double no_best, const std::string& what);

}  // namespace unroll::common
