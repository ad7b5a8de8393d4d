// tests/test_packed_gemm.cc — engine/packed_gemm.h: C = A·op(B) with op(B) packed once. Held against
// gemm_reference_raw (double accumulation) for both kernels (AVX-512 where the CPU has it, and the portable
// one), both layouts of B, beta 0 and 1, row counts around the 8-row block and column counts around the
// 32-column panel, a C inside a wider matrix (neighbours untouched), the columns split into panel ranges
// (as threads would), a repack after the weight changes, and its errors; then RecurrentProjection<float>,
// which packs W_hh from its second step on, against per-step linear_fused in float.
#include "engine/ops_rnn.h"
#include "engine/packed_gemm.h"
#include "tests/op_test_helpers.h"

using namespace unroll;
using namespace unroll::test;

namespace {
struct KernelGuard {  // restores the automatic kernel choice even when a check throws
  ~KernelGuard() { set_packed_kernel(PackedKernel::Auto); }
};

// |packed - reference| over C[M, N] inside a [M, N + 5] buffer whose last 5 columns must keep their value.
double packed_error(std::size_t M, std::size_t N, std::size_t K, Trans tb, float beta, std::uint64_t seed) {
  const Mat<float> A = randn<float>(M, K, seed);
  const Mat<float> B = tb == Trans::N ? randn<float>(K, N, seed + 1) : randn<float>(N, K, seed + 1);
  const std::size_t ldc = N + 5;
  Mat<float> C = randn<float>(M, ldc, seed + 2), R = C;
  PackedWeight P;
  P.pack(tb, K, N, B.data(), B.shape(1));
  gemm_packed(M, A.data(), K, P, beta, C.data(), ldc);
  gemm_reference_raw(Trans::N, tb, M, N, K, 1.0f, A.data(), K, B.data(), B.shape(1), beta, R.data(), ldc);
  double worst = 0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < ldc; ++j) {
      const double d = std::abs(double(C(i, j)) - double(R(i, j)));
      if (j >= N && d != 0) return 1e30;  // a neighbour column was written
      worst = std::max(worst, d / (1.0 + std::abs(double(R(i, j)))));
    }
  return worst;
}
}  // namespace

TEST_SUITE("engine.packed_gemm") {

TEST_CASE("gemm_packed: equals the reference GEMM for every kernel, layout, beta and edge shape") {
  KernelGuard guard;
  int cases = 0;
  for (PackedKernel kern : {PackedKernel::Auto, PackedKernel::Portable}) {
    set_packed_kernel(kern);
    for (std::size_t M : {1, 2, 7, 8, 9, 17, 32})
      for (std::size_t N : {1, 15, 16, 17, 31, 32, 33, 70})
        for (std::size_t K : {1, 3, 64, 129})
          for (Trans tb : {Trans::N, Trans::T})
            for (float beta : {0.0f, 1.0f}) {
              CAPTURE(M);
              CAPTURE(N);
              CAPTURE(K);
              CAPTURE(int(tb));
              CAPTURE(beta);
              CAPTURE(int(kern));
              // float products summed over K = 129 terms of N(0,1)·N(0,1): relative error ~1e-6
              CHECK(packed_error(M, N, K, tb, beta, 100 + M * 7 + N * 3 + K) <= 2e-5);
              ++cases;
            }
  }
  // row blocks: K = 1024 makes blocks of 32 rows, so 70 rows are three blocks (the last one 6 rows)
  for (PackedKernel kern : {PackedKernel::Auto, PackedKernel::Portable}) {
    set_packed_kernel(kern);
    // (float sums of 1,024 terms against double ones: relative rounding ~3e-5)
    for (Trans tb : {Trans::N, Trans::T}) CHECK(packed_error(70, 40, 1024, tb, 1.0f, 7) <= 1e-4);
  }
  MESSAGE("gemm_packed: " << cases << " shape/kernel cases, AVX-512 kernel on this CPU: "
                          << std::string(packed_kernel_is_avx512() ? "yes" : "no (portable twice)"));
}

TEST_CASE("gemm_packed: column panels split across calls give the whole product; a repack follows the weight") {
  const std::size_t M = 5, K = 20, N = 100;  // 4 panels, the last 4 columns wide
  const Mat<float> A = randn<float>(M, K, 1), W = randn<float>(N, K, 2);
  PackedWeight P;
  P.pack(Trans::T, K, N, W.data(), K);
  Mat<float> whole = zeros<float>(M, N), parts = zeros<float>(M, N);
  gemm_packed(M, A.data(), K, P, 0.0f, whole.data(), N);
  gemm_packed(M, A.data(), K, P, 0.0f, parts.data(), N, 0, 1);
  gemm_packed(M, A.data(), K, P, 0.0f, parts.data(), N, 1, 4);
  CHECK(max_abs_diff(whole, parts) == 0.0);
  // the same buffer repacked from another weight of the same shape gives that weight's product
  const Mat<float> W2 = randn<float>(N, K, 3);
  P.pack(Trans::T, K, N, W2.data(), K);
  Mat<float> C = zeros<float>(M, N), R = zeros<float>(M, N);
  gemm_packed(M, A.data(), K, P, 0.0f, C.data(), N);
  gemm_reference_raw(Trans::N, Trans::T, M, N, K, 1.0f, A.data(), K, W2.data(), K, 0.0f, R.data(), N);
  CHECK(max_abs_diff(C, R) <= 1e-4);
}

TEST_CASE("gemm_packed: errors name what was wrong") {
  PackedWeight P;
  float a = 1, c = 0;
  CHECK_THROWS_WITH_AS(gemm_packed(1, &a, 1, P, 0.0f, &c, 1), doctest::Contains("never packed"), ShapeError);
  CHECK_THROWS_WITH_AS(P.pack(Trans::N, 0, 3, &a, 3), doctest::Contains("empty [0, 3]"), ShapeError);
  P.pack(Trans::N, 1, 1, &a, 1);
  CHECK_THROWS_WITH_AS(gemm_packed(1, &a, 1, P, 0.5f, &c, 1), doctest::Contains("beta must be 0 or 1"), ShapeError);
  CHECK_THROWS_WITH_AS(gemm_packed(1, &a, 1, P, 0.0f, &c, 1, 0, 2), doctest::Contains("panels [0, 2) of 1"),
                       ShapeError);
}

TEST_CASE("recurrent_projection<float>: the packed steps equal per-step linear_fused (values and gradients)") {
  // G = 4H as an LSTM's, H and G not multiples of the 32-column panel, batch around the 8-row block, batch 1
  struct C {
    std::size_t T, B, H, G;
  };
  for (const C& c : {C{4, 3, 20, 80}, C{3, 9, 33, 132}, C{5, 1, 16, 64}, C{2, 32, 64, 256}, C{1, 4, 10, 40}}) {
    CAPTURE(c.T);
    CAPTURE(c.B);
    CAPTURE(c.H);
    VarF W = parameter(randn<float>(c.G, c.H, 1)), b = parameter(randn<float>(1, c.G, 2));
    VarF h0 = parameter(randn<float>(c.B, c.H, 3));
    VarF P = constant(randn<float>(c.G, c.H, 4));  // maps gh [B, G] back to [B, H] for the next step
    auto run = [&](auto&& hh) {
      Var<float> h = h0, loss = constant(zeros<float>(1, 1));
      for (std::size_t t = 0; t < c.T; ++t) {
        Var<float> gh = hh(h);
        h = tanh(scale(matmul(gh, P), 0.05f));
        loss = loss + sum(mul(gh, constant(randn<float>(c.B, c.G, 50 + t))));
      }
      return loss;
    };
    RecurrentProjection<float> proj(W, b);
    VarF lp = run(proj);
    VarF lr = run([&](const VarF& h) { return linear_fused(h, W, b); });
    CHECK(std::abs(lp.item() - lr.item()) <= 1e-4 * (1 + std::abs(lr.item())));
    lp.backward();
    const Mat<float> gW = W.grad(), gb = b.grad(), gh0 = h0.grad();
    W.zero_grad();
    b.zero_grad();
    h0.zero_grad();
    lr.backward();
    CHECK(max_abs_diff(gW, W.grad()) <= 1e-4 * (1 + xt::amax(xt::abs(W.grad()))()));
    CHECK(max_abs_diff(gb, b.grad()) <= 1e-4 * (1 + xt::amax(xt::abs(b.grad()))()));
    CHECK(max_abs_diff(gh0, h0.grad()) <= 1e-4 * (1 + xt::amax(xt::abs(h0.grad()))()));
  }
}

}  // TEST_SUITE
