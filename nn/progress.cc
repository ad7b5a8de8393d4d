// nn/progress.cc — the progress line: bar on a terminal, plain lines otherwise.
#include "nn/progress.h"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace unroll {

Progress::Progress(std::size_t total_steps, std::size_t every, bool force_plain)
    : total_(total_steps), every_(every ? every : 1), tty_(!force_plain && isatty(fileno(stderr))),
      start_(std::chrono::steady_clock::now()) {}

std::string Progress::line() const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double tps = secs > 0 ? tokens_ / secs : 0;
  std::string eta = "?";
  if (total_ && step_) {
    double left = secs / step_ * double(total_ > step_ ? total_ - step_ : 0);
    eta = fmt::format("{}:{:02d}", int(left) / 60, int(left) % 60);
  }
  return fmt::format("epoch {} step {}{} loss {:.4f} (avg {:.4f}) {:.0f} tok/s ETA {}", epoch_, step_,
                     total_ ? fmt::format("/{}", total_) : std::string(), loss_, loss_avg_, tps, eta);
}

void Progress::update(std::size_t epoch, double loss, std::size_t tokens) {
  ++step_;
  epoch_ = epoch;
  loss_ = loss;
  loss_avg_ = step_ == 1 ? loss : 0.98 * loss_avg_ + 0.02 * loss;
  tokens_ += tokens;
  if (tty_) {
    std::string bar;
    if (total_) {
      int filled = int(20.0 * double(std::min(step_, total_)) / double(total_));
      bar = "[" + std::string(filled, '#') + std::string(20 - filled, '.') + "] ";
    }
    std::fprintf(stderr, "\r\033[K%s%s", bar.c_str(), line().c_str());
    std::fflush(stderr);
  } else if (step_ % every_ == 0) {
    std::fprintf(stderr, "%s\n", line().c_str());
  }
}

void Progress::finish(const std::string& message) {
  if (tty_) std::fprintf(stderr, "\n");
  std::fprintf(stderr, "%s%s%s\n", line().c_str(), message.empty() ? "" : " — ", message.c_str());
}

}  // namespace unroll
