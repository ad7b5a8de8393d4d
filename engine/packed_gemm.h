// engine/packed_gemm.h — C = A·op(B) for a float weight that many products share before it changes: the
// per-step h·W_hhᵀ and dY·W_hh of a recurrence (T steps of [B, H] against the same W_hh). sgemm repacks its B
// operand into panels on every call; for a [32, 256] × [256, 1024] step that copy of the 1 MB weight costs
// about as much as the product. Here op(B) is packed ONCE into 32-column panels and every product streams
// the panels through a register-blocked kernel (AVX-512 where the CPU has it, plain C++ otherwise).
// Layout: panel p holds op(B)[k, 32p .. 32p + 32) for k = 0 .. K-1, contiguous, zero past column N.
// Numerically an ordinary GEMM (each C entry is one K-long dot product, summed in k order); tests hold it to
// gemm_reference_raw (tests/test_packed_gemm.cc). A whole product is split by panels across the engine's
// threads (engine/parallel.h). Not here: double (gemm_raw does it).
#pragma once

#include "engine/gemm.h"

#include <cstddef>
#include <memory>

namespace unroll {

class PackedWeight {
 public:
  static constexpr std::size_t kPanel = 32;  // output columns per panel (two AVX-512 registers)

  // op(B) is [K, N]; B as stored has row stride ldb. tb = Trans::T packs Bᵀ, e.g. W_hh [G, H] for h·W_hhᵀ
  // (K = H, N = G); Trans::N packs B itself, e.g. W_hh for dY·W_hh (K = G, N = H).
  void pack(Trans tb, std::size_t K, std::size_t N, const float* B, std::size_t ldb);
  bool empty() const { return !data_; }
  std::size_t K() const { return K_; }
  std::size_t N() const { return N_; }
  const float* panel(std::size_t p) const { return data_.get() + p * K_ * kPanel; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::size_t K_ = 0, N_ = 0;
  std::unique_ptr<float[], Free> data_;
};

// C[M, N] = A[M, K]·op(B) + beta·C with op(B) packed, beta 0 or 1; A and C row-major with row strides lda, ldc.
// Panels [p0, p1) only; (0, 0) = all, split across the engine's threads when large enough.
void gemm_packed(std::size_t M, const float* A, std::size_t lda, const PackedWeight& B, float beta, float* C,
                 std::size_t ldc, std::size_t p0 = 0, std::size_t p1 = 0);

// The kernel gemm_packed uses: AVX-512 when the CPU has it, else the portable one. Tests force each in turn.
enum class PackedKernel { Auto, Portable };
void set_packed_kernel(PackedKernel k);
bool packed_kernel_is_avx512();  // what Auto picks on this CPU

}  // namespace unroll
