// engine/gemm.h — the one matrix-product kernel every op goes through.
// C = alpha · op(A) · op(B) + beta · C, row-major. The default backend is BLAS (OpenBLAS cblas); a naive
// gemm_reference is kept beside it as the algorithmic reference and for tests, as llm.c keeps matmul_forward_naive.
// Nothing else in the library calls BLAS.
#pragma once

#include "engine/tensor.h"

namespace unroll {

enum class Trans { N, T };
enum class GemmBackend { Blas, Reference };

// Raw form: op(A) is [M, K], op(B) is [K, N], C is [M, N]; lda/ldb/ldc are row strides of the stored matrices.
template <class T>
void gemm_raw(Trans ta, Trans tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
              const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc);
template <class T>
void gemm_reference_raw(Trans ta, Trans tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc);

// Matrix form with shape checks (the op name goes into the error message). C must already have its shape.
template <class T>
void gemm(Trans ta, Trans tb, T alpha, const Mat<T>& A, const Mat<T>& B, T beta, Mat<T>& C, const char* op = "gemm");

// The backend used by gemm/gemm_raw (process-wide). Tests switch to Reference to hold the two against each other.
void set_gemm_backend(GemmBackend b);
GemmBackend gemm_backend();

// The engine's threads (engine/parallel.h set_threads): one pool, the engine's own; OpenBLAS runs single-threaded
// inside it (a large product is split into one block per thread). Kept under this name for the callers.
void set_blas_threads(int n);
int blas_threads();

}  // namespace unroll
