// models/common/train_loop.cc — see train_loop.h.
#include "models/common/train_loop.h"

#include "engine/check.h"
#include "models/common/stopwatch.h"

namespace unroll::common {

LoopResult run_train_loop(const LoopPlan& plan, const LoopCallbacks& cb) {
  UNROLL_CHECK(plan.batches > 0 && plan.epochs > 0, "run_train_loop: needs epochs and batches > 0, got {} and {}",
               plan.epochs, plan.batches);
  UNROLL_CHECK(plan.batch < plan.batches, "run_train_loop: resume position batch {} is past the {} batches",
               plan.batch, plan.batches);
  UNROLL_CHECK(bool(cb.step) && bool(cb.evaluate), "run_train_loop: the step and evaluate callbacks are required");
  const Stopwatch clock;
  const double nb = double(plan.batches);
  LoopResult res;
  LoopPosition pos{plan.step, plan.epoch, plan.batch, double(plan.epoch) + double(plan.batch) / nb, 0};
  res.epochs = pos.epochs_done;
  bool stop = false;
  for (std::size_t epoch = plan.epoch; epoch < plan.epochs && !stop; ++epoch) {
    if (cb.begin_epoch) cb.begin_epoch(epoch);
    for (std::size_t k = epoch == plan.epoch ? plan.batch : 0; k < plan.batches && !stop; ++k) {
      pos.epoch = epoch;
      pos.batch = k;
      pos.epochs_done = double(epoch) + double(k) / nb;
      pos.seconds = clock.wall_seconds();
      cb.step(pos);
      ++pos.step;
      // The position after this step.
      const bool epoch_end = k + 1 == plan.batches;
      pos.epoch = epoch_end ? epoch + 1 : epoch;
      pos.batch = epoch_end ? 0 : k + 1;
      pos.epochs_done = double(epoch) + double(k + 1) / nb;
      pos.seconds = clock.wall_seconds();
      res.epochs = pos.epochs_done;
      res.out_of_time = plan.time_limit > 0 && pos.seconds >= plan.time_limit;
      const bool due = plan.eval_every > 0 && pos.step % plan.eval_every == 0;
      if (res.out_of_time || epoch_end || due) {
        res.stopped = cb.evaluate(pos);
        stop = res.out_of_time || res.stopped;
      }
    }
  }
  res.steps = pos.step;
  res.seconds = clock.wall_seconds();
  res.cpu_seconds = clock.cpu_seconds();
  return res;
}

}  // namespace unroll::common
