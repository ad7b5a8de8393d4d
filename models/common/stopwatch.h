// models/common/stopwatch.h — wall and CPU time of a training run (the machine may be shared, so both are
// reported), and durations as "4m05s" / "1h02m03s".
#pragma once

#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <string>

namespace unroll::common {

class Stopwatch {
 public:
  double wall_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  }
  double cpu_seconds() const { return double(std::clock() - cpu0_) / CLOCKS_PER_SEC; }  // the whole process

 private:
  std::chrono::steady_clock::time_point wall0_ = std::chrono::steady_clock::now();
  std::clock_t cpu0_ = std::clock();
};

inline std::string hms(double seconds) {
  const long t = long(seconds + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m{:02}s", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

}  // namespace unroll::common
