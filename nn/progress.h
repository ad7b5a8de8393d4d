// nn/progress.h — progress of a long run on stderr: epoch, step, loss, tokens/s, ETA.
// On a terminal it redraws one line with a bar; otherwise (logs, CI) it prints a plain line every
// `every` steps and at the end, so logs stay readable.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace unroll {

class Progress {
 public:
  // total_steps: steps in the whole run (for the bar and the ETA); 0 if unknown.
  explicit Progress(std::size_t total_steps, std::size_t every = 50, bool force_plain = false);
  // After each step: the step's loss and how many tokens it processed.
  void update(std::size_t epoch, double loss, std::size_t tokens);
  void finish(const std::string& message = {});
  std::string line() const;   // the current status text (no bar), also used in tests

 private:
  std::size_t total_, every_, step_ = 0, epoch_ = 0, tokens_ = 0;
  double loss_ = 0, loss_avg_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace unroll
