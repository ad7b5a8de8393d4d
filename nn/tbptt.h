// nn/tbptt.h — truncated backpropagation through time: a long sequence is run in chunks of k steps; the
// state (any vector of Vars: {h} for RNN/GRU, {h, c} for LSTM, one per layer…) is carried from chunk to
// chunk by value but detached, so each chunk's backward stops at its first step and memory stays O(k).
// With k >= T it is exactly full BPTT. Gradients from the chunks add up in the parameters unless the
// after-backward hook steps an optimizer and zeroes them (the usual training loop).
// Not here: the model (the chunk function builds its steps), batching, the optimizer (nn/optim.h).
#pragma once

#include "engine/var.h"

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace unroll {

// The same values cut from the graph; undefined entries stay undefined.
template <class T>
std::vector<Var<T>> detach_state(const std::vector<Var<T>>& state);

// [t0, t1) of every chunk: [0, k), [k, 2k), …, the last one shorter when k does not divide steps.
std::vector<std::pair<std::size_t, std::size_t>> tbptt_chunks(std::size_t steps, std::size_t k);

// What a chunk function returns: the chunk's loss (a [1, 1] Var; undefined if the chunk has none) and the
// state after its last step.
template <class T>
struct ChunkOutput {
  Var<T> loss;
  std::vector<Var<T>> state;
};

template <class T>
using ChunkFn = std::function<ChunkOutput<T>(std::size_t t0, std::size_t t1, const std::vector<Var<T>>& state)>;

template <class T>
struct TbpttResult {
  std::vector<double> chunk_losses;   // each chunk's loss value (0 for a chunk without one)
  double total_loss = 0;              // their sum
  std::vector<Var<T>> final_state;    // detached state after the last step
};

// Runs steps [0, steps) in chunks of k: out = chunk(t0, t1, state); out.loss.backward();
// after_backward(chunk_index) (optional: clip, optimizer step, zero_grad); state = detach(out.state).
// The first chunk gets initial_state as given (so a learnable initial state receives its gradient from
// the first chunk); later chunks get detached states.
template <class T>
TbpttResult<T> tbptt(std::size_t steps, std::size_t k, std::vector<Var<T>> initial_state, const ChunkFn<T>& chunk,
                     const std::function<void(std::size_t chunk_index)>& after_backward = {});

// For streams cut into batches (a language model over a long corpus, PyTorch's repackage_hidden): holds
// the state between calls, hands it out detached.
template <class T>
class StateCarry {
 public:
  StateCarry() = default;
  explicit StateCarry(std::vector<Var<T>> initial) : state_(std::move(initial)) {}
  const std::vector<Var<T>>& state() const { return state_; }     // what the next chunk starts from
  void carry(const std::vector<Var<T>>& final_state) { state_ = detach_state(final_state); }
  void reset(std::vector<Var<T>> initial) { state_ = std::move(initial); }   // a new sequence starts
  bool empty() const { return state_.empty(); }

 private:
  std::vector<Var<T>> state_;
};

}  // namespace unroll
