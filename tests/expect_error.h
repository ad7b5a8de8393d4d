// tests/expect_error.h — EXPECT_ERROR(Type, expr, fragments...): runs expr once per expected fragment; each run
// must throw exactly Type (or a subclass) and the message must contain the fragment. On failure doctest prints
// the fragment and the message that came. Shared by the bad-input and numerics suites.
#pragma once

#include <doctest/doctest.h>

#define EXPECT_ERROR(Type, expr, ...)                                    \
  do {                                                                   \
    for (const char* fragment_ : {__VA_ARGS__}) {                        \
      CAPTURE(fragment_);                                                \
      CHECK_THROWS_WITH_AS(expr, doctest::Contains(fragment_), Type);    \
    }                                                                    \
  } while (0)
