// nn/loss.cc — sequence losses as sums of per-step engine losses: each step gives a per-row loss (padding
// masked out), the steps are added into per-sequence sums [B, 1], and the reduction is applied last.
#include "nn/loss.h"

#include <fmt/format.h>

namespace unroll {

namespace {

// Checks a sequence of per-step Vars: non-empty, every step [B, cols] with one B; returns B.
template <class T>
std::size_t check_steps(const char* op, const char* what, const std::vector<Var<T>>& xs) {
  UNROLL_CHECK(!xs.empty(), "{}: {} has no steps (want T >= 1 Vars of shape [B, n])", op, what);
  UNROLL_CHECK(xs[0].defined(), "{}: {} at step 0 is an undefined Var", op, what);
  const std::size_t B = xs[0].rows(), C = xs[0].cols();
  for (std::size_t t = 1; t < xs.size(); ++t) {
    UNROLL_CHECK(xs[t].defined(), "{}: {} at step {} is an undefined Var", op, what, t);
    UNROLL_CHECK(xs[t].rows() == B && xs[t].cols() == C, "{}: {} at step {} is {}, expected {} like step 0", op, what,
                 t, shape_str(xs[t].value()), shape_str(B, C));
  }
  return B;
}

void check_lengths(const char* op, const Lengths& lengths, std::size_t B, std::size_t T) {
  if (lengths.empty()) return;
  UNROLL_CHECK(lengths.size() == B, "{}: {} lengths for a batch of {} sequences (want one per sequence, or none)", op,
               lengths.size(), B);
  for (std::size_t b = 0; b < B; ++b)
    UNROLL_CHECK(lengths[b] <= T, "{}: length {} of sequence {} is longer than the {} steps given", op, lengths[b], b, T);
}

bool real(const Lengths& lengths, std::size_t b, std::size_t t) { return lengths.empty() || t < lengths[b]; }

// Per-sequence sums [B, 1] (undefined when no step contributed) -> the reduction.
template <class T>
Var<T> reduce(Var<T> per_seq, std::size_t B, std::size_t n_real, Reduction reduction) {
  if (!per_seq.defined()) {
    if (reduction == Reduction::None) return constant(zeros<T>(B, 1));
    return constant(zeros<T>(1, 1));
  }
  if (reduction == Reduction::None) return per_seq;
  Var<T> s = sum(per_seq);
  if (reduction == Reduction::Sum) return s;
  return n_real ? scale(s, T(1) / T(n_real)) : scale(s, T(0));
}

template <class T>
void accumulate(Var<T>& acc, const Var<T>& x) {
  acc = acc.defined() ? add(acc, x) : x;
}

// Zeroes the rows of padded sequences at step t (x: [B, n]); the identity when every row is real.
template <class T>
Var<T> mask_padding(const Var<T>& x, const Lengths& lengths, std::size_t t) {
  const std::size_t B = x.rows();
  bool all = true;
  for (std::size_t b = 0; b < B; ++b) all = all && real(lengths, b, t);
  if (all) return x;
  Mat<T> m = zeros<T>(B, x.cols());
  for (std::size_t b = 0; b < B; ++b)
    if (real(lengths, b, t)) xt::view(m, b, xt::all()) = T(1);
  return mask(x, m);
}

std::size_t real_steps(const Lengths& lengths, std::size_t B, std::size_t T) {
  if (lengths.empty()) return B * T;
  std::size_t n = 0;
  for (std::size_t b = 0; b < B; ++b) n += lengths[b];
  return n;
}

}  // namespace

std::size_t count_real_tokens(const std::vector<std::vector<std::int64_t>>& targets, const Lengths& lengths,
                              std::int64_t ignore_index) {
  std::size_t n = 0;
  for (std::size_t t = 0; t < targets.size(); ++t)
    for (std::size_t b = 0; b < targets[t].size(); ++b)
      n += real(lengths, b, t) && targets[t][b] != ignore_index;
  return n;
}

// ---------------------------------------------------------------------------------------------------
// sequence_cross_entropy  l_b = Σ_{t < len_b, y_tb ≠ ignore} -log softmax(z_t[b])[y_tb]
template <class T>
Var<T> sequence_cross_entropy(const std::vector<Var<T>>& logits, const std::vector<std::vector<std::int64_t>>& targets,
                              const Lengths& lengths, Reduction reduction, std::int64_t ignore_index) {
  const char* op = "sequence_cross_entropy";
  const std::size_t B = check_steps(op, "logits", logits), T_ = logits.size();
  UNROLL_CHECK(targets.size() == T_, "{}: {} steps of targets for {} steps of logits (want targets[t][b])", op,
               targets.size(), T_);
  for (std::size_t t = 0; t < T_; ++t)
    UNROLL_CHECK(targets[t].size() == B, "{}: step {} has {} targets for logits of shape {} (want one per row)", op, t,
                 targets[t].size(), shape_str(logits[t].value()));
  check_lengths(op, lengths, B, T_);
  Var<T> acc;
  std::vector<std::int64_t> tgt(B);
  for (std::size_t t = 0; t < T_; ++t) {
    bool any = false;
    for (std::size_t b = 0; b < B; ++b) {
      tgt[b] = real(lengths, b, t) ? targets[t][b] : ignore_index;
      any = any || tgt[b] != ignore_index;
    }
    if (!any) continue;  // a step of padding only adds nothing
    accumulate(acc, cross_entropy(logits[t], tgt, ignore_index, Reduction::None));
  }
  return reduce(acc, B, count_real_tokens(targets, lengths, ignore_index), reduction);
}

// ---------------------------------------------------------------------------------------------------
// sequence_bce_with_logits  l_b = Σ_{t < len_b} Σ_k max(x,0) - x·y + log(1 + e^-|x|)   at (t, b, k)
template <class T>
Var<T> sequence_bce_with_logits(const std::vector<Var<T>>& logits, const std::vector<Mat<T>>& targets,
                                const Lengths& lengths, Reduction reduction) {
  const char* op = "sequence_bce_with_logits";
  const std::size_t B = check_steps(op, "logits", logits), T_ = logits.size(), K = logits[0].cols();
  UNROLL_CHECK(targets.size() == T_, "{}: {} steps of targets for {} steps of logits", op, targets.size(), T_);
  for (std::size_t t = 0; t < T_; ++t)
    UNROLL_CHECK(targets[t].shape() == logits[t].value().shape(), "{}: targets at step {} are {}, logits are {}", op,
                 t, shape_str(targets[t]), shape_str(logits[t].value()));
  check_lengths(op, lengths, B, T_);
  Var<T> acc;
  for (std::size_t t = 0; t < T_; ++t) {
    bool any = false, all = true;
    for (std::size_t b = 0; b < B; ++b) {
      any = any || real(lengths, b, t);
      all = all && real(lengths, b, t);
    }
    if (!any) continue;
    Var<T> l;
    if (all) {
      l = bce_with_logits(logits[t], targets[t], Reduction::None);
    } else {
      Mat<T> y = targets[t];  // padded rows may hold anything: give bce a valid target there
      for (std::size_t b = 0; b < B; ++b)
        if (!real(lengths, b, t)) xt::view(y, b, xt::all()) = T(0);
      l = mask_padding(bce_with_logits(logits[t], y, Reduction::None), lengths, t);
    }
    accumulate(acc, l);
  }
  if (acc.defined()) acc = sum_cols(acc);
  return reduce(acc, B, real_steps(lengths, B, T_) * K, reduction);
}

// ---------------------------------------------------------------------------------------------------
// sequence_mse  l_b = Σ_{t < len_b} Σ_n (p - y)²   at (t, b, n)
template <class T>
Var<T> sequence_mse(const std::vector<Var<T>>& predictions, const std::vector<Var<T>>& targets, const Lengths& lengths,
                    Reduction reduction) {
  const char* op = "sequence_mse";
  const std::size_t B = check_steps(op, "predictions", predictions), T_ = predictions.size(), N = predictions[0].cols();
  UNROLL_CHECK(targets.size() == T_, "{}: {} steps of targets for {} steps of predictions", op, targets.size(), T_);
  for (std::size_t t = 0; t < T_; ++t) {
    UNROLL_CHECK(targets[t].defined(), "{}: target at step {} is an undefined Var", op, t);
    UNROLL_CHECK(targets[t].value().shape() == predictions[t].value().shape(),
                 "{}: target at step {} is {}, prediction is {}", op, t, shape_str(targets[t].value()),
                 shape_str(predictions[t].value()));
  }
  check_lengths(op, lengths, B, T_);
  Var<T> acc;
  for (std::size_t t = 0; t < T_; ++t) {
    bool any = false;
    for (std::size_t b = 0; b < B; ++b) any = any || real(lengths, b, t);
    if (!any) continue;
    accumulate(acc, mask_padding(mse(predictions[t], targets[t], Reduction::None), lengths, t));
  }
  if (acc.defined()) acc = sum_cols(acc);
  return reduce(acc, B, real_steps(lengths, B, T_) * N, reduction);
}

#define UNROLL_INSTANTIATE(T)                                                                                    \
  template Var<T> sequence_cross_entropy<T>(const std::vector<Var<T>>&, const std::vector<std::vector<std::int64_t>>&, \
                                            const Lengths&, Reduction, std::int64_t);                            \
  template Var<T> sequence_bce_with_logits<T>(const std::vector<Var<T>>&, const std::vector<Mat<T>>&,            \
                                              const Lengths&, Reduction);                                        \
  template Var<T> sequence_mse<T>(const std::vector<Var<T>>&, const std::vector<Var<T>>&, const Lengths&, Reduction);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
