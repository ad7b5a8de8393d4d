// engine/check.h — argument checks that fire in every build type (never assert) and name what was wrong.
// UNROLL_CHECK(cond, "matmul: a is {}, w is {}", ...) throws ShapeError, formatting only on failure.
#pragma once

#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace unroll {

// Bad shapes or arguments given to an op or a module (the same base type DyNet uses).
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A value (NaN/Inf) caught by anomaly mode, or a gradient that cannot be applied.
struct NumericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace unroll

#define UNROLL_CHECK(cond, ...)                                  \
  do {                                                           \
    if (!(cond)) throw ::unroll::ShapeError(fmt::format(__VA_ARGS__)); \
  } while (0)
