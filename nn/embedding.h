// nn/embedding.h — a lookup table: row ids[i] of "weight" [V, E] for each id (PyTorch's nn.Embedding).
// Default init is PyTorch's N(0, 1). With a padding index, that row starts at zero, its lookups give
// zeros and it never receives a gradient (as PyTorch's padding_idx).
// The weight tracks which rows its gradient holds (engine/var.h, Node::sparse_grad; on by default): a batch
// that looks up 22 of 20,000 rows makes the optimizers' gradient scan and zero_grad visit those 22 rows.
// The numbers are the same either way (bitwise); whether an optimizer then updates only those rows
// ("lazy", torch.optim.SparseAdam) or every row is the optimizer's sparse_rows setting (nn/optim.h).
#pragma once

#include "engine/rng.h"
#include "nn/module.h"

#include <cstdint>
#include <vector>

namespace unroll {

template <class T>
class Embedding final : public Module<T> {
 public:
  // padding_idx < 0: none.
  Embedding(int num_embeddings, int embedding_dim, Rng& rng, std::int64_t padding_idx = -1);

  Var<T> forward(const std::vector<std::int64_t>& ids) const;   // n ids -> [n, E]
  Var<T> operator()(const std::vector<std::int64_t>& ids) const { return forward(ids); }

  std::vector<NamedParam<T>> parameters() override;              // {"weight", W}  [V, E]
  std::string describe() const override;                         // "Embedding(10, 3, padding_idx=0)"

  int num_embeddings() const { return num_; }
  int embedding_dim() const { return dim_; }
  std::int64_t padding_idx() const { return padding_idx_; }
  Var<T>& weight() { return weight_; }
  // Row tracking of the weight's gradient (default on); off: every consumer treats it as dense.
  void set_sparse_grad(bool on) { weight_.set_sparse_grad(on); }
  bool sparse_grad() const { return weight_.sparse_grad(); }

 private:
  int num_, dim_;
  std::int64_t padding_idx_;
  Var<T> weight_;  // [V, E]
};

extern template class Embedding<float>;
extern template class Embedding<double>;

}  // namespace unroll
