// engine/packed_gemm.cc — packing and the register-blocked kernels of gemm_packed (see packed_gemm.h).
// Kernel shape: MR ≤ 8 rows of A against one 32-column panel, the 8×32 block of C in 16 AVX-512 registers,
// one pass over k (two panel loads and MR broadcasts feed 2·MR FMAs per k). The panel (K·32 floats, 32 KB at
// K = 256) stays in L1/L2 while the row blocks pass over it.
#include "engine/packed_gemm.h"

#include "engine/check.h"
#include "engine/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>

namespace unroll {

void PackedWeight::Free::operator()(float* p) const { std::free(p); }

void PackedWeight::pack(Trans tb, std::size_t K, std::size_t N, const float* B, std::size_t ldb) {
  UNROLL_CHECK(K > 0 && N > 0, "packed_gemm: cannot pack an empty [{}, {}] weight", K, N);
  const std::size_t panels = (N + kPanel - 1) / kPanel;
  if (K != K_ || N != N_ || !data_) {
    const std::size_t bytes = panels * K * kPanel * sizeof(float);  // a multiple of 64: 32 floats a row
    data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    UNROLL_CHECK(data_ != nullptr, "packed_gemm: out of memory packing a [{}, {}] weight", K, N);
    K_ = K;
    N_ = N;
  }
  for (std::size_t p = 0; p < panels; ++p) {
    float* dst = data_.get() + p * K * kPanel;
    const std::size_t j0 = p * kPanel, w = std::min(kPanel, N - j0);
    if (tb == Trans::N) {  // op(B)[k, j] = B[k, j]: row pieces
      for (std::size_t k = 0; k < K; ++k) {
        std::memcpy(dst + k * kPanel, B + k * ldb + j0, w * sizeof(float));
        std::fill(dst + k * kPanel + w, dst + (k + 1) * kPanel, 0.0f);
      }
    } else {  // op(B)[k, j] = B[j, k]: column j of the panel is row j of B
      if (w < kPanel) std::fill(dst, dst + K * kPanel, 0.0f);
      for (std::size_t j = 0; j < w; ++j) {
        const float* src = B + (j0 + j) * ldb;
        for (std::size_t k = 0; k < K; ++k) dst[k * kPanel + j] = src[k];
      }
    }
  }
}

namespace {

std::atomic<PackedKernel> g_kernel{PackedKernel::Auto};
const bool g_has_avx512 = __builtin_cpu_supports("avx512f");

// ---- AVX-512: C[MR, w] (+)= A[MR, K] · panel[K, 32]  (w ≤ 32 columns stored) ------------------------------
template <int MR>
__attribute__((target("avx512f"))) void kernel_avx512(std::size_t K, const float* A, std::size_t lda,
                                                      const float* P, float* C, std::size_t ldc, bool acc,
                                                      std::size_t w) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (std::size_t k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_load_ps(P + k * 32), b1 = _mm512_load_ps(P + k * 32 + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[std::size_t(i) * lda + k]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
  }
  const __mmask16 m0 = w >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << w) - 1);
  const __mmask16 m1 = w >= 32 ? __mmask16(0xFFFF) : w > 16 ? __mmask16((1u << (w - 16)) - 1) : __mmask16(0);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* c = C + std::size_t(i) * ldc;
    if (acc) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, c));
      c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, c0[i]);
    _mm512_mask_storeu_ps(c + 16, m1, c1[i]);
  }
}

// ---- portable: the same blocking in plain C++ (the compiler vectorises the 32-wide inner loops) ------------
template <int MR>
void kernel_portable(std::size_t K, const float* A, std::size_t lda, const float* P, float* C, std::size_t ldc,
                     bool acc, std::size_t w) {
  float c[MR][32] = {};
  for (std::size_t k = 0; k < K; ++k) {
    const float* b = P + k * 32;
    for (int i = 0; i < MR; ++i) {
      const float a = A[std::size_t(i) * lda + k];
      for (int j = 0; j < 32; ++j) c[i][j] += a * b[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (std::size_t j = 0; j < w; ++j) C[std::size_t(i) * ldc + j] = acc ? C[std::size_t(i) * ldc + j] + c[i][j] : c[i][j];
}

using Kernel = void (*)(std::size_t, const float*, std::size_t, const float*, float*, std::size_t, bool, std::size_t);

constexpr int kMR = 8;
Kernel avx512_kernel(std::size_t mr) {
  static constexpr Kernel t[kMR] = {kernel_avx512<1>, kernel_avx512<2>, kernel_avx512<3>, kernel_avx512<4>,
                                    kernel_avx512<5>, kernel_avx512<6>, kernel_avx512<7>, kernel_avx512<8>};
  return t[mr - 1];
}
Kernel portable_kernel(std::size_t mr) {
  static constexpr Kernel t[kMR] = {kernel_portable<1>, kernel_portable<2>, kernel_portable<3>, kernel_portable<4>,
                                    kernel_portable<5>, kernel_portable<6>, kernel_portable<7>, kernel_portable<8>};
  return t[mr - 1];
}

}  // namespace

void set_packed_kernel(PackedKernel k) { g_kernel = k; }
bool packed_kernel_is_avx512() { return g_has_avx512; }

void gemm_packed(std::size_t M, const float* A, std::size_t lda, const PackedWeight& B, float beta, float* C,
                 std::size_t ldc, std::size_t p0, std::size_t p1) {
  UNROLL_CHECK(!B.empty(), "gemm_packed: the weight was never packed");
  UNROLL_CHECK(beta == 0.0f || beta == 1.0f, "gemm_packed: beta must be 0 or 1, got {}", beta);
  const std::size_t K = B.K(), N = B.N(), panels = (N + PackedWeight::kPanel - 1) / PackedWeight::kPanel;
  if (p0 == 0 && p1 == 0) {  // the whole product: split across the engine's threads when it pays
    p1 = panels;
    if (threads() > 1 && 2.0 * double(M) * double(N) * double(K) >= kParallelMinGemmFlops) {
      // By rows when there are two 8-row blocks or more: a recurrence's gate kernels split the batch by rows
      // the same way (parallel_rows), so each thread's rows of h, the gates and c stay in its own core's cache
      // from step to step, and each core streams the whole packed weight from its own L2. Else by panels.
      const bool by_rows = M >= std::size_t(2 * kMR);
      if (by_rows) {
        parallel_ranges(M, kMR, [&](std::size_t lo, std::size_t hi) {
          gemm_packed(hi - lo, A + lo * lda, lda, B, beta, C + lo * ldc, ldc, 0, panels);
        });
        return;
      }
      if (panels > 1) {
        parallel_ranges(panels, 1,
                        [&](std::size_t lo, std::size_t hi) { gemm_packed(M, A, lda, B, beta, C, ldc, lo, hi); });
        return;
      }
    }
  }
  UNROLL_CHECK(p0 <= p1 && p1 <= panels, "gemm_packed: panels [{}, {}) of {}", p0, p1, panels);
  const bool avx512 = g_has_avx512 && g_kernel.load(std::memory_order_relaxed) == PackedKernel::Auto;
  const bool acc = beta != 0.0f;
  // Row blocks of A small enough to stay in L2 (~128 KB) while every panel passes over them; a panel (K·32
  // floats) stays in L1/L2 while the 8-row kernels of one block pass over it.
  const std::size_t mb = std::max<std::size_t>(kMR, (32768 / std::max<std::size_t>(K, 1)) / kMR * kMR);
  for (std::size_t m0 = 0; m0 < M; m0 += mb) {
    const std::size_t m1 = std::min(M, m0 + mb);
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t j0 = p * PackedWeight::kPanel, w = std::min(PackedWeight::kPanel, N - j0);
      const float* P = B.panel(p);
      for (std::size_t m = m0; m < m1; m += kMR) {
        const std::size_t mr = std::min<std::size_t>(kMR, m1 - m);
        const Kernel kern = avx512 ? avx512_kernel(mr) : portable_kernel(mr);
        kern(K, A + m * lda, lda, P, C + m * ldc + j0, ldc, acc, w);
      }
    }
  }
}

}  // namespace unroll
