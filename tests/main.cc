// tests/main.cc — the doctest main of the one test binary (every tests/test_*.cc links into it).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
