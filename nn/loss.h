// nn/loss.h — losses over sequences: a sequence is a vector of per-step Vars (T × [B, ·], step t of every
// sequence in row b), ragged batches are described by per-sequence lengths. Steps at t >= lengths[b] are
// padding: they add nothing to the loss and get zero gradient, whatever their logits or targets hold.
// Built from the engine's gradient-checked ops (cross_entropy, bce_with_logits, mse, mask, add, scale).
// Reductions: Sum = Σ over real tokens (or elements); Mean = Sum / number of real tokens (elements);
// None = per-sequence sums as [B, 1]. With no real token at all, Mean is 0 (as the engine's cross_entropy).
// Not here: single-step losses (engine/ops.h), per-step weights.
#pragma once

#include "engine/ops.h"

#include <cstdint>
#include <vector>

namespace unroll {

// lengths: one per sequence, each in [0, T]; empty = every sequence has all T steps.
using Lengths = std::vector<std::size_t>;

// Token cross-entropy. logits: T × [B, V]; targets: T × B class ids in [0, V), or ignore_index (which
// also marks padding, as PyTorch's ignore_index does). Mean is over the real, non-ignored tokens.
template <class T>
Var<T> sequence_cross_entropy(const std::vector<Var<T>>& logits, const std::vector<std::vector<std::int64_t>>& targets,
                              const Lengths& lengths = {}, Reduction reduction = Reduction::Mean,
                              std::int64_t ignore_index = -100);

// Binary cross-entropy with logits at every step. logits: T × [B, K]; targets: T × [B, K] in [0, 1]
// (padded steps may hold anything). Mean is over the real steps' entries (real steps × K).
template <class T>
Var<T> sequence_bce_with_logits(const std::vector<Var<T>>& logits, const std::vector<Mat<T>>& targets,
                                const Lengths& lengths = {}, Reduction reduction = Reduction::Mean);

// Squared error at every step. predictions, targets: T × [B, N] (targets may be Vars that take gradients).
// Mean is over the real steps' entries (real steps × N).
template <class T>
Var<T> sequence_mse(const std::vector<Var<T>>& predictions, const std::vector<Var<T>>& targets,
                    const Lengths& lengths = {}, Reduction reduction = Reduction::Mean);

// The number of real tokens the Mean of sequence_cross_entropy divides by.
std::size_t count_real_tokens(const std::vector<std::vector<std::int64_t>>& targets, const Lengths& lengths,
                              std::int64_t ignore_index = -100);

}  // namespace unroll
