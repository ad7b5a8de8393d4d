// tools/cli/cmd_graph.cc — `unroll graph`: the unrolled graph of a small recurrent model as Graphviz DOT.
// Ops are clustered by time step, layer and direction (the ScopeGuard labels the recurrent layers set), so
// the graph BPTT walks backwards can be seen: `unroll graph --cell lstm --steps 3 | dot -Tsvg > g.svg`.
#include "tools/cli/commands.h"

#include "engine/graph_dot.h"
#include "engine/ops.h"
#include "nn/linear.h"
#include "nn/recurrent.h"
#include "nn/plot_svg.h"

#include <fmt/format.h>

namespace unroll::cli {
namespace {

struct Options {
  std::string cell = "rnn";
  int steps = 3, layers = 1, input = 2, hidden = 3, batch = 1;
  bool bidirectional = false;
  std::string out;  // empty: stdout
};
Options opt;

int run() {
  CellKind kind;
  if (opt.cell == "rnn") kind = CellKind::RNN;
  else if (opt.cell == "lstm") kind = CellKind::LSTM;
  else if (opt.cell == "gru") kind = CellKind::GRU;
  else throw std::invalid_argument(fmt::format("graph: unknown --cell '{}' (rnn, lstm or gru)", opt.cell));
  if (opt.steps < 1 || opt.steps > 50)
    throw std::invalid_argument(fmt::format("graph: --steps must be in [1, 50], got {}", opt.steps));
  if (opt.layers < 1 || opt.input < 1 || opt.hidden < 1 || opt.batch < 1)
    throw std::invalid_argument("graph: --layers, --input, --hidden and --batch must be positive");
  Rng rng(1);
  RecurrentConfig rc = recurrent_config(opt.input, opt.hidden, opt.layers, opt.bidirectional);
  Recurrent<float> rnn(kind, rc, rng);
  Linear<float> head(opt.hidden * rnn.dirs(), 2, rng);
  std::vector<Var<float>> xs;
  for (int t = 0; t < opt.steps; ++t) xs.push_back(constant(rng.normal_mat<float>(opt.batch, opt.input)));
  RecordScopes labels;  // the recurrent layer labels its ops "layer k [reverse] / t=n"
  RecurrentOutput<float> out = rnn.forward(xs);
  std::vector<Var<float>> losses;  // a loss at every step, summed over time (the seeds' L = Σ_t L_t)
  for (int t = 0; t < opt.steps; ++t) {
    ScopeGuard s(fmt::format("loss t={}", t));
    losses.push_back(cross_entropy(head(out.outputs[t]), std::vector<std::int64_t>(opt.batch, 0)));
  }
  Var<float> loss = losses[0];
  for (int t = 1; t < opt.steps; ++t) loss = loss + losses[t];
  std::string dot = graph_dot(loss, fmt::format("{} unrolled over {} steps, loss summed over steps", rnn.describe(), opt.steps));
  if (opt.out.empty()) fmt::print("{}", dot);
  else write_file_atomic(opt.out, dot);
  return 0;
}

Registration reg(
    "graph",
    [](CLI::App& app) {
      auto* sub = app.add_subcommand("graph", "the unrolled graph of a small recurrent model as Graphviz DOT");
      sub->add_option("--cell", opt.cell, "rnn, lstm or gru")->capture_default_str();
      sub->add_option("--steps", opt.steps, "time steps to unroll (1-50)")->capture_default_str();
      sub->add_option("--layers", opt.layers, "stacked layers")->capture_default_str();
      sub->add_flag("--bidirectional", opt.bidirectional, "a reverse direction too");
      sub->add_option("--input", opt.input, "input features")->capture_default_str();
      sub->add_option("--hidden", opt.hidden, "hidden size")->capture_default_str();
      sub->add_option("--batch", opt.batch, "batch size")->capture_default_str();
      sub->add_option("-o,--out", opt.out, "write the DOT here instead of stdout");
    },
    run);

}  // namespace
}  // namespace unroll::cli
