// engine/graph_dot.cc — DOT output of a recorded graph, clustered by scope label.
#include "engine/graph_dot.h"

#include <map>
#include <unordered_map>

namespace unroll {

namespace {
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

template <class T>
std::string graph_dot(const Var<T>& root, const std::string& title) {
  UNROLL_CHECK(root.defined(), "graph_dot: undefined Var");
  std::vector<Node<T>*> order = topo_order(root.node());
  std::unordered_map<const Node<T>*, std::size_t> id;
  for (std::size_t i = 0; i < order.size(); ++i) id[order[i]] = i;

  auto label = [](const Node<T>* n) {
    std::string s = n->parents.empty() ? (n->name.empty() ? std::string(n->requires_grad ? "param" : "const") : n->name)
                                       : std::string(n->op);
    return escape(s) + "\\n" + shape_str(n->value);  // \n: a line break inside a DOT label
  };
  std::map<std::string, std::vector<std::size_t>> clusters;  // scope label -> node ids (ordered by label)
  std::vector<std::size_t> free_nodes;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Node<T>* n = order[i];
    if (n->scope && !n->parents.empty()) clusters[n->scope].push_back(i);
    else free_nodes.push_back(i);
  }

  std::string out = fmt::format("digraph unroll {{\n  label=\"{}\";\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n",
                                escape(title));
  auto node_line = [&](std::size_t i) {
    const Node<T>* n = order[i];
    const char* shape = n->parents.empty() ? (n->requires_grad ? "box, style=filled, fillcolor=\"#ffe9b3\"" : "box")
                                           : "ellipse";
    return fmt::format("    n{} [label=\"{}\", shape={}];\n", i, label(n), shape);
  };
  for (std::size_t i : free_nodes) out += node_line(i);
  std::size_t c = 0;
  for (const auto& [scope, ids] : clusters) {
    out += fmt::format("  subgraph cluster_{} {{\n    label=\"{}\";\n    style=rounded;\n", c++, escape(scope));
    for (std::size_t i : ids) out += node_line(i);
    out += "  }\n";
  }
  for (std::size_t i = 0; i < order.size(); ++i)
    for (const auto& p : order[i]->parents) out += fmt::format("  n{} -> n{};\n", id.at(p.get()), i);
  out += "}\n";
  return out;
}

template std::string graph_dot<float>(const Var<float>&, const std::string&);
template std::string graph_dot<double>(const Var<double>&, const std::string&);

}  // namespace unroll
