// engine/parallel.cc — the pool of parallel.h: (threads - 1) workers, one job at a time.
// A job is published by bumping `generation_`; every worker acknowledges every job (runs its part if the job
// has one for it) by decrementing `pending_`, so none can lag a job behind; the caller runs part 0 and then
// spins until `pending_` is 0. Workers spin ~kSpin pause instructions on the generation
// before they sleep on a condition variable; the caller takes the mutex and notifies only when one sleeps
// (the sleeper counter and the generation are both seq_cst: either the caller sees the sleeper or the sleeper
// sees the new generation). Not std::atomic::wait: GCC 12's can miss a notify_all and hang a join.
#include "engine/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define UNROLL_PAUSE() _mm_pause()
#else
#define UNROLL_PAUSE() std::this_thread::yield()
#endif

namespace unroll {

namespace {

constexpr int kSpin = 4000;  // pause instructions before a worker sleeps (~0.1-0.5 ms; a step's gap is microseconds)

thread_local bool t_in_part = false;  // this thread is running a part: nested calls run serially
std::atomic<int> g_threads{0};         // what threads() answers (0 until the pool is first made)

class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }

  void resize(int n) {
    std::lock_guard<std::mutex> lock(use_);
    stop_workers();
    target_.store(n, std::memory_order_relaxed);
    g_threads.store(n, std::memory_order_relaxed);
    // the generation a worker starts from is read here, not in the new thread: a stop (or job) published before
    // the thread first runs must not be taken as its starting point
    const std::uint64_t start = generation_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { work(std::size_t(i), start); });
  }
  int size() const { return target_.load(std::memory_order_relaxed); }

  void run(std::size_t parts, const std::function<void(std::size_t, std::size_t)>& fn) {
    std::unique_lock<std::mutex> lock(use_, std::try_to_lock);
    if (!lock.owns_lock() || t_in_part || parts > workers_.size() + 1) {  // busy, nested or resized: serially
      for (std::size_t p = 0; p < parts; ++p) fn(p, parts);
      return;
    }
    fn_ = &fn;
    parts_ = parts;
    error_ = nullptr;
    pending_.store(workers_.size(), std::memory_order_relaxed);
    generation_.fetch_add(1);
    wake();
    t_in_part = true;
    try {
      fn(0, parts);
    } catch (...) {
      std::lock_guard<std::mutex> e(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_part = false;
    while (pending_.load(std::memory_order_acquire) != 0) UNROLL_PAUSE();
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  ~Pool() { stop_workers(); }

 private:
  Pool() {
    const unsigned hw = std::thread::hardware_concurrency();
    const int n = int(std::clamp(hw == 0 ? 1u : hw, 1u, 2u));
    resize(n);
    pthread_atfork(nullptr, nullptr, [] { Pool::get().after_fork_child(); });
  }

  // A forked child has only the thread that called fork: the workers are gone. Forget them (their std::thread
  // objects are leaked on purpose: joining or destroying them would wait for, or abort on, threads that do not
  // exist here), make the locks anew (another thread may have held one at the fork) and run on one thread;
  // set_threads(n) in the child makes new workers.
  void after_fork_child() {
    new std::vector<std::thread>(std::move(workers_));  // leaked: see above
    workers_ = std::vector<std::thread>();
    new (&use_) std::mutex;
    new (&sleep_) std::mutex;
    new (&asleep_) std::condition_variable;
    new (&error_mutex_) std::mutex;
    sleepers_.store(0);
    pending_.store(0);
    stop_.store(false);
    target_.store(1);
    g_threads.store(1);
  }

  void work(std::size_t index, std::uint64_t seen) {
    t_in_part = true;  // a worker never starts a pool job of its own
    for (;;) {
      std::uint64_t g = generation_.load(std::memory_order_acquire);
      for (int i = 0; g == seen && i < kSpin; ++i) {
        UNROLL_PAUSE();
        g = generation_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(sleep_);
        sleepers_.fetch_add(1);
        while ((g = generation_.load()) == seen) asleep_.wait(lock);
        sleepers_.fetch_sub(1);
      }
      seen = g;
      if (stop_.load(std::memory_order_acquire)) return;
      if (index < parts_) {
        try {
          (*fn_)(index, parts_);
        } catch (...) {
          std::lock_guard<std::mutex> e(error_mutex_);
          if (!error_) error_ = std::current_exception();
        }
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void stop_workers() {
    if (workers_.empty()) return;
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1);
    wake();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stop_.store(false, std::memory_order_release);
  }

  void wake() {
    if (sleepers_.load() == 0) return;
    { std::lock_guard<std::mutex> lock(sleep_); }
    asleep_.notify_all();
  }

  std::mutex use_;  // one job at a time
  std::mutex sleep_;
  std::condition_variable asleep_;
  std::atomic<int> sleepers_{0};
  std::vector<std::thread> workers_;
  std::atomic<int> target_{1};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(std::size_t, std::size_t)>* fn_ = nullptr;
  std::size_t parts_ = 0;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace

void set_threads(int n) {
  if (n < 1) throw std::invalid_argument("set_threads: the engine needs at least 1 thread, got " + std::to_string(n));
  if (t_in_part) throw std::logic_error("set_threads: called from inside a parallel part (resize between jobs)");
  Pool& p = Pool::get();
  if (p.size() != n) p.resize(n);
}

int threads() {
  const int n = g_threads.load(std::memory_order_relaxed);  // cheap: every GEMM asks
  return n > 0 ? n : Pool::get().size();
}

void parallel_parts(std::size_t max_parts, const std::function<void(std::size_t, std::size_t)>& fn) {
  const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(max_parts, std::size_t(threads())));
  if (parts == 1) {
    fn(0, 1);
    return;
  }
  Pool::get().run(parts, fn);
}

Range part_range(std::size_t n, std::size_t part, std::size_t parts, std::size_t align) {
  const std::size_t blocks = (n + align - 1) / align;
  const std::size_t lo = std::min(n, blocks * part / parts * align);
  const std::size_t hi = part + 1 == parts ? n : std::min(n, blocks * (part + 1) / parts * align);
  return {lo, hi};
}

}  // namespace unroll
