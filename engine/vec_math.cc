// engine/vec_math.cc — see vec_math.h.
#include "engine/vec_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace unroll {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wpsabi"
#define UNROLL_VACT 1
typedef float vf16 __attribute__((vector_size(64)));
typedef int vi16 __attribute__((vector_size(64)));
#define UNROLL_VINLINE static inline __attribute__((always_inline))
namespace {
UNROLL_VINLINE vf16 splat(float v) { return vf16{} + v; }
UNROLL_VINLINE vf16 vexp(vf16 x) {
  x = x < splat(-87.f) ? splat(-87.f) : x;  // e^-87 is a normal float, e^88 < FLT_MAX: no inf, no NaN
  x = x > splat(88.f) ? splat(88.f) : x;
  const vf16 magic = splat(12582912.f);     // 1.5·2^23: adding then subtracting it rounds to an integer
  const vf16 n = (x * splat(1.44269504088896341f) + magic) - magic;
  const vf16 r = x - n * splat(0.693359375f) + n * splat(2.12194440e-4f);
  vf16 y = splat(1.9875691500E-4f);
  y = y * r + splat(1.3981999507E-3f);
  y = y * r + splat(8.3334519073E-3f);
  y = y * r + splat(4.1665795894E-2f);
  y = y * r + splat(1.6666665459E-1f);
  y = y * r + splat(5.0000001201E-1f);
  y = y * r * r + r + splat(1.f);
  const vi16 e = (__builtin_convertvector(n, vi16) + 127) << 23;  // 2^n
  return y * (vf16)e;
}
UNROLL_VINLINE vf16 vsigmoid(vf16 x) { return splat(1.f) / (splat(1.f) + vexp(-x)); }
UNROLL_VINLINE vf16 vtanh(vf16 x) {  // odd polynomial below 0.625, 1 - 2/(1 + e^2|x|) with x's sign above
  const vi16 xi = (vi16)x;
  const vf16 ax = (vf16)(xi & 0x7fffffff);
  const vf16 z = x * x;
  vf16 p = splat(-5.70498872745E-3f);
  p = p * z + splat(2.06390887954E-2f);
  p = p * z - splat(5.37397155531E-2f);
  p = p * z + splat(1.33314422036E-1f);
  p = p * z - splat(3.33332819422E-1f);
  const vf16 small = p * z * x + x;
  const vf16 big = splat(1.f) - splat(2.f) / (splat(1.f) + vexp(splat(2.f) * ax));
  const vf16 sbig = (vf16)(((vi16)big & 0x7fffffff) | (xi & int(0x80000000u)));
  return ax < splat(0.625f) ? small : sbig;
}
template <vf16 (*F)(vf16)>
UNROLL_VINLINE void vapply(float* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    vf16 v;
    std::memcpy(&v, p + i, sizeof v);
    v = F(v);
    std::memcpy(p + i, &v, sizeof v);
  }
  if (i < n) {
    vf16 v = splat(0.f);
    std::memcpy(&v, p + i, (n - i) * sizeof(float));
    v = F(v);
    std::memcpy(p + i, &v, (n - i) * sizeof(float));
  }
}
UNROLL_VINLINE vf16 vmax(vf16 a, vf16 b) { return a > b ? a : b; }
}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default"))) void sigmoid_f32(float* p, std::size_t n) {
  vapply<vsigmoid>(p, n);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void tanh_f32(float* p, std::size_t n) {
  vapply<vtanh>(p, n);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float max_f32(const float* x, std::size_t n) {
  std::size_t i = 0;
  float m = x[0];
  if (n >= 16) {
    vf16 acc;
    std::memcpy(&acc, x, sizeof acc);
    for (i = 16; i + 16 <= n; i += 16) {
      vf16 v;
      std::memcpy(&v, x + i, sizeof v);
      acc = vmax(acc, v);
    }
    for (int l = 0; l < 16; ++l) m = std::max(m, acc[l]);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float exp_shift_sum_f32(const float* x, float m,
                                                                                      float* out, std::size_t n) {
  vf16 acc = splat(0.f);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    vf16 v;
    std::memcpy(&v, x + i, sizeof v);
    v -= m;
    const vf16 e = vexp(v);
    v = v < splat(-87.f) ? splat(0.f) : e;  // vexp clamps at -87; below it e^v is under FLT_MIN: 0
    acc += v;
    std::memcpy(out + i, &v, sizeof v);
  }
  float s = 0;
  for (int l = 0; l < 16; ++l) s += acc[l];
  for (; i < n; ++i) {
    const float v = x[i] - m;
    out[i] = v < -87.f ? 0.f : std::exp(v);
    s += out[i];
  }
  return s;
}

#else  // portable: plain loops
void sigmoid_f32(float* p, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) p[k] = 1.f / (1.f + std::exp(-p[k]));
}
void tanh_f32(float* p, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) p[k] = std::tanh(p[k]);
}
float max_f32(const float* x, std::size_t n) { return *std::max_element(x, x + n); }
float exp_shift_sum_f32(const float* x, float m, float* out, std::size_t n) {
  float s = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const float v = x[k] - m;
    out[k] = v < -87.f ? 0.f : std::exp(v);
    s += out[k];
  }
  return s;
}
#endif

}  // namespace unroll
