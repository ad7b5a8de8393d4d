// tests/test_graph_dot.cc — scope labels on ops and the DOT dump of an unrolled graph.
#include "engine/graph_dot.h"
#include "engine/ops.h"

#include <doctest/doctest.h>

using namespace unroll;

TEST_CASE("graph_dot: an unrolled recurrence is grouped by time step") {
  Rng rng(3);
  Var<float> W = parameter(rng.normal_mat<float>(2, 2), "W");
  Var<float> h = constant(zeros<float>(1, 2));
  for (int t = 0; t < 3; ++t) {
    ScopeGuard s("t=" + std::to_string(t));
    h = tanh(matmul(h, W));
  }
  std::string dot = graph_dot(sum(h), "toy rnn");
  CHECK(dot.rfind("digraph unroll {", 0) == 0);
  CHECK(dot.find("label=\"t=0\"") != std::string::npos);
  CHECK(dot.find("label=\"t=2\"") != std::string::npos);
  CHECK(dot.find("W\\n[2, 2]") != std::string::npos);
  // 3 matmuls + 3 tanh + sum + W + h0 = 9 nodes; each matmul has 2 inputs, tanh and sum 1: 10 edges
  std::size_t edges = 0;
  for (std::size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 2)) ++edges;
  CHECK(edges == 10);
}

TEST_CASE("scope: nested guards join labels and restore the outer one") {
  CHECK(current_scope() == nullptr);
  {
    ScopeGuard a("layer 1");
    {
      ScopeGuard b("t=4");
      CHECK(std::string(current_scope()) == "layer 1 / t=4");
    }
    CHECK(std::string(current_scope()) == "layer 1");
  }
  CHECK(current_scope() == nullptr);
}
