// tools/cli/commands.h — how a subcommand plugs into the `unroll` program.
// A cmd_<name>.cc defines a static Registration that adds its CLI11 subcommand (flags bound to its own
// options struct) and a runner returning the exit code. Runners throw std::exception for bad input; main
// prints "unroll: <message>" on one line and exits 1.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace unroll::cli {

using Setup = std::function<void(CLI::App&)>;
using Runner = std::function<int()>;

inline std::vector<Setup>& registry() {
  static std::vector<Setup> r;
  return r;
}
inline std::map<std::string, Runner>& runners() {
  static std::map<std::string, Runner> r;
  return r;
}

struct Registration {
  Registration(const std::string& name, Setup setup, Runner run) {
    registry().push_back(std::move(setup));
    runners()[name] = std::move(run);
  }
};

}  // namespace unroll::cli
