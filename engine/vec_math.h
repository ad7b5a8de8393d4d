// engine/vec_math.h — float activations and softmax pieces over arrays, 16 lanes at a time: Cephes-style
// expf/tanhf polynomials in GCC vector extensions (|error| < 1e-7 against double; about 5x libm's scalar expf and
// tanhf here), cloned for AVX-512, AVX2 and a baseline at load time — the default build has no -march, and plain
// loops around std::exp do not vectorize. Other compilers get plain std:: loops. The ops (ops_rnn.cc,
// ops_loss.cc) call these for float; double (gradient checks) keeps std::exp / std::tanh.
#pragma once

#include <cstddef>

namespace unroll {

void sigmoid_f32(float* p, std::size_t n);  // p[k] = 1 / (1 + e^-p[k])
void tanh_f32(float* p, std::size_t n);     // p[k] = tanh(p[k])
float max_f32(const float* x, std::size_t n);  // max_k x[k] (n > 0; NaN-free input)
// out[k] = e^(x[k] - m) for every k (exactly 0 where x[k] - m < -87, as e^v is below FLT_MIN there), returns
// Σ_k out[k]. out may be x.
float exp_shift_sum_f32(const float* x, float m, float* out, std::size_t n);

}  // namespace unroll
