// nn/gradflow.h — looking at gradient flow through time: ‖∂L/∂h_t‖ for every step of a run (vanishing and
// exploding gradients: RNN vs LSTM vs GRU), an accumulator over many runs, and a counter of how often
// gradient clipping fired (clip_grad_norm_ fills it).
// How it works: backward() leaves every intermediate node's gradient in place, so after loss.backward()
// the Var h_t that carried the state into step t+1 holds ∂L/∂h_t — the total derivative, through the
// loss at step t and through every later step. Pass exactly the Vars the next step consumed; a copy made
// for the outputs (a masked or concatenated one) only sees the gradient that flowed through the copy.
// Read the norms right after the backward of the graph that holds the h_t: a node the latest backward
// did not reach keeps the gradient of an earlier pass.
#pragma once

#include "engine/var.h"

#include <cstddef>
#include <string>
#include <vector>

namespace unroll {

// ‖∂L/∂h_t‖₂ over the whole [B, H] gradient of each step, after backward. A step that took no gradient
// (not reached, or a constant) gives 0.    hs: T × [B, H]  ->  T values
template <class T>
std::vector<double> grad_norms(const std::vector<Var<T>>& hs);

// The same per sequence in the batch: out[t][b] = ‖∂L/∂h_t[b, :]‖₂.    hs: T × [B, H]  ->  [T][B]
template <class T>
std::vector<std::vector<double>> grad_norms_per_row(const std::vector<Var<T>>& hs);

// Mean of per-step norms over many runs (runs may have different lengths: step t averages the runs
// that reached it). Feed it grad_norms(hs) after each backward.
class GradFlowStats {
 public:
  void add(const std::vector<double>& norms);
  std::vector<double> mean() const;             // per step
  std::vector<std::size_t> counts() const { return count_; }
  std::size_t runs() const { return runs_; }
  // mean[last] / mean[0]: how much of the gradient at the last step reaches the first (< 1: vanishing
  // towards the start when the loss sits at the end). 0 when there is no data.
  double first_to_last_ratio() const;
  std::string table(std::size_t max_rows = 20) const;  // "t  mean‖∂L/∂h_t‖  runs", evenly subsampled
 private:
  std::vector<double> sum_;
  std::vector<std::size_t> count_;
  std::size_t runs_ = 0;
};

// How often clip_grad_norm_ rescaled the gradients (pass &counter as its last argument).
struct ClipCounter {
  std::size_t calls = 0;        // clip_grad_norm_ calls recorded
  std::size_t clipped = 0;      // of which rescaled the gradients (norm > max_norm, or a NaN norm)
  std::size_t non_finite = 0;   // of which saw a NaN/Inf norm
  double last_norm = 0;         // total norm of the latest call, before clipping
  double max_norm_seen = 0;     // largest finite total norm so far
  double sum_norm = 0;          // of the finite norms (mean = sum_norm / (calls - non_finite))

  void record(double norm, bool fired);
  double fraction() const { return calls ? double(clipped) / double(calls) : 0.0; }
  void reset() { *this = ClipCounter{}; }
  std::string describe() const;  // "clipped 12 of 400 steps (3.0%), last norm 0.81, max 7.3, 0 non-finite"
};

}  // namespace unroll
