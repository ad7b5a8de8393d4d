// engine/rng.h — the one source of randomness: an explicitly seeded generator passed by reference.
// The same seed gives bitwise the same stream on every run; the state can be saved and restored
// (training checkpoints resume exactly). Random tensors are materialized at once, never lazy.
#pragma once

#include "engine/tensor.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <random>
#include <sstream>
#include <string>

namespace unroll {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : gen_(seed) {}

  // Uniform in [lo, hi). Hand-rolled from the raw 64-bit stream so results do not depend on the
  // standard library's distribution implementations.
  double uniform(double lo = 0.0, double hi = 1.0) {
    return lo + (hi - lo) * (double(gen_() >> 11) * 0x1.0p-53);
  }
  // Standard normal by Box–Muller (one value per call; deterministic across platforms).
  double normal(double mean = 0.0, double stddev = 1.0) {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n ? gen_() % n : 0; }
  std::uint64_t next() { return gen_(); }

  template <class T>
  Mat<T> uniform_mat(std::size_t rows, std::size_t cols, double lo, double hi) {
    Mat<T> m = xt::zeros<T>({rows, cols});
    for (auto& v : m) v = T(uniform(lo, hi));
    return m;
  }
  template <class T>
  Mat<T> normal_mat(std::size_t rows, std::size_t cols, double mean = 0.0, double stddev = 1.0) {
    Mat<T> m = xt::zeros<T>({rows, cols});
    for (auto& v : m) v = T(normal(mean, stddev));
    return m;
  }

  // Full generator state as text (std::mt19937_64's stream format) for checkpoints.
  std::string state() const {
    std::ostringstream os;
    os << gen_;
    return os.str();
  }
  void set_state(const std::string& s) {
    std::istringstream is(s);
    std::mt19937_64 g;
    is >> g;
    if (is.fail()) throw std::invalid_argument("Rng::set_state: not a generator state");
    gen_ = g;
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace unroll
