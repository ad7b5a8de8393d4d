// tools/bench/bench_main.cc — unroll_bench: the issue-7 benchmark rows, tokens/s (median of ≥ 5 timed
// runs after a warm-up), GEMM GFLOP/s and its fraction of the big-sgemm rate measured in the same run,
// and with --vs-torch the same work in PyTorch (tools/bench/torch_bench.py) with the ratio ours/PyTorch.
//   unroll_bench [--rows charlm-train,tagger-b1] [--runs 5] [--min-time 0.5] [--impl fused|lib|both]
//                [--threads 2] [--vs-torch] [--python /usr/bin/python3] [--json out.json]
//                [--clock wall|cpu] [--profile N]   (no timing: N units of each row, to run under valgrind --tool=callgrind)
//                [--no-extras] [--peak-rss ROW]
// With charlm-train among the rows it also prints the three extra figures: Adam / SGD time per token
// (charlm-adam vs charlm-train), 2 BLAS threads vs 1 on charlm-train (wall clock), and the peak memory
// (max RSS) of charlm-train, ours and PyTorch's, each measured in a fresh process of its own.
// Both sides run in this process's environment (OPENBLAS_CORETYPE is passed through unchanged).
#include "engine/gemm.h"
#include "engine/rng.h"
#include "tools/bench/models.h"

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef UNROLL_BENCH_DIR
#define UNROLL_BENCH_DIR "tools/bench"
#endif

#include <cblas.h>

extern "C" char* openblas_get_corename();

using namespace unroll;
using namespace unroll::bench;

namespace {
// Wall time (the default), or with --clock cpu the CPU time of the whole process (every thread): a steadier
// proxy on a machine shared with other jobs, where wall time measures the other jobs too (use --threads 1
// with it: CPU time also counts BLAS threads spinning while they wait).
bool g_cpu_clock = false;
double now() {
  if (g_cpu_clock) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double seconds_since(double t0) { return now() - t0; }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Options {
  std::vector<std::string> rows;
  int runs = 5;
  double min_time = 0.5;  // seconds per timed run (units are repeated until a run lasts this long)
  std::string impl = "fused";
  int threads = 2;
  bool vs_torch = false;
  std::string python = "/usr/bin/python3";
  std::string json;
  std::string clock = "wall";  // or "cpu" (see now())
  int profile = 0;        // > 0: no timing, no big-sgemm: run each row's unit this many times (for callgrind)
  bool extras = true;     // Adam/SGD, thread scaling and peak memory figures (when charlm-train is run)
  std::string peak_rss;   // internal: run this row a few units in this fresh process, print its peak RSS
};

// Resident set size now and the peak so far (KiB).
long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}
long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // KiB on Linux
}

// Reads the first JSON line with "peak_rss_kib" from a command's output; empty object when none.
nlohmann::json json_line_of(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  nlohmann::json out = nlohmann::json::object();
  if (!p) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    try {
      auto j = nlohmann::json::parse(buf);
      if (j.contains("peak_rss_kib")) out = j;
    } catch (const std::exception&) {
    }
  }
  pclose(p);
  return out;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "unroll_bench";
  buf[n] = 0;
  return buf;
}

// big-sgemm: C = A·B, 2048³, float, median of runs, measured two ways: through the engine's gemm (its thread
// pool, one single-threaded OpenBLAS block per thread) and as one cblas_sgemm with OpenBLAS's own threads at the
// same count. The machine's rate is the higher of the two, so "% of big-sgemm" is never flattered by a weak
// reference.
struct BigSgemm {
  double engine = 0, openblas = 0;
  double peak() const { return std::max(engine, openblas); }
};
BigSgemm big_sgemm_gflops(int runs, int threads) {
  const std::size_t n = 2048;
  Rng rng(1);
  Mat<float> A = rng.uniform_mat<float>(n, n, -1, 1), B = rng.uniform_mat<float>(n, n, -1, 1);
  Mat<float> C = zeros<float>(n, n);
  const auto rate = [&](auto&& product) {
    product();  // warm-up
    std::vector<double> rates;
    for (int r = 0; r < runs; ++r) {
      const double t0 = now();
      product();
      rates.push_back(2.0 * n * n * n / seconds_since(t0) / 1e9);
    }
    return median(rates);
  };
  BigSgemm r;
  r.engine = rate([&] { gemm(Trans::N, Trans::N, 1.f, A, B, 0.f, C); });
  openblas_set_num_threads(threads);  // OpenBLAS's own pool, for this measurement only
  r.openblas = rate([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.f, A.data(), int(n), B.data(),
                int(n), 0.f, C.data(), int(n));
  });
  set_blas_threads(threads);  // back to the engine's setting: OpenBLAS single-threaded inside the engine's pool
  return r;
}

struct RowResult {
  double tok_s = 0;
  double gflops = 0;
  std::vector<double> runs;
};

RowResult time_row(const std::string& row, Impl impl, const Options& o) {
  auto w = make_workload(row, impl, 7);
  if (!w) return {};
  w->run();  // warm-up (first-touch allocations, BLAS thread start)
  const double t0 = now();
  w->run();
  const double unit = std::max(seconds_since(t0), 1e-6);
  const int units = std::max(1, int(o.min_time / unit + 0.5));
  RowResult r;
  for (int k = 0; k < o.runs; ++k) {
    double tokens = 0;
    const double t1 = now();
    for (int u = 0; u < units; ++u) tokens += w->run();
    r.runs.push_back(tokens / seconds_since(t1));
  }
  r.tok_s = median(r.runs);
  r.gflops = r.tok_s * w->gemm_flops_per_token() / 1e9;
  return r;
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? std::string(1, sep) : "") + v[i];
  return s;
}

// Runs torch_bench.py; row -> {tok_s, ...}. Empty (with the reason printed) when torch is missing.
std::map<std::string, nlohmann::json> run_torch(const Options& o) {
  std::map<std::string, nlohmann::json> out;
  const std::string probe = o.python + " -c 'import torch' > /dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    std::printf("--vs-torch: `%s` cannot import torch. Install Debian's PyTorch with\n"
                "    sudo apt-get install python3-torch\n"
                "(or pass --python /path/to/a/python3 that has torch). Rows are shown without PyTorch.\n\n",
                o.python.c_str());
    return out;
  }
  const std::string cmd = "OPENBLAS_NUM_THREADS=" + std::to_string(o.threads) + " " + o.python + " " +
                          UNROLL_BENCH_DIR "/torch_bench.py --rows " + join(o.rows, ',') +
                          " --runs " + std::to_string(o.runs) + " --min-time " + std::to_string(o.min_time) + " --clock " + o.clock;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    try {
      auto j = nlohmann::json::parse(buf);
      if (j.contains("row")) out[j["row"].get<std::string>()] = j;
      if (j.contains("info")) std::printf("torch: %s\n", j["info"].get<std::string>().c_str());
    } catch (const std::exception&) {
      std::fputs(buf, stdout);  // pass through anything that is not a result line
    }
  }
  const int rc = pclose(p);
  if (rc != 0) std::printf("torch_bench.py exited with status %d\n", rc);
  return out;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

int usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: unroll_bench [--rows a,b] [--runs N>=5] [--min-time SEC] [--impl fused|lib|both]\n"
               "                    [--threads N] [--vs-torch] [--python PATH] [--json FILE] [--clock wall|cpu]\n"
               "                    [--profile N] [--no-extras] [--peak-rss ROW]\nrows:",
               msg);
  for (const auto& r : all_rows()) std::fprintf(stderr, " %s", r.name.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--rows") {
        std::stringstream ss(val());
        for (std::string r; std::getline(ss, r, ',');) o.rows.push_back(r);
      } else if (a == "--runs") o.runs = std::stoi(val());
      else if (a == "--min-time") o.min_time = std::stod(val());
      else if (a == "--impl") o.impl = val();
      else if (a == "--threads") o.threads = std::stoi(val());
      else if (a == "--vs-torch") o.vs_torch = true;
      else if (a == "--python") o.python = val();
      else if (a == "--json") o.json = val();
      else if (a == "--profile") o.profile = std::stoi(val());
      else if (a == "--clock") o.clock = val();
      else if (a == "--no-extras") o.extras = false;
      else if (a == "--peak-rss") o.peak_rss = val();
      else if (a == "--help" || a == "-h") return usage("unroll_bench: the issue-7 benchmark rows");
      else return usage(("unknown argument " + a).c_str());
    } catch (const std::exception& e) {
      return usage(e.what());
    }
  }
  if (o.rows.empty())
    for (const auto& r : all_rows()) o.rows.push_back(r.name);
  for (const auto& r : o.rows)
    if (!make_workload(r, Impl::Lib, 1)) return usage(("unknown row " + r).c_str());
  if (o.runs < 5) return usage("--runs must be at least 5 (the median of >= 5 runs)");
  if (o.impl != "fused" && o.impl != "lib" && o.impl != "both") return usage("--impl is fused, lib or both");
  if (o.clock != "wall" && o.clock != "cpu") return usage("--clock is wall or cpu");
  g_cpu_clock = o.clock == "cpu";
  set_blas_threads(o.threads);
  if (!o.peak_rss.empty()) {  // one row in this fresh process: warm-up + 3 units, then the peak RSS
    const long base = rss_kib();
    auto w = make_workload(o.peak_rss, o.impl == "lib" ? Impl::Lib : Impl::Fused, 7);
    if (!w) return usage(("unknown row " + o.peak_rss).c_str());
    for (int k = 0; k < 4; ++k) w->run();
    std::printf("%s\n", nlohmann::json({{"row", o.peak_rss}, {"peak_rss_kib", peak_rss_kib()}, {"base_rss_kib", base}})
                             .dump()
                             .c_str());
    return 0;
  }
  if (o.profile > 0) {  // valgrind --tool=callgrind unroll_bench --profile 3 --rows tagger-b1
    for (const auto& row : o.rows) {
      auto w = make_workload(row, o.impl == "lib" ? Impl::Lib : Impl::Fused, 7);
      for (int k = 0; k < o.profile; ++k) w->run();
    }
    return 0;
  }

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("machine: %s, %d engine threads (OpenBLAS single-threaded inside), OpenBLAS core %s, "
              "OPENBLAS_CORETYPE=%s, %s clock\n",
              cpu_model().c_str(), blas_threads(), openblas_get_corename(), coretype ? coretype : "(unset)",
              o.clock.c_str());
  const BigSgemm big = big_sgemm_gflops(std::max(o.runs, 5), o.threads);
  const double peak = big.peak();
  std::printf("big-sgemm (2048^3 float): %.1f GFLOP/s (engine gemm %.1f, OpenBLAS's own %d threads %.1f); load "
              "average %s\n\n",
              peak, big.engine, o.threads, big.openblas, load_average().c_str());

  const bool lib = o.impl != "fused", fused = o.impl != "lib";
  std::map<std::string, RowResult> rl, rf;
  for (const auto& row : o.rows) {
    if (lib && fused) {  // same weights, same batch: the two paths must give the same loss
      auto a = make_workload(row, Impl::Lib, 7), b = make_workload(row, Impl::Fused, 7);
      const double la = a->check_same(Impl::Lib), lb = b->check_same(Impl::Fused);
      std::printf("%-13s same-work check: loss lib %.6f, fused %.6f\n", row.c_str(), la, lb);
    }
    if (lib) rl[row] = time_row(row, Impl::Lib, o);
    if (fused) rf[row] = time_row(row, Impl::Fused, o);
    std::fflush(stdout);
  }
  std::map<std::string, nlohmann::json> torch;
  if (o.vs_torch) torch = run_torch(o);

  std::printf("\n%-13s %12s %12s %12s %7s %9s %7s\n", "row", lib ? "lib tok/s" : "", fused ? "fused tok/s" : "",
              o.vs_torch ? "torch tok/s" : "", o.vs_torch ? "ratio" : "", "GEMM GF/s", "% peak");
  nlohmann::json js = {{"big_sgemm_gflops", peak},         {"big_sgemm_engine_gflops", big.engine},
                       {"big_sgemm_openblas_gflops", big.openblas}, {"cpu", cpu_model()},
                       {"threads", o.threads}, {"clock", o.clock}, {"rows", {}}};
  for (const auto& row : o.rows) {
    const RowResult& best = fused ? rf[row] : rl[row];
    const double ours = std::max(lib ? rl[row].tok_s : 0.0, fused ? rf[row].tok_s : 0.0);
    auto t = torch.find(row);
    const double th = t != torch.end() ? t->second["tok_s"].get<double>() : 0;
    char ratio[32] = "";
    if (th > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", ours / th);
    auto num = [](bool on, double v) {
      char b[32] = "";
      if (on && v > 0) std::snprintf(b, sizeof b, "%.0f", v);
      return std::string(b);
    };
    std::printf("%-13s %12s %12s %12s %7s %9.1f %6.1f%%\n", row.c_str(), num(lib, rl[row].tok_s).c_str(),
                num(fused, rf[row].tok_s).c_str(), num(th > 0, th).c_str(), ratio, best.gflops,
                100 * best.gflops / peak);
    js["rows"].push_back({{"row", row}, {"lib_tok_s", lib ? rl[row].tok_s : 0.0},
                          {"fused_tok_s", fused ? rf[row].tok_s : 0.0}, {"torch_tok_s", th},
                          {"gemm_gflops", best.gflops}});
  }
  std::printf("\nratio = best of ours / PyTorch (tokens/s, median of %d runs); GEMM GF/s = useful GEMM flops of the\n"
              "row per second (fused path when run); %% peak = that / big-sgemm. Legend:\n", o.runs);
  for (const auto& r : all_rows())
    if (std::find(o.rows.begin(), o.rows.end(), r.name) != o.rows.end())
      std::printf("  %-13s %s\n", r.name.c_str(), r.what.c_str());

  // ---- the extra figures on charlm-train -------------------------------------------------
  const bool has_lm = std::find(o.rows.begin(), o.rows.end(), "charlm-train") != o.rows.end();
  if (o.extras && has_lm) {
    std::printf("\ncharlm-train extras:\n");
    const Impl best_impl = fused ? Impl::Fused : Impl::Lib;
    const double sgd = (fused ? rf : rl)["charlm-train"].tok_s;
    // Adam / SGD: time per token with Adam over time per token with SGD (goal <= 1.15)
    double adam = 0, th_sgd = 0, th_adam = 0;
    if (std::find(o.rows.begin(), o.rows.end(), "charlm-adam") != o.rows.end())
      adam = (fused ? rf : rl)["charlm-adam"].tok_s;
    else
      adam = time_row("charlm-adam", best_impl, o).tok_s;
    if (torch.count("charlm-train")) th_sgd = torch["charlm-train"]["tok_s"].get<double>();
    if (torch.count("charlm-adam")) th_adam = torch["charlm-adam"]["tok_s"].get<double>();
    std::printf("  Adam / SGD time per token: ours %.3f", sgd / adam);
    if (th_sgd > 0 && th_adam > 0) std::printf(", PyTorch %.3f", th_sgd / th_adam);
    std::printf("   (goal <= 1.15; charlm-adam vs charlm-train)\n");
    js["adam_over_sgd"] = sgd / adam;
    if (th_sgd > 0 && th_adam > 0) js["torch_adam_over_sgd"] = th_sgd / th_adam;
    // 2 BLAS threads vs 1, wall clock whatever --clock says (CPU time would count both threads)
    {
      Options w = o;
      const bool saved = g_cpu_clock;
      g_cpu_clock = false;
      set_blas_threads(1);
      const double one = time_row("charlm-train", best_impl, w).tok_s;
      set_blas_threads(2);
      const double two = time_row("charlm-train", best_impl, w).tok_s;
      set_blas_threads(o.threads);
      g_cpu_clock = saved;
      std::printf("  2 threads / 1 thread (wall clock): %.2fx  (%.0f vs %.0f tok/s; goal >= 1.6; load average now %s)\n",
                  two / one, two, one, load_average().c_str());
      js["scaling_2_over_1"] = two / one;
    }
    // peak memory, each side in a fresh process of its own
    const nlohmann::json mine =
        json_line_of(self_exe() + " --peak-rss charlm-train --impl " + (fused ? "fused" : "lib") + " --threads " +
                     std::to_string(o.threads));
    nlohmann::json theirs = nlohmann::json::object();
    if (o.vs_torch && !torch.empty())
      theirs = json_line_of("OPENBLAS_NUM_THREADS=" + std::to_string(o.threads) + " " + o.python + " " +
                            UNROLL_BENCH_DIR "/torch_bench.py --peak-rss charlm-train");
    auto mib = [](const nlohmann::json& j, const char* k) { return j.contains(k) ? j[k].get<double>() / 1024 : 0.0; };
    if (mine.contains("peak_rss_kib")) {
      std::printf("  peak memory (max RSS, fresh process, 4 units): ours %.1f MiB (%.1f MiB above the process at start)",
                  mib(mine, "peak_rss_kib"), mib(mine, "peak_rss_kib") - mib(mine, "base_rss_kib"));
      js["peak_rss_mib"] = mib(mine, "peak_rss_kib");
      if (theirs.contains("peak_rss_kib")) {
        std::printf(", PyTorch %.1f MiB (%.1f MiB above the process after import torch); ours / PyTorch %.2f",
                    mib(theirs, "peak_rss_kib"), mib(theirs, "peak_rss_kib") - mib(theirs, "base_rss_kib"),
                    mib(mine, "peak_rss_kib") / mib(theirs, "peak_rss_kib"));
        js["torch_peak_rss_mib"] = mib(theirs, "peak_rss_kib");
      }
      std::printf("\n");
    }
  }
  if (!o.json.empty()) std::ofstream(o.json) << js.dump(2) << "\n";
  return 0;
}
