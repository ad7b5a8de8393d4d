#include "engine/ops.h"
#include <doctest/doctest.h>
using namespace unroll;
TEST_CASE("smoke: tanh of zero") {
  Var<double> x = parameter(zeros<double>(1, 1));
  CHECK(tanh(x).item() == 0.0);
}
