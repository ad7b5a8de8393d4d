// tools/cli/cmd_gradflow.cc — `unroll gradflow`: vanishing gradients made visible.
// Task (long range): a bit is shown at step 0 only; the loss (BCE on a linear read-out of h_{T-1}) asks for
// it at the last step, so every bit of signal must flow back T steps. For each cell type (RNN, LSTM, GRU)
// it trains a little (Adam, gradient clipping by norm, counting how often clipping fired), and averages
// ‖∂L/∂h_t‖ over fresh batches at initialisation and after training and writes them against t as CSV and as an SVG plot (log scale).
#include "tools/cli/commands.h"

#include "engine/ops.h"
#include "nn/clip.h"
#include "nn/gradflow.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "nn/plot_svg.h"
#include "nn/recurrent.h"

#include <fmt/format.h>

namespace unroll::cli {
namespace {

struct Options {
  int steps = 50;           // T
  int hidden = 32;
  int batch = 32;
  int train_steps = 200;
  int measure_batches = 8;
  double lr = 0.01;
  double clip = 1.0;
  double noise = 0.2;       // distractor amplitude on the noise channel
  double forget_bias = 1.0; // LSTM's initial forget-gate bias (the usual remedy; 0 shows the bare cell)
  std::uint64_t seed = 1;
  std::string out = "gradflow";  // writes <out>.csv and <out>.svg
};
Options opt;

// One batch of the task: xs T × [B, 2] (Gaussian distractor, signal ±1 at step 0 only), targets [B, 1].
std::pair<std::vector<Var<float>>, Mat<float>> make_batch(Rng& rng) {
  std::vector<Var<float>> xs;
  Mat<float> y = zeros<float>(opt.batch, 1);
  for (int b = 0; b < opt.batch; ++b) y(b, 0) = rng.uniform() < 0.5 ? 0.f : 1.f;
  for (int t = 0; t < opt.steps; ++t) {
    Mat<float> x = zeros<float>(opt.batch, 2);
    for (int b = 0; b < opt.batch; ++b) {
      x(b, 0) = float(opt.noise * rng.normal());
      if (t == 0) x(b, 1) = y(b, 0) * 2.f - 1.f;
    }
    xs.push_back(constant(std::move(x)));
  }
  return {xs, y};
}

int run() {
  if (opt.steps < 2) throw std::invalid_argument(fmt::format("gradflow: --steps must be at least 2, got {}", opt.steps));
  if (opt.hidden < 1 || opt.batch < 1)
    throw std::invalid_argument(fmt::format("gradflow: --hidden and --batch must be positive, got {} and {}", opt.hidden, opt.batch));
  if (opt.train_steps < 0 || opt.measure_batches < 1)
    throw std::invalid_argument("gradflow: --train-steps must be >= 0 and --measure-batches >= 1");
  if (!(opt.lr > 0)) throw std::invalid_argument(fmt::format("gradflow: --lr must be > 0, got {}", opt.lr));
  if (!(opt.clip > 0)) throw std::invalid_argument(fmt::format("gradflow: --clip must be > 0, got {}", opt.clip));

  std::vector<PlotSeries> series;
  std::vector<double> ts(opt.steps);
  for (int t = 0; t < opt.steps; ++t) ts[t] = t;
  fmt::print("task: remember a bit shown at step 0 for T = {} steps; H = {}, batch {}, {} Adam steps (lr {}), clip at {}\n\n",
             opt.steps, opt.hidden, opt.batch, opt.train_steps, opt.lr, opt.clip);
  fmt::print("{:<5} {:<8} {:>12} {:>12} {:>12} {:>8}  {}\n", "cell", "when", "|dL/dh_0|", "|dL/dh_T-1|", "first/last", "acc",
             "clipping during training");
  for (auto [kind, name] : {std::pair{CellKind::RNN, "RNN"}, {CellKind::LSTM, "LSTM"}, {CellKind::GRU, "GRU"}}) {
    Rng rng(opt.seed);
    RecurrentConfig rc = recurrent_config(2, opt.hidden);
    if (kind == CellKind::LSTM && opt.forget_bias != 0.0) rc.forget_bias = opt.forget_bias;
    Recurrent<float> rnn(kind, rc, rng);
    Linear<float> head(opt.hidden, 1, rng);
    std::vector<NamedParam<float>> params = rnn.parameters();
    for (auto& p : head.parameters()) params.push_back(p);
    AdamOptions ao;
    ao.lr = opt.lr;
    Adam<float> adam(params, ao);
    ClipCounter clips;
    Rng data(opt.seed + 1000);
    // Mean ‖∂L/∂h_t‖ over fresh batches, and the read-out accuracy on them.
    auto measure = [&](const char* when) {
      GradFlowStats stats;
      std::size_t correct = 0, total = 0;
      for (int m = 0; m < opt.measure_batches; ++m) {
        auto [xs, y] = make_batch(data);
        RecurrentOutput<float> out = rnn.forward(xs);
        Var<float> logits = head(out.outputs.back());
        for (std::size_t b = 0; b < y.shape(0); ++b, ++total) correct += (logits.value()(b, 0) > 0) == (y(b, 0) > 0.5f);
        bce_with_logits(logits, y).backward();
        stats.add(gradient_norms(out));
      }
      std::vector<double> norms = stats.mean();
      fmt::print("{:<5} {:<8} {:>12.3e} {:>12.3e} {:>12.3e} {:>8.3f}  {}\n", name, when, norms.front(), norms.back(),
                 norms.front() / norms.back(), double(correct) / double(total),
                 std::string(when) == "trained" ? clips.describe() : std::string("-"));
      series.push_back({fmt::format("{} ({})", name, when), ts, norms});
    };
    measure("init");
    for (int s = 0; s < opt.train_steps; ++s) {
      auto [xs, y] = make_batch(data);
      RecurrentOutput<float> out = rnn.forward(xs);
      Var<float> loss = bce_with_logits(head(out.outputs.back()), y);
      adam.zero_grad();
      loss.backward();
      clip_grad_norm_(params, opt.clip, 2.0, false, &clips);
      adam.step();
    }
    if (opt.train_steps > 0) measure("trained");
  }
  write_file_atomic(opt.out + ".csv", series_csv("t", series));
  PlotOptions po;
  po.title = fmt::format("gradient flow: |dL/dh_t| with the loss at t = {}", opt.steps - 1);
  po.x_label = "time step t";
  po.y_label = "|dL/dh_t| (mean over batches)";
  po.log_y = true;
  write_file_atomic(opt.out + ".svg", plot_svg(series, po));
  fmt::print("\nwrote {0}.csv and {0}.svg\n", opt.out);
  return 0;
}

Registration reg(
    "gradflow",
    [](CLI::App& app) {
      auto* sub = app.add_subcommand("gradflow", "plot |dL/dh_t| over time for RNN, LSTM and GRU on a long-range task");
      sub->add_option("--steps", opt.steps, "sequence length T")->capture_default_str();
      sub->add_option("--hidden", opt.hidden, "hidden size H")->capture_default_str();
      sub->add_option("--batch", opt.batch, "batch size")->capture_default_str();
      sub->add_option("--train-steps", opt.train_steps, "Adam steps between the two measurements (0: initialisation only)")->capture_default_str();
      sub->add_option("--measure-batches", opt.measure_batches, "batches averaged for the curve")->capture_default_str();
      sub->add_option("--lr", opt.lr, "Adam learning rate")->capture_default_str();
      sub->add_option("--clip", opt.clip, "clip the global gradient norm at this value")->capture_default_str();
      sub->add_option("--noise", opt.noise, "standard deviation of the distractor input")->capture_default_str();
      sub->add_option("--forget-bias", opt.forget_bias, "LSTM initial forget-gate bias (0: PyTorch's default init)")->capture_default_str();
      sub->add_option("--seed", opt.seed, "seed of weights and data")->capture_default_str();
      sub->add_option("-o,--out", opt.out, "output prefix: <out>.csv and <out>.svg")->capture_default_str();
    },
    run);

}  // namespace
}  // namespace unroll::cli
