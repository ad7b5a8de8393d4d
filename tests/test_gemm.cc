// tests/test_gemm.cc — engine/gemm.{h,cc}: the BLAS path against the naive gemm_reference on all four
// transpose combinations, odd sizes, alpha/beta, float and double; the Reference backend giving the same
// matmul results (forward and backward); the shape errors of the matrix form.
#include "tests/op_test_helpers.h"

#include "engine/gemm.h"

#include <limits>
#include <type_traits>

using namespace unroll;
using namespace unroll::test;

namespace {
// Restores the process-wide backend when a test ends, even on failure.
struct BackendScope {
  GemmBackend prev = gemm_backend();
  explicit BackendScope(GemmBackend b) { set_gemm_backend(b); }
  ~BackendScope() { set_gemm_backend(prev); }
};
struct Mnk {
  std::size_t M, N, K;
};
const std::vector<Mnk> kSizes = {{1, 1, 1}, {7, 5, 3}, {3, 1, 9}, {1, 6, 2}, {13, 17, 11}, {33, 31, 65}};
}  // namespace

TEST_SUITE("gemm") {

TEST_CASE_TEMPLATE("gemm: BLAS equals the reference on all transpose combinations and odd sizes", T, float, double) {
  BackendScope blas(GemmBackend::Blas);
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  std::uint64_t seed = 700;
  for (Trans ta : {Trans::N, Trans::T})
    for (Trans tb : {Trans::N, Trans::T})
      for (auto [M, N, K] : kSizes) {
        CAPTURE(int(ta));
        CAPTURE(int(tb));
        CAPTURE(M);
        CAPTURE(N);
        CAPTURE(K);
        // stored shapes: A is op(A)ᵀ when transposed
        Mat<T> A = ta == Trans::N ? randn<T>(M, K, seed++) : randn<T>(K, M, seed++);
        Mat<T> B = tb == Trans::N ? randn<T>(K, N, seed++) : randn<T>(N, K, seed++);
        Mat<T> C0 = randn<T>(M, N, seed++);
        for (auto [alpha, beta] : {std::pair{T(1), T(0)}, std::pair{T(-0.5), T(1)}, std::pair{T(2), T(0.25)}}) {
          Mat<T> c_blas = C0, c_ref = C0;
          gemm(ta, tb, alpha, A, B, beta, c_blas);
          gemm_reference_raw(ta, tb, M, N, K, alpha, A.data(), A.shape(1), B.data(), B.shape(1), beta, c_ref.data(),
                             c_ref.shape(1));
          CHECK_MAT_NEAR(c_blas, c_ref, tol * double(K));
        }
      }
}

TEST_CASE_TEMPLATE("gemm_raw: row strides wider than the matrices (sub-blocks) on both backends", T, float, double) {
  // A, B and C are the top-left blocks of wider buffers: lda = 9, ldb = 8, ldc = 7; the padding must stay untouched.
  const std::size_t M = 3, N = 5, K = 4;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  Mat<T> A = randn<T>(M, 9, 850), B = randn<T>(K, 8, 851), C0 = randn<T>(M, 7, 852);
  Mat<T> c_blas = C0, c_ref = C0;
  {
    BackendScope s(GemmBackend::Blas);
    gemm_raw(Trans::N, Trans::N, M, N, K, T(1), A.data(), 9, B.data(), 8, T(0.5), c_blas.data(), 7);
  }
  {
    BackendScope s(GemmBackend::Reference);
    gemm_raw(Trans::N, Trans::N, M, N, K, T(1), A.data(), 9, B.data(), 8, T(0.5), c_ref.data(), 7);
  }
  CHECK_MAT_NEAR(c_blas, c_ref, tol);
  CHECK_MAT_NEAR(xt::view(c_blas, xt::all(), xt::range(N, 7)), xt::view(C0, xt::all(), xt::range(N, 7)), 0);
  // and the block equals the product of the blocks
  Mat<T> a = xt::view(A, xt::all(), xt::range(0, K)), b = xt::view(B, xt::all(), xt::range(0, N));
  Mat<T> c = xt::view(C0, xt::all(), xt::range(0, N));
  gemm(Trans::N, Trans::N, T(1), a, b, T(0.5), c);
  CHECK_MAT_NEAR(xt::view(c_blas, xt::all(), xt::range(0, N)), c, tol);
}

TEST_CASE_TEMPLATE("gemm_raw: one row or one column (the matrix-vector path) with wide strides and NaN in C at beta 0", T,
                   float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  std::uint64_t seed = 870;
  for (Trans ta : {Trans::N, Trans::T})
    for (Trans tb : {Trans::N, Trans::T})
      for (auto [M, N, K] : {Mnk{1, 6, 4}, Mnk{5, 1, 3}, Mnk{1, 1, 7}})
        for (T beta : {T(0), T(0.5)}) {
          CAPTURE(int(ta));
          CAPTURE(int(tb));
          CAPTURE(M);
          CAPTURE(N);
          // stored with a row stride 3 wider than needed
          const std::size_t ar = ta == Trans::N ? M : K, ac = ta == Trans::N ? K : M;
          const std::size_t br = tb == Trans::N ? K : N, bc = tb == Trans::N ? N : K;
          Mat<T> A = randn<T>(ar, ac + 3, seed++), B = randn<T>(br, bc + 3, seed++), C0 = randn<T>(M, N + 3, seed++);
          if (beta == T(0)) C0(0, 0) = std::numeric_limits<T>::quiet_NaN();
          Mat<T> c_blas = C0, c_ref = C0;
          {
            BackendScope s(GemmBackend::Blas);
            gemm_raw(ta, tb, M, N, K, T(1.5), A.data(), ac + 3, B.data(), bc + 3, beta, c_blas.data(), N + 3);
          }
          {
            BackendScope s(GemmBackend::Reference);
            gemm_raw(ta, tb, M, N, K, T(1.5), A.data(), ac + 3, B.data(), bc + 3, beta, c_ref.data(), N + 3);
          }
          CHECK(all_finite(Mat<T>(xt::view(c_blas, xt::all(), xt::range(0, N)))));
          CHECK_MAT_NEAR(xt::view(c_blas, xt::all(), xt::range(0, N)), xt::view(c_ref, xt::all(), xt::range(0, N)), tol);
          CHECK_MAT_NEAR(xt::view(c_blas, xt::all(), xt::range(N, N + 3)), xt::view(C0, xt::all(), xt::range(N, N + 3)), 0);
        }
}

TEST_CASE("gemm_reference: a product computed by hand, beta = 0 ignores C (even NaN)") {
  const Mat<double> A = mat<double>({{1, 2, 3}, {4, 5, 6}});  // [2, 3]
  const Mat<double> B = mat<double>({{1, 0}, {0, 1}, {1, 1}});  // [3, 2]
  Mat<double> C = full<double>(2, 2, std::nan(""));
  gemm_reference_raw(Trans::N, Trans::N, 2, 2, 3, 1.0, A.data(), 3, B.data(), 2, 0.0, C.data(), 2);
  CHECK_MAT_NEAR(C, mat<double>({{4, 5}, {10, 11}}), 0);
  // Aᵀ·A through the transpose flag: [3, 3]
  Mat<double> G = zeros<double>(3, 3);
  gemm_reference_raw(Trans::T, Trans::N, 3, 3, 2, 1.0, A.data(), 3, A.data(), 3, 0.0, G.data(), 3);
  CHECK_MAT_NEAR(G, mat<double>({{17, 22, 27}, {22, 29, 36}, {27, 36, 45}}), 0);
}

TEST_CASE("gemm: K = 0 is an empty sum (C = beta · C) on both backends") {
  for (GemmBackend b : {GemmBackend::Blas, GemmBackend::Reference}) {
    BackendScope scope(b);
    Mat<double> A = zeros<double>(2, 0), B = zeros<double>(0, 3);
    Mat<double> C = full<double>(2, 3, 4.0);
    gemm(Trans::N, Trans::N, 1.0, A, B, 0.5, C);
    CHECK_MAT_NEAR(C, full<double>(2, 3, 2.0), 0);
  }
}

TEST_CASE_TEMPLATE("set_gemm_backend(Reference): matmul and its gradients match the BLAS backend", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  auto run = [](GemmBackend b) {
    BackendScope scope(b);
    Var<T> a = parameter(randn<T>(5, 7, 800)), w = parameter(randn<T>(7, 3, 801)), v = parameter(randn<T>(4, 7, 802));
    Var<T> y1 = matmul(a, w), y2 = matmul_nt(a, v);
    Var<T> loss = add(sum(mul(y1, y1)), sum(y2));
    loss.backward();
    return std::vector<Mat<T>>{y1.value(), y2.value(), a.grad(), w.grad(), v.grad()};
  };
  std::vector<Mat<T>> blas = run(GemmBackend::Blas), ref = run(GemmBackend::Reference);
  CHECK(gemm_backend() == GemmBackend::Blas);  // the scope restored the default
  for (std::size_t i = 0; i < blas.size(); ++i) {
    CAPTURE(i);
    CHECK_MAT_NEAR(blas[i], ref[i], tol * 50);
  }
}

TEST_CASE("gemm: shape errors name the op and both shapes") {
  Mat<double> A = zeros<double>(2, 3), B = zeros<double>(4, 5), C = zeros<double>(2, 5);
  CHECK_THROWS_WITH_AS(gemm(Trans::N, Trans::N, 1.0, A, B, 0.0, C, "myop"),
                       doctest::Contains("myop: inner dims differ: op(a) is [2, 3], op(b) is [4, 5]"), ShapeError);
  Mat<double> B2 = zeros<double>(3, 5), Cbad = zeros<double>(5, 2);
  CHECK_THROWS_WITH_AS(gemm(Trans::N, Trans::N, 1.0, A, B2, 0.0, Cbad),
                       doctest::Contains("gemm: output is [5, 2], expected [2, 5]"), ShapeError);
  CHECK_NOTHROW(gemm(Trans::T, Trans::N, 1.0, A, zeros<double>(2, 4), 0.0, C = zeros<double>(3, 4)));
}

}  // TEST_SUITE
