// tools/cli/model_flags.h — flags of a zoo model's Options struct, applied on top of a preset.
// `unroll train charlm --preset demo --hidden 64`: the preset gives every field, then each flag the user
// actually typed overrides its field. ModelFlags binds each flag to a scratch copy of the Options and
// remembers how to copy that one field across.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace unroll::cli {

template <class Options>
class ModelFlags {
 public:
  explicit ModelFlags(CLI::App* sub) : sub_(sub) {}

  // --name bound to Options::*field (any type CLI11 can parse: numbers, strings, vectors).
  template <class F>
  ModelFlags& add(const std::string& name, F Options::*field, const std::string& help) {
    sub_->add_option(name, scratch_.*field, help);
    copy_.push_back([this, name, field](Options& o) {
      if (sub_->count(name)) o.*field = scratch_.*field;
    });
    return *this;
  }
  // A boolean switch (--resume): set when given.
  ModelFlags& flag(const std::string& name, bool Options::*field, const std::string& help) {
    sub_->add_flag(name, scratch_.*field, help);
    copy_.push_back([this, name, field](Options& o) {
      if (sub_->count(name)) o.*field = true;
    });
    return *this;
  }
  // Positional arguments (texts to score).
  template <class F>
  ModelFlags& positional(const std::string& name, F Options::*field, const std::string& help, bool required = false) {
    sub_->add_option(name, scratch_.*field, help)->required(required);
    copy_.push_back([this, name, field](Options& o) {
      if (sub_->count(name)) o.*field = scratch_.*field;
    });
    return *this;
  }
  // The preset's options with every typed flag applied.
  Options apply(Options base) const {
    for (const auto& c : copy_) c(base);
    return base;
  }

 private:
  CLI::App* sub_;
  Options scratch_{};
  std::vector<std::function<void(Options&)>> copy_;
};

// The verb subcommand ("train", "eval", "sample", "score", "predict") under app, created on first use.
inline CLI::App* verb(CLI::App& app, const std::string& name, const std::string& help) {
  for (CLI::App* s : app.get_subcommands([](CLI::App*) { return true; }))
    if (s->get_name() == name) return s;
  CLI::App* s = app.add_subcommand(name, help);
  s->require_subcommand(1);
  return s;
}

}  // namespace unroll::cli
