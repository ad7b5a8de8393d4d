// nn/optim.h — optimizers with exactly torch.optim's update rules (SGD, Adagrad, RMSprop, Adam/AdamW),
// so a float64 run gives PyTorch's numbers (tests/test_optim.cc holds them to a committed torch fixture).
// Every step first scans all gradients: a NaN/Inf anywhere refuses the whole step (NumericError) before
// any weight or state is written. Parameters whose gradient is empty (never reached by backward, or
// zero_grad(true)) are skipped, as PyTorch skips `p.grad is None`.
// Row-tracked gradients (nn/embedding.h, engine/var.h Node::sparse_grad): the scan reads only the rows
// backward wrote and zero_grad clears only those; the result is bitwise the dense one.
// sparse_rows (for embedding tables): only rows whose gradient is non-zero are touched — "lazy" semantics,
// like torch.optim.SparseAdam: a skipped row's weights, moments and momentum are left as they were
// (no decay, no weight decay); bias-correction steps still count every step of the parameter.
// State for training checkpoints (nn/checkpoint.h contract): named tensors "<buffer>.<param name>"
// plus string metadata (type, hyperparameters, per-parameter step counts), restored bitwise by load_state.
// Not here: parameter groups, learning-rate schedules (set_lr is the hook), clipping (nn/clip.h).
#pragma once

#include "nn/module.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace unroll {

// ---- base ------------------------------------------------------------------------------------------
template <class T>
class Optimizer {
 public:
  using StateTensors = std::vector<std::pair<std::string, Mat<T>>>;
  using StateMeta = std::map<std::string, std::string>;

  Optimizer(std::vector<NamedParam<T>> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient. Throws NumericError (nothing written) when any
  // gradient holds a NaN or Inf.
  void step();
  // Gradients to zero in place (no reallocation; an empty gradient stays empty, as PyTorch leaves
  // None); set_to_none empties them instead, so a parameter backward does not reach is skipped by step().
  void zero_grad(bool set_to_none = false);

  double lr() const { return lr_; }
  void set_lr(double lr);
  // Lazy row updates for one parameter (by name) or, with no name, for all of them.
  void set_sparse_rows(const std::string& name, bool on);
  void set_sparse_rows(bool on);
  bool sparse_rows(const std::string& name) const;

  const std::vector<NamedParam<T>>& params() const { return params_; }
  std::uint64_t steps() const { return steps_taken_; }           // successful step() calls
  std::uint64_t step_count(const std::string& name) const;        // updates of one parameter
  virtual std::string describe() const = 0;                       // "Adam(lr=0.001, betas=(0.9, 0.999), ...)"

  // Checkpoint state: tensors in parameter order, buffers in a fixed order per parameter, only for
  // parameters that have been updated ("exp_avg.lstm.weight_ih_l0", "exp_avg_sq.lstm.weight_ih_l0", …).
  StateTensors state() const;
  // "type", every hyperparameter (shortest round-trip decimal), "steps", "step.<param name>".
  StateMeta state_meta() const;
  // Restores what state() / state_meta() gave, all-or-nothing: the type must match, every tensor must
  // name a known buffer and parameter with the parameter's shape; otherwise ShapeError and no change.
  // Hyperparameters (lr included) are restored too, as PyTorch's load_state_dict does.
  void load_state(const StateTensors& tensors, const StateMeta& meta);

 protected:
  // The names of the per-parameter buffers this configuration uses, in export order.
  virtual std::vector<std::string> buffer_names() const = 0;
  // Initial value of every buffer entry (Adagrad's initial_accumulator_value; 0 for the others).
  virtual T buffer_init(std::size_t /*buffer*/) const { return T(0); }
  // True when a zero gradient entry leaves the weight and every buffer bitwise unchanged under the dense
  // rule (plain SGD; Adagrad without weight decay and eps > 0): step() then updates only the rows a
  // row-tracked gradient lists (engine/var.h), which is the dense result.
  virtual bool zero_grad_noop() const { return false; }
  // What an update of one span knows besides the numbers.
  struct Span {
    std::uint64_t step;  // this parameter's update count including the current one (1 on the first)
    bool first;          // the parameter's first update (SGD's buffer = d_p then)
    bool rows;           // a row of a sparse_rows parameter (Adam then follows torch.optim.SparseAdam)
  };
  // Update n contiguous entries: p (weights), g (gradient), buf[k] (buffer k at the same offset).
  virtual void update_span(T* p, const T* g, T* const* buf, std::size_t n, const Span& s) = 0;
  virtual std::string type() const = 0;
  virtual StateMeta hyper_meta() const = 0;                       // every hyperparameter except lr
  virtual void load_hyper_meta(const StateMeta& meta) = 0;        // throws ShapeError on a bad value
  std::string format_lr() const;

  double lr_;

 private:
  std::vector<NamedParam<T>> params_;
  std::vector<char> sparse_;                          // per parameter
  std::vector<std::uint64_t> step_;                   // per parameter
  std::vector<std::vector<Mat<T>>> buf_;              // [param][buffer], empty until first update
  std::vector<std::vector<std::size_t>> rows_;        // scratch: non-zero gradient rows per parameter
  std::vector<char> listed_;                          // scratch: the gradient's rows were known this step
  std::uint64_t steps_taken_ = 0;
  std::size_t index_of(const std::string& name, const char* what) const;  // throws for an unknown name
  std::size_t find(const std::string& name) const;                        // params_.size() if unknown
};

// ---- SGD ---------------------------------------------------------------------------------------------
// d = g + wd·p;  buf = d (first) | momentum·buf + (1 - dampening)·d;  d = d + momentum·buf (nesterov) | buf
// p -= lr · d      (torch.optim.SGD; maximize is not supported)
struct SGDOptions {
  double lr = 0.01;            // e.g. 0.1
  double momentum = 0.0;       // e.g. 0.9
  double dampening = 0.0;
  double weight_decay = 0.0;   // L2 added to the gradient, e.g. 1e-4
  bool nesterov = false;       // needs momentum > 0 and dampening = 0
  bool sparse_rows = false;    // default for every parameter (see the top of this file)
};

template <class T>
class SGD final : public Optimizer<T> {
 public:
  SGD(std::vector<NamedParam<T>> params, const SGDOptions& o = {});
  std::string describe() const override;
  const SGDOptions& options() const { return o_; }

 protected:
  std::vector<std::string> buffer_names() const override;
  bool zero_grad_noop() const override { return o_.momentum == 0 && o_.weight_decay == 0; }
  void update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) override;
  std::string type() const override { return "SGD"; }
  typename Optimizer<T>::StateMeta hyper_meta() const override;
  void load_hyper_meta(const typename Optimizer<T>::StateMeta& meta) override;

 private:
  SGDOptions o_;
};

// ---- Adagrad -----------------------------------------------------------------------------------------
// d = g + wd·p;  clr = lr / (1 + (step - 1)·lr_decay);  sum += d²;  p -= clr · d / (√sum + eps)
struct AdagradOptions {
  double lr = 0.01;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
  bool sparse_rows = false;
};

template <class T>
class Adagrad final : public Optimizer<T> {
 public:
  Adagrad(std::vector<NamedParam<T>> params, const AdagradOptions& o = {});
  std::string describe() const override;
  const AdagradOptions& options() const { return o_; }

 protected:
  std::vector<std::string> buffer_names() const override { return {"sum"}; }
  T buffer_init(std::size_t) const override { return T(o_.initial_accumulator_value); }
  bool zero_grad_noop() const override { return o_.weight_decay == 0 && o_.eps > 0; }
  void update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) override;
  std::string type() const override { return "Adagrad"; }
  typename Optimizer<T>::StateMeta hyper_meta() const override;
  void load_hyper_meta(const typename Optimizer<T>::StateMeta& meta) override;

 private:
  AdagradOptions o_;
};

// ---- RMSprop -----------------------------------------------------------------------------------------
// d = g + wd·p;  sq = α·sq + (1-α)·d²;  centered: ga = α·ga + (1-α)·d, avg = √(sq - ga²) + eps
// else avg = √sq + eps;  momentum: buf = μ·buf + d/avg, p -= lr·buf;  else p -= lr · d/avg
struct RMSpropOptions {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool sparse_rows = false;
};

template <class T>
class RMSprop final : public Optimizer<T> {
 public:
  RMSprop(std::vector<NamedParam<T>> params, const RMSpropOptions& o = {});
  std::string describe() const override;
  const RMSpropOptions& options() const { return o_; }

 protected:
  std::vector<std::string> buffer_names() const override;
  void update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) override;
  std::string type() const override { return "RMSprop"; }
  typename Optimizer<T>::StateMeta hyper_meta() const override;
  void load_hyper_meta(const typename Optimizer<T>::StateMeta& meta) override;

 private:
  RMSpropOptions o_;
};

// ---- Adam / AdamW ------------------------------------------------------------------------------------
// Adam:  d = g + wd·p.   AdamW (decoupled_weight_decay): d = g and p *= 1 - lr·wd first.
// m = β1·m + (1-β1)·d;  v = β2·v + (1-β2)·d²;  amsgrad: v̂ = max(v̂, v) used in place of v
// p -= (lr / (1 - β1^step)) · m / (√v / √(1 - β2^step) + eps)
// sparse_rows follows torch.optim.SparseAdam on the rows it touches, eps included:
// m += (d - m)(1-β1);  v += (d² - v)(1-β2);  p -= (lr·√(1 - β2^step) / (1 - β1^step)) · m / (√v + eps)
struct AdamOptions {
  double lr = 0.001;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool decoupled_weight_decay = false;  // true: torch.optim.AdamW (its default weight_decay is 0.01)
  bool sparse_rows = false;             // with it, Adam on an embedding = torch.optim.SparseAdam
};

template <class T>
class Adam final : public Optimizer<T> {
 public:
  Adam(std::vector<NamedParam<T>> params, const AdamOptions& o = {});
  std::string describe() const override;
  const AdamOptions& options() const { return o_; }

 protected:
  std::vector<std::string> buffer_names() const override;
  void update_span(T* p, const T* g, T* const* buf, std::size_t n, const typename Optimizer<T>::Span& s) override;
  std::string type() const override { return o_.decoupled_weight_decay ? "AdamW" : "Adam"; }
  typename Optimizer<T>::StateMeta hyper_meta() const override;
  void load_hyper_meta(const typename Optimizer<T>::StateMeta& meta) override;

 private:
  AdamOptions o_;
  std::uint64_t cache_step_ = 0;                      // the step the bias corrections below are for
  double cache_bc1_ = 0, cache_bc2_ = 0;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class SGD<float>;
extern template class SGD<double>;
extern template class Adagrad<float>;
extern template class Adagrad<double>;
extern template class RMSprop<float>;
extern template class RMSprop<double>;
extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace unroll
