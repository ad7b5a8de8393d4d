// nn/linear.cc — Linear (see nn/linear.h); the math is the engine's linear() op.
#include "nn/linear.h"

#include "engine/ops.h"
#include "nn/init.h"

#include <cmath>

namespace unroll {

template <class T>
Linear<T>::Linear(int in_features, int out_features, Rng& rng, bool bias) : in_(in_features), out_(out_features) {
  UNROLL_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got in_features={}, out_features={}",
               in_features, out_features);
  const double bound = 1.0 / std::sqrt(double(in_features));
  weight_ = parameter(uniform_init<T>(out_, in_, bound, rng), "weight");
  if (bias) bias_ = parameter(uniform_init<T>(1, out_, bound, rng), "bias");
}

template <class T>
Var<T> Linear<T>::forward(const Var<T>& x) const {
  UNROLL_CHECK(x.defined(), "{}: input is an undefined Var", describe());
  UNROLL_CHECK(x.cols() == std::size_t(in_), "{}: x has shape {}, expected [B, {}] ([B, in_features])", describe(),
               shape_str(x.value()), in_);
  return linear(x, weight_, bias_);
}

template <class T>
std::vector<NamedParam<T>> Linear<T>::parameters() {
  std::vector<NamedParam<T>> p{{"weight", weight_}};
  if (bias_.defined()) p.push_back({"bias", bias_});
  return p;
}

template <class T>
std::string Linear<T>::describe() const {
  return fmt::format("Linear(in_features={}, out_features={}, bias={})", in_, out_,
                     bias_.defined() ? "True" : "False");
}

template class Linear<float>;
template class Linear<double>;

}  // namespace unroll
