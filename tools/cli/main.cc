// tools/cli/main.cc — the `unroll` program: one binary, one subcommand per job (CLI11).
// Each subcommand lives in its own cmd_<name>.cc and registers itself through commands.h.
#include "tools/cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"unroll: reverse-mode autodiff and recurrent networks over xtensor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "unroll 0.1.0");
  for (const auto& reg : unroll::cli::registry()) reg(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {  // one line on stderr, non-zero exit
    std::fprintf(stderr, "unroll: %s (see --help)\n", e.what());
    return e.get_exit_code() ? e.get_exit_code() : 2;
  }
  try {
    for (auto* sub : app.get_subcommands())
      if (auto it = unroll::cli::runners().find(sub->get_name()); it != unroll::cli::runners().end())
        return it->second();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unroll: %s\n", e.what());
    return 1;
  }
  return 0;
}
