// nn/dropout.cc — Dropout module (see nn/dropout.h); the op is the engine's dropout().
#include "nn/dropout.h"

#include "engine/ops.h"

namespace unroll {

template <class T>
Dropout<T>::Dropout(double p) : p_(p) {
  UNROLL_CHECK(p >= 0.0 && p < 1.0, "Dropout: p must be in [0, 1), got {}", p);
}

template <class T>
Var<T> Dropout<T>::forward(const Var<T>& x, Rng& rng) const {
  return dropout(x, p_, rng, this->training());
}

template <class T>
std::string Dropout<T>::describe() const {
  return fmt::format("Dropout(p={})", p_);
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace unroll
