// tools/bench/models.h — the benchmark workloads of issue 7, built from the library's modules
// (nn/recurrent.h, nn/embedding.h, nn/linear.h, nn/optim.h). Each Workload runs one unit of work per
// call (a training step on one batch, or one forward, or one sampled sequence) and says how many tokens
// that was and how many GEMM flops it did. tools/bench/torch_bench.py builds the same models in PyTorch.
//   impl Lib:   the layer's own forward (nn/recurrent.cc, per-gate plain ops)
//   impl Fused: the same parameters through engine/ops_rnn.h (tools/bench/fused_rnn.h)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace unroll::bench {

enum class Impl { Lib, Fused };

struct RowSpec {
  std::string name;        // "charlm-train"
  std::string what;        // one line for the table legend
};
const std::vector<RowSpec>& all_rows();

class Workload {
 public:
  virtual ~Workload() = default;
  virtual double run() = 0;                     // one unit of work; returns the tokens (words) it processed
  virtual double gemm_flops_per_token() const = 0;  // GEMM flops per token (forward ×3 when training)
  // Loss of one fixed batch through Lib and Fused on the same weights (the bench prints the difference).
  virtual double check_same(Impl) { return 0; }
};

// Row name -> workload; nullptr for an unknown name.
std::unique_ptr<Workload> make_workload(const std::string& row, Impl impl, std::uint64_t seed);

}  // namespace unroll::bench
