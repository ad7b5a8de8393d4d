#!/usr/bin/env bash
# tools/tsan.sh — the engine's thread pool under ThreadSanitizer: the engine sources and the tests that drive the
# pool (tests/test_parallel.cc: the pool itself, GEMM splits, every row-split op at 2 threads; test_packed_gemm.cc)
# built with g++ -fsanitize=thread into build-tsan/, then run. A data race fails the run (exit 66).
# engine/vec_math.cc is compiled without instrumentation: its target_clones resolvers run before the TSan
# runtime is up and crash an instrumented binary at load (it has no shared state). The kernel's 28-bit mmap
# randomisation breaks TSan's memory layout, so the binary runs under `setarch -R` (ASLR off for it only).
# By hand, not in CI (about 2 minutes on 2 cores): bash tools/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-tsan
mkdir -p "$out"
CXX=${CXX:-g++}
"$CXX" -std=c++20 -O2 -I. -c engine/vec_math.cc -o "$out/vec_math.o"
engine=(engine/parallel.cc engine/gemm.cc engine/packed_gemm.cc engine/var.cc engine/ops_rnn.cc engine/ops_elementwise.cc
        engine/ops_matmul.cc engine/ops_shape.cc engine/ops_reduce.cc engine/ops_loss.cc engine/gradcheck.cc)
"$CXX" -std=c++20 -O1 -g -fsanitize=thread -I. -DUNROLL_SOURCE_DIR="\"$PWD\"" -DUNROLL_BINARY_DIR="\"$PWD/$out\"" \
  tests/main.cc tests/test_parallel.cc tests/test_packed_gemm.cc "${engine[@]}" "$out/vec_math.o" \
  -lopenblas -lfmt -lpthread -o "$out/tsan_tests"
# The fork test is left out: TSan does not support starting threads in the child of a multi-threaded fork
# (it exits 66 there by design); the suite runs it without TSan.
TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch "$(uname -m)" -R "$out/tsan_tests" --test-case-exclude="*forked child*"
