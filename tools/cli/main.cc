// tools/cli/main.cc — the `unroll` program: one binary, one subcommand per job (CLI11).
// Each subcommand lives in its own cmd_<name>.cc and registers itself through commands.h.
#include "tools/cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"unroll: reverse-mode autodiff and recurrent networks over xtensor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "unroll 0.1.0");
  for (const auto& reg : unroll::cli::registry()) reg(app);
  // Name an unknown command or model ("train nosuchmodel") instead of CLI11's "A subcommand is required".
  CLI::App* level = &app;
  for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
    auto subs = level->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) break;
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* s : subs) {
      if (s->get_name() == argv[i]) next = s;
      names += (names.empty() ? "" : ", ") + s->get_name();
    }
    if (!next) {
      std::fprintf(stderr, "unroll: unknown %s '%s' (one of: %s)\n", level == &app ? "command" : "model", argv[i],
                   names.c_str());
      return 2;
    }
    level = next;
  }
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
    // The runner key is the chain of parsed subcommands: "gradcheck", "train charlm", …
    std::string key;
    for (CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      key += (key.empty() ? "" : " ") + sub->get_name();
    }
    if (auto it = unroll::cli::runners().find(key); it != unroll::cli::runners().end()) return it->second();
    std::fprintf(stderr, "unroll: no runner for '%s'\n", key.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unroll: %s\n", e.what());
    return 1;
  }
  return 0;
}
