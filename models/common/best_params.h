// models/common/best_params.h — model selection on a dev metric: a copy of the parameters at the best evaluation
// so far, put back at the end of training (the numbers reported on test are the best dev model's).
#pragma once

#include "nn/module.h"

#include <limits>
#include <vector>

namespace unroll::common {

enum class Better { lower, higher };  // bits/char, perplexity: lower; accuracy: higher

class BestParams {
 public:
  BestParams(std::vector<NamedParam<float>> params, Better better)
      : params_(std::move(params)), better_(better), best_(worst()) {
    keep();
  }
  // Records an evaluation; when it beats the best so far, copies the parameters and returns true.
  bool offer(double metric) {
    const bool improved = better_ == Better::lower ? metric < best_ : metric > best_;
    if (improved) {
      best_ = metric;
      keep();
    }
    return improved;
  }
  void set_best(double metric) { best_ = metric; }  // a resumed run's best so far
  // Copies the parameters as they are now (a resumed run: its best model is in the file, these weights stand in).
  void keep() {
    copy_.clear();
    for (const auto& p : params_) copy_.push_back(p.var.value());
  }
  double best() const { return best_; }             // +inf (lower) or -inf (higher) before any evaluation
  void restore() {
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].var.value() = copy_[i];
  }

 private:
  double worst() const {
    const double inf = std::numeric_limits<double>::infinity();
    return better_ == Better::lower ? inf : -inf;
  }
  std::vector<NamedParam<float>> params_;
  Better better_;
  double best_;
  std::vector<Mat<float>> copy_;
};

}  // namespace unroll::common
