// nn/clip.h — gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_) and the finite-gradient
// check that refuses a step with a NaN/Inf gradient. Parameters whose gradient is empty are skipped, as
// PyTorch skips `p.grad is None`. Norms are accumulated in double whatever T is.
// Not here: the optimizers (nn/optim.h, whose step() runs the same check before touching any weight).
#pragma once

#include "nn/module.h"

#include <limits>
#include <string>
#include <vector>

namespace unroll {

struct ClipCounter;  // nn/gradflow.h: how often clipping fired

// Throws NumericError naming the parameter, its shape, the first bad entry and `who` when any gradient
// holds a NaN or Inf; does nothing otherwise. Nothing is written either way.
template <class T>
void check_finite_grads(const std::vector<NamedParam<T>>& params, const std::string& who = "check_finite_grads");

// The norm of all gradients taken together, as if concatenated into one vector: (Σ |g|^p)^(1/p);
// norm_type = infinity gives max |g|. A non-finite gradient gives a non-finite norm (no throw).
template <class T>
double grad_norm(const std::vector<NamedParam<T>>& params, double norm_type = 2.0);

// Rescales every gradient by min(1, max_norm / (total_norm + 1e-6)) — PyTorch's formula, so a norm just
// under max_norm is left alone — and returns the total norm from before clipping.
// error_if_nonfinite (default on, unlike PyTorch 1.13): a NaN/Inf norm throws NumericError and leaves the
// gradients untouched, so the step can be skipped; off, the gradients are scaled by the NaN coefficient
// as PyTorch does and the NaN norm is returned. counter (optional) records whether clipping fired.
template <class T>
double clip_grad_norm_(const std::vector<NamedParam<T>>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = true, ClipCounter* counter = nullptr);

// Clamps every gradient entry to [-clip_value, clip_value] (NaN stays NaN, as in torch.clamp).
template <class T>
void clip_grad_value_(const std::vector<NamedParam<T>>& params, double clip_value);

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

}  // namespace unroll
