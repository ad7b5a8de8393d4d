// engine/gemm.cc — BLAS and reference GEMM, explicit instantiations for float and double.
#include "engine/gemm.h"

#include "engine/check.h"
#include "engine/parallel.h"

#include <atomic>
#include <limits>
#include <cblas.h>

namespace unroll {

namespace {
std::atomic<GemmBackend> g_backend{GemmBackend::Blas};
CBLAS_TRANSPOSE cb(Trans t) { return t == Trans::N ? CblasNoTrans : CblasTrans; }

// OpenBLAS runs single-threaded inside the engine's pool (engine/parallel.h): its own threads would be a
// second pool on the same cores. Set before main() so that no product ever wakes them.
const bool g_blas_single_threaded = (openblas_set_num_threads(1), true);

}  // namespace

void set_gemm_backend(GemmBackend b) { g_backend = b; }
GemmBackend gemm_backend() { return g_backend; }
void set_blas_threads(int n) {
  openblas_set_num_threads(1);
  set_threads(n);
}
int blas_threads() { return threads(); }

namespace {
// One product through BLAS on the calling thread (the caller has checked the int range and K > 0).
template <class T>
void blas_block(Trans ta, Trans tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  // One row or one column (batch-1 steps, sampling): a matrix-vector product. sgemm would pack the whole
  // weight matrix into panels first, which costs about as much as the product itself at this size.
  if (M == 1 || N == 1) {
    T* y = C;
    std::size_t incy = M == 1 ? 1 : ldc;
    const std::size_t ylen = M == 1 ? N : M;
    if (beta == T(0))  // BLAS scales y by beta: start from zeros so NaN/Inf in C do not leak through 0·y
      for (std::size_t i = 0; i < ylen; ++i) y[i * incy] = T(0);
    const T* mat;
    const T* x;
    std::size_t ldm, incx, rows, cols;
    CBLAS_TRANSPOSE tm;
    if (M == 1) {  // y[N] = op(B)ᵀ-shaped: c = a·op(B)
      x = A;
      incx = ta == Trans::N ? 1 : lda;
      mat = B;
      ldm = ldb;
      rows = tb == Trans::N ? K : N;  // B as stored
      cols = tb == Trans::N ? N : K;
      tm = tb == Trans::N ? CblasTrans : CblasNoTrans;
    } else {  // y[M] = op(A)·b
      x = B;
      incx = tb == Trans::N ? ldb : 1;
      mat = A;
      ldm = lda;
      rows = ta == Trans::N ? M : K;  // A as stored
      cols = ta == Trans::N ? K : M;
      tm = ta == Trans::N ? CblasNoTrans : CblasTrans;
    }
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemv(CblasRowMajor, tm, int(rows), int(cols), alpha, mat, int(ldm), x, int(incx), beta, y, int(incy));
    else
      cblas_dgemv(CblasRowMajor, tm, int(rows), int(cols), alpha, mat, int(ldm), x, int(incx), beta, y, int(incy));
    return;
  }
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, cb(ta), cb(tb), int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C,
                int(ldc));
  else
    cblas_dgemm(CblasRowMajor, cb(ta), cb(tb), int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C,
                int(ldc));
}
}  // namespace

// C[i, j] = alpha · Σ_k op(A)[i, k] · op(B)[k, j] + beta · C[i, j]; accumulates in double for a stable reference.
template <class T>
void gemm_reference_raw(Trans ta, Trans tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double acc = 0;
      for (std::size_t k = 0; k < K; ++k) {
        T a = ta == Trans::N ? A[i * lda + k] : A[k * lda + i];
        T b = tb == Trans::N ? B[k * ldb + j] : B[j * ldb + k];
        acc += double(a) * double(b);
      }
      T& c = C[i * ldc + j];
      c = (beta == T(0) ? T(0) : beta * c) + alpha * T(acc);
    }
}

template <class T>
void gemm_raw(Trans ta, Trans tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
              const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // BLAS leaves C untouched when K = 0 only if beta = 1; make the empty sum explicit
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  if (g_backend == GemmBackend::Reference) {
    gemm_reference_raw(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // cblas takes int: a dimension or row stride above 2^31 - 1 would wrap to a negative or small number.
  constexpr std::size_t kMax = std::size_t(std::numeric_limits<int>::max());
  UNROLL_CHECK(M <= kMax && N <= kMax && K <= kMax && lda <= kMax && ldb <= kMax && ldc <= kMax,
               "gemm: M = {}, N = {}, K = {}, lda = {}, ldb = {}, ldc = {}: BLAS takes int, every one must be <= {}",
               M, N, K, lda, ldb, ldc, kMax);
  // Large products: one block of C per thread, split along its longer side into whole rows or columns (no
  // entry is shared between threads; each block is an ordinary one-thread BLAS call).
  // (a matrix-vector product is bound by reading the matrix, ~10x slower a flop: the elementwise threshold;
  // split, each core also keeps its half of a weight in its own L2 from one sampling step to the next)
  const double min_flops = M == 1 || N == 1 ? kParallelMinFlops : kParallelMinGemmFlops;
  if (threads() > 1 && 2.0 * double(M) * double(N) * double(K) >= min_flops) {
    if (N >= M)
      parallel_ranges(N, 16, [&](std::size_t lo, std::size_t hi) {
        blas_block(ta, tb, M, hi - lo, K, alpha, A, lda, tb == Trans::N ? B + lo : B + lo * ldb, ldb, beta, C + lo,
                   ldc);
      });
    else
      parallel_ranges(M, 8, [&](std::size_t lo, std::size_t hi) {
        blas_block(ta, tb, hi - lo, N, K, alpha, ta == Trans::N ? A + lo * lda : A + lo, lda, B, ldb, beta,
                   C + lo * ldc, ldc);
      });
    return;
  }
  blas_block(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void gemm(Trans ta, Trans tb, T alpha, const Mat<T>& A, const Mat<T>& B, T beta, Mat<T>& C, const char* op) {
  std::size_t M = ta == Trans::N ? A.shape(0) : A.shape(1);
  std::size_t K = ta == Trans::N ? A.shape(1) : A.shape(0);
  std::size_t Kb = tb == Trans::N ? B.shape(0) : B.shape(1);
  std::size_t N = tb == Trans::N ? B.shape(1) : B.shape(0);
  UNROLL_CHECK(K == Kb, "{}: inner dims differ: op(a) is {}, op(b) is {}", op, shape_str(M, K), shape_str(Kb, N));
  UNROLL_CHECK(C.shape(0) == M && C.shape(1) == N, "{}: output is {}, expected {}", op, shape_str(C), shape_str(M, N));
  gemm_raw(ta, tb, M, N, K, alpha, A.data(), A.shape(1), B.data(), B.shape(1), beta, C.data(), C.shape(1));
}

#define UNROLL_INSTANTIATE(T)                                                                                   \
  template void gemm_raw<T>(Trans, Trans, std::size_t, std::size_t, std::size_t, T, const T*, std::size_t,      \
                            const T*, std::size_t, T, T*, std::size_t);                                         \
  template void gemm_reference_raw<T>(Trans, Trans, std::size_t, std::size_t, std::size_t, T, const T*,        \
                                      std::size_t, const T*, std::size_t, T, T*, std::size_t);                  \
  template void gemm<T>(Trans, Trans, T, const Mat<T>&, const Mat<T>&, T, Mat<T>&, const char*);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
