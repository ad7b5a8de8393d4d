// engine/graph_dot.h — the recorded graph as Graphviz DOT, ops grouped into clusters by their ScopeGuard
// label (time step, layer, direction), so the unrolled graph that BPTT walks can be seen.
#pragma once

#include "engine/var.h"

#include <string>

namespace unroll {

// Every node reachable from root; leaves show their name and shape, ops their op name and output shape.
// Edges point along the forward data flow (input -> op).
template <class T>
std::string graph_dot(const Var<T>& root, const std::string& title = "unroll graph");

}  // namespace unroll
