// nn/dropout.h — inverted dropout as a module: in training mode each entry is zeroed with probability p
// and the rest scaled by 1/(1-p); in eval mode (or p = 0) it is the identity. The mask comes from the
// Rng passed to forward (seeded by the caller), so runs repeat bitwise.
#pragma once

#include "engine/rng.h"
#include "nn/module.h"

namespace unroll {

template <class T>
class Dropout final : public Module<T> {
 public:
  explicit Dropout(double p = 0.5);

  Var<T> forward(const Var<T>& x, Rng& rng) const;     // x [B, n] -> [B, n]
  Var<T> operator()(const Var<T>& x, Rng& rng) const { return forward(x, rng); }

  std::vector<NamedParam<T>> parameters() override { return {}; }
  std::string describe() const override;               // "Dropout(p=0.5)"
  double p() const { return p_; }

 private:
  double p_;
};

extern template class Dropout<float>;
extern template class Dropout<double>;

}  // namespace unroll
