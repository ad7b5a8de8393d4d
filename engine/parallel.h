// engine/parallel.h — the engine's one thread pool. On a 2-core machine two pools (BLAS threads plus our own)
// oversubscribe the cores and run several times slower, so there is exactly one: this one. OpenBLAS runs
// single-threaded inside it (engine/gemm.cc splits a large product into blocks, one per thread), and the
// packed per-step products and the gate kernels split the batch rows the same way.
// The caller runs part 0 itself; the workers spin briefly for the next job (the per-step products of a
// recurrence come every few microseconds) and then sleep on a condition variable: an idle pool costs nothing.
// Nested calls (a parallel part that calls a parallel op) and calls from a second user thread while the pool
// is busy run their parts one after another on the calling thread: same results, no deadlock. A forked child
// starts with threads() = 1 (the workers do not survive fork); set_threads(n) there makes new ones.
#pragma once

#include <cstddef>
#include <functional>

namespace unroll {

// Threads the engine uses, the caller included (1 = everything on the calling thread). Default: the number
// of cores, at most 2 unless set. set_threads(n) with n < 1 throws std::invalid_argument; from inside a parallel
// part it throws std::logic_error (the pool is resized between jobs only).
void set_threads(int n);
int threads();

// Runs fn(part, parts) for part = 0 .. parts-1 with parts = min(threads(), max_parts) (at least 1) and returns
// when all are done; an exception thrown by any part is rethrown here (the first one, after all parts ended).
void parallel_parts(std::size_t max_parts, const std::function<void(std::size_t part, std::size_t parts)>& fn);

// Work this large is worth splitting across the threads: below it the hand-off (~1 µs) costs more than the
// half it saves. Elementwise passes count "flops" as their measured time in flop units (~2^18 is ~2 µs on one
// core); GEMM counts real flops, which run ~10x faster (2^21 flops at ~150 GF/s is ~14 µs).
constexpr double kParallelMinFlops = double(1 << 18);
constexpr double kParallelMinGemmFlops = double(1 << 21);

// fn(lo, hi) over [0, n) cut into one range per thread (part_range, blocks of `align` items), empty ranges
// skipped: the split itself, for callers that have decided it pays.
template <class F>
void parallel_ranges(std::size_t n, std::size_t align, F&& fn);

// Whether a row-wise pass of rows · flops_per_row is worth splitting: more than one row and one thread, and at
// least kParallelMinFlops of work.
inline bool worth_splitting(std::size_t rows, double flops_per_row);

// fn(r0, r1) over the rows [0, rows) of a row-wise pass, split into one block of whole rows per thread when
// worth_splitting (each row is computed by one thread, as on one thread); else fn(0, rows).
template <class F>
void parallel_rows(std::size_t rows, double flops_per_row, F&& fn);

// [lo, hi) of part `part` of `parts` over n items, in blocks of `align` items (the last part takes the rest).
struct Range {
  std::size_t lo, hi;
};
Range part_range(std::size_t n, std::size_t part, std::size_t parts, std::size_t align = 1);

template <class F>
void parallel_ranges(std::size_t n, std::size_t align, F&& fn) {
  parallel_parts(std::size_t(threads()), [&](std::size_t p, std::size_t parts) {
    const Range r = part_range(n, p, parts, align);
    if (r.hi > r.lo) fn(r.lo, r.hi);
  });
}

inline bool worth_splitting(std::size_t rows, double flops_per_row) {
  return rows > 1 && threads() > 1 && double(rows) * flops_per_row >= kParallelMinFlops;
}

template <class F>
void parallel_rows(std::size_t rows, double flops_per_row, F&& fn) {
  if (worth_splitting(rows, flops_per_row))
    parallel_ranges(rows, 1, fn);
  else
    fn(std::size_t(0), rows);
}

}  // namespace unroll
