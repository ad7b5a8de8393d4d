// models/common/train_loop.h — the skeleton every zoo training run shares: epochs of numbered batches, a dev
// evaluation every `eval_every` steps and at each epoch's end, a time limit, and a start position for a resumed run.
// The model-specific work comes in as callbacks: what starts an epoch (zero the carried state, shuffle), one
// optimizer step, and the evaluation (dev metric, best model, checkpoints, learning curve), which may stop the run.
// Not here: optimizers, model files, printing (the callbacks do it).
#pragma once

#include <cstdint>
#include <functional>

namespace unroll::common {

struct LoopPlan {
  std::size_t epochs = 1;             // upper bound on passes over train
  std::size_t batches = 1;            // steps per epoch
  std::size_t eval_every = 0;         // dev evaluation every n steps within an epoch (0 = only at epoch ends)
  double time_limit = 0;              // seconds of training (0 = none); the run stops after the step that passes it
  // Where a resumed run starts (0, 0, 0 = from scratch).
  std::uint64_t step = 0;
  std::size_t epoch = 0, batch = 0;
};

// The position after the steps done so far: the next step is batch `batch` of epoch `epoch` (0-based).
struct LoopPosition {
  std::uint64_t step = 0;             // optimizer steps done, the resumed ones included
  std::size_t epoch = 0, batch = 0;
  double epochs_done = 0;             // epoch + batch / batches
  double seconds = 0;                 // wall time of this run so far
};

struct LoopCallbacks {
  std::function<void(std::size_t epoch)> begin_epoch;              // optional
  std::function<void(const LoopPosition& at)> step;                // one optimizer step on batch at.batch
  std::function<bool(const LoopPosition& next)> evaluate;          // returns true to stop training
};

struct LoopResult {
  std::uint64_t steps = 0;            // total, the resumed ones included
  double epochs = 0;                  // fractional epochs done
  double seconds = 0, cpu_seconds = 0;  // this run's training time (wall and process CPU)
  bool out_of_time = false, stopped = false;
};

// Runs plan with callbacks. A run that stops in the middle of an epoch is evaluated there once, so the last
// position of training is always evaluated.
LoopResult run_train_loop(const LoopPlan& plan, const LoopCallbacks& callbacks);

}  // namespace unroll::common
