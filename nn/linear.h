// nn/linear.h — the fully connected layer y = x · Wᵀ + b with PyTorch's layout and names:
// "weight" [out, in], "bias" [1, out] (PyTorch stores the bias as [out]; the checkpoint code maps
// [1, N] <-> [N]). Default init is PyTorch's: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
#pragma once

#include "engine/rng.h"
#include "nn/module.h"

namespace unroll {

template <class T>
class Linear final : public Module<T> {
 public:
  Linear(int in_features, int out_features, Rng& rng, bool bias = true);

  Var<T> forward(const Var<T>& x) const;                // x [B, in] -> [B, out]
  Var<T> operator()(const Var<T>& x) const { return forward(x); }

  std::vector<NamedParam<T>> parameters() override;     // {"weight", W}, {"bias", b} (no bias: weight only)
  std::string describe() const override;                // "Linear(in_features=3, out_features=4, bias=True)"

  int in_features() const { return in_; }
  int out_features() const { return out_; }
  Var<T>& weight() { return weight_; }
  Var<T>& bias() { return bias_; }                      // undefined when built with bias = false

 private:
  int in_, out_;
  Var<T> weight_, bias_;  // [out, in], [1, out]
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace unroll
