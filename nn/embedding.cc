// nn/embedding.cc — Embedding (see nn/embedding.h); the gather/scatter-add is the engine's embedding() op.
#include "nn/embedding.h"

#include "engine/ops.h"

namespace unroll {

template <class T>
Embedding<T>::Embedding(int num_embeddings, int embedding_dim, Rng& rng, std::int64_t padding_idx)
    : num_(num_embeddings), dim_(embedding_dim), padding_idx_(padding_idx < 0 ? -1 : padding_idx) {
  UNROLL_CHECK(num_embeddings > 0 && embedding_dim > 0,
               "Embedding: sizes must be positive, got num_embeddings={}, embedding_dim={}", num_embeddings,
               embedding_dim);
  UNROLL_CHECK(padding_idx < num_embeddings, "Embedding: padding_idx {} is out of range [0, {})", padding_idx,
               num_embeddings);
  Mat<T> w = rng.normal_mat<T>(num_, dim_);
  if (padding_idx_ >= 0) xt::view(w, padding_idx_, xt::all()) = T(0);
  weight_ = parameter(std::move(w), "weight");
  weight_.set_sparse_grad(true);
}

template <class T>
Var<T> Embedding<T>::forward(const std::vector<std::int64_t>& ids) const {
  UNROLL_CHECK(!ids.empty(), "{}: no ids", describe());
  for (std::size_t i = 0; i < ids.size(); ++i)
    UNROLL_CHECK(ids[i] >= 0 && ids[i] < num_, "{}: id {} at position {} is out of range [0, {})", describe(), ids[i],
                 i, num_);
  Var<T> y = embedding(weight_, ids);
  if (padding_idx_ < 0) return y;
  bool any = false;
  Mat<T> m = full<T>(ids.size(), dim_, T(1));
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == padding_idx_) {
      xt::view(m, i, xt::all()) = T(0);
      any = true;
    }
  return any ? mask(y, m) : y;  // zero rows: no gradient reaches the padding row
}

template <class T>
std::vector<NamedParam<T>> Embedding<T>::parameters() {
  return {{"weight", weight_}};
}

template <class T>
std::string Embedding<T>::describe() const {
  if (padding_idx_ >= 0) return fmt::format("Embedding({}, {}, padding_idx={})", num_, dim_, padding_idx_);
  return fmt::format("Embedding({}, {})", num_, dim_);
}

template class Embedding<float>;
template class Embedding<double>;

}  // namespace unroll
