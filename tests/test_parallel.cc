// tests/test_parallel.cc — engine/parallel.h, the engine's one thread pool: every part runs exactly once, an
// exception in any part reaches the caller after all parts ended, nested calls and a second user thread run
// serially (no deadlock), resizing works in both directions, part_range tiles [0, n); and the products that
// use it (engine/gemm.cc's split, gemm_packed's panels, the row-split gate kernels, cross_entropy, split_rows,
// the projections and the gradient zero-fill) give the one-thread numbers at 2 threads, at sizes that split.
#include "engine/gemm.h"
#include "engine/ops_rnn.h"
#include "engine/packed_gemm.h"
#include "engine/parallel.h"
#include "tests/op_test_helpers.h"

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace unroll;
using namespace unroll::test;

namespace {
struct ThreadsGuard {  // restores the thread count even when a check throws
  int saved = threads();
  ~ThreadsGuard() { set_threads(saved); }
};
}  // namespace

TEST_SUITE("engine.parallel") {

TEST_CASE("parallel_parts: every part once, on at most threads() threads; parts capped by max_parts") {
  ThreadsGuard guard;
  for (int n : {1, 2, 3}) {
    set_threads(n);
    CHECK(threads() == n);
    for (std::size_t max_parts : {1, 2, 5}) {
      std::vector<std::atomic<int>> ran(8);
      std::atomic<std::size_t> seen_parts{0};
      parallel_parts(max_parts, [&](std::size_t p, std::size_t parts) {
        ran[p].fetch_add(1);
        seen_parts = parts;
      });
      const std::size_t want = std::min<std::size_t>(max_parts, std::size_t(n));
      CHECK(seen_parts == want);
      for (std::size_t p = 0; p < ran.size(); ++p) CHECK(ran[p].load() == (p < want ? 1 : 0));
    }
  }
  // many small jobs in a row (the per-step pattern): none lost, none run twice
  set_threads(2);
  std::atomic<long> sum{0};
  for (int i = 0; i < 20000; ++i) parallel_parts(2, [&](std::size_t p, std::size_t) { sum += long(p) + 1; });
  CHECK(sum == 20000L * 3);
}

TEST_CASE("parallel_parts: an exception in a part is rethrown after all parts ended; nested calls run serially") {
  ThreadsGuard guard;
  set_threads(2);
  std::atomic<int> done{0};
  CHECK_THROWS_WITH_AS(parallel_parts(2,
                                      [&](std::size_t p, std::size_t) {
                                        done++;
                                        if (p == 1) throw std::runtime_error("part 1 failed");
                                      }),
                       "part 1 failed", std::runtime_error);
  CHECK(done == 2);
  CHECK_THROWS_WITH_AS(parallel_parts(2, [&](std::size_t p, std::size_t) {
                         if (p == 0) throw std::invalid_argument("part 0 failed");
                       }),
                       "part 0 failed", std::invalid_argument);
  // the pool still works afterwards, and a part may call a parallel op (it runs its parts on that thread)
  std::atomic<int> inner{0};
  parallel_parts(2, [&](std::size_t, std::size_t) {
    parallel_parts(2, [&](std::size_t, std::size_t parts) { inner += parts == 2 ? 1 : 100; });
  });
  CHECK(inner == 2 * 2);
  CHECK_THROWS_WITH_AS(set_threads(0), doctest::Contains("at least 1 thread, got 0"), std::invalid_argument);
  // resizing from inside a part would wait on the job it is part of: refused, and the pool keeps working
  CHECK_THROWS_WITH_AS(parallel_parts(2, [](std::size_t, std::size_t) { set_threads(1); }),
                       doctest::Contains("inside a parallel part"), std::logic_error);
  CHECK(threads() == 2);
}

TEST_CASE("parallel_parts: two user threads at once both finish with every part run") {
  ThreadsGuard guard;
  set_threads(2);
  std::atomic<long> a{0}, b{0};
  std::thread other([&] {
    for (int i = 0; i < 5000; ++i) parallel_parts(2, [&](std::size_t p, std::size_t) { a += long(p) + 1; });
  });
  for (int i = 0; i < 5000; ++i) parallel_parts(2, [&](std::size_t p, std::size_t) { b += long(p) + 1; });
  other.join();
  CHECK(a == 5000L * 3);
  CHECK(b == 5000L * 3);
}

TEST_CASE("parallel_parts: a forked child runs on one thread, then on new workers, without hanging") {
  ThreadsGuard guard;
  set_threads(2);
  parallel_parts(2, [](std::size_t, std::size_t) {});  // the workers exist and have run a job
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: no doctest checks here, the exit code says it
    bool ok = threads() == 1;
    std::atomic<int> ran{0};
    parallel_parts(2, [&](std::size_t, std::size_t) { ran++; });
    ok = ok && ran == 1;
    set_threads(2);
    ran = 0;
    parallel_parts(2, [&](std::size_t, std::size_t) { ran++; });
    ok = ok && ran == 2 && threads() == 2;
    _exit(ok ? 0 : 1);
  }
  int status = -1;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);  // up to 10 s
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("the forked child hung in the pool");
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // and the parent's pool still works
  std::atomic<int> ran{0};
  parallel_parts(2, [&](std::size_t, std::size_t) { ran++; });
  CHECK(ran == 2);
}

TEST_CASE("part_range: the parts tile 0..n in aligned blocks") {
  for (std::size_t n : {0, 1, 7, 16, 100, 1023})
    for (std::size_t parts : {1, 2, 3})
      for (std::size_t align : {1, 8, 16}) {
        std::size_t next = 0;
        for (std::size_t p = 0; p < parts; ++p) {
          const Range r = part_range(n, p, parts, align);
          CHECK(r.lo == next);
          CHECK(r.hi >= r.lo);
          if (p + 1 < parts) CHECK(r.hi % align == 0);
          next = r.hi;
        }
        CHECK(next == n);
      }
}

TEST_CASE("gemm and gemm_packed at 2 threads equal the one-thread products") {
  ThreadsGuard guard;
  struct S {
    std::size_t M, N, K;
  };
  for (const S& s : {S{1, 1024, 256}, S{300, 7, 64}, S{64, 200, 96}, S{2048, 96, 256}, S{256, 1, 512}})
    for (Trans ta : {Trans::N, Trans::T})
      for (Trans tb : {Trans::N, Trans::T}) {
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        const Mat<float> A = ta == Trans::N ? randn<float>(s.M, s.K, 1) : randn<float>(s.K, s.M, 1);
        const Mat<float> B = tb == Trans::N ? randn<float>(s.K, s.N, 2) : randn<float>(s.N, s.K, 2);
        Mat<float> C1 = randn<float>(s.M, s.N, 3), C2 = C1;
        set_threads(1);
        gemm(ta, tb, 1.0f, A, B, 1.0f, C1);
        set_threads(2);
        gemm(ta, tb, 1.0f, A, B, 1.0f, C2);
        CHECK(max_abs_diff(C1, C2) <= 1e-4);
      }
  const Mat<float> A = randn<float>(32, 256, 4), W = randn<float>(1024, 256, 5);
  PackedWeight P;
  P.pack(Trans::T, 256, 1024, W.data(), 256);
  Mat<float> C1 = zeros<float>(32, 1024), C2 = C1;
  set_threads(1);
  gemm_packed(32, A.data(), 256, P, 0.0f, C1.data(), 1024);
  set_threads(2);
  gemm_packed(32, A.data(), 256, P, 0.0f, C2.data(), 1024);
  CHECK(max_abs_diff(C1, C2) == 0.0);  // the same kernel on the same panels: bitwise
}

TEST_CASE("the row-split ops at 2 threads give the one-thread values and gradients") {
  ThreadsGuard guard;
  // sizes above every split threshold: B = 32, H = 256 (an LSTM's [32, 1024] gates), a [64, 3000] softmax
  const std::size_t B = 32, H = 256, T = 3, V = 3000;
  auto run = [&](int n) {
    set_threads(n);
    VarF W_ih = parameter(randn<float>(4 * H, 16, 1)), b_ih = parameter(randn<float>(1, 4 * H, 2));
    VarF W_hh = parameter(scale(constant(randn<float>(4 * H, H, 3)), 0.05f).value());
    VarF b_hh = parameter(randn<float>(1, 4 * H, 4));
    VarF Wg = parameter(randn<float>(3 * H, H, 5)), Wr = parameter(randn<float>(H, H, 6));
    VarF x = parameter(randn<float>(T * B, 16, 7)), dec = parameter(scale(constant(randn<float>(V, H, 8)), 0.1f).value());
    std::vector<VarF> gis = project_steps(x, W_ih, {b_ih, b_hh}, T);
    RecurrentProjection<float> proj(W_hh, VarF());
    VarF h = constant(zeros<float>(B, H)), c = constant(zeros<float>(B, H)), loss = constant(zeros<float>(1, 1));
    std::vector<std::int64_t> targets(2 * B);
    for (std::size_t i = 0; i < targets.size(); ++i) targets[i] = std::int64_t((i * 37) % V);
    for (std::size_t t = 0; t < T; ++t) {
      LSTMGates<float> s = lstm_gates(gis[t], proj(h), c);
      VarF g = gru_gates(cols(gis[t], 0, 3 * H), matmul_nt(s.h, Wg), s.h);   // GRU gates on the LSTM output
      VarF r = rnn_gates(cols(gis[t], 0, H), matmul_nt(g, Wr));              // and an RNN step on that
      VarF logits = linear_fused(concat_rows(std::vector<VarF>{g, r}), dec, VarF());
      loss = loss + cross_entropy(logits, targets);
      h = s.h;
      c = s.c;
    }
    loss.backward();
    std::vector<Mat<float>> out{loss.value(), W_ih.grad(), b_ih.grad(), W_hh.grad(), b_hh.grad(), Wg.grad(),
                                Wr.grad(), x.grad(), dec.grad()};
    return out;
  };
  const std::vector<Mat<float>> one = run(1), two = run(2);
  for (std::size_t k = 0; k < one.size(); ++k) {
    CAPTURE(k);
    const double tol = 1e-5 * (1.0 + double(xt::amax(xt::abs(one[k]))()));  // block sums may round differently
    CHECK(max_abs_diff(one[k], two[k]) <= tol);
  }
}

}  // TEST_SUITE
