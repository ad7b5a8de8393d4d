// Uses the installed library: one op, backward, and a float64 gradient check.
#include "engine/gradcheck.h"
#include "engine/ops.h"

#include <cstdio>

int main() {
  using namespace unroll;
  Rng rng(1);
  Var<double> x = parameter(rng.normal_mat<double>(2, 3));
  GradCheckResult r = gradcheck([&] { return tanh(x); }, {{"x", x}});
  std::printf("%s", r.report.c_str());
  return r.ok ? 0 : 1;
}
