// models/data/batching.h — id matrices for the models: padding to [B, T] (row-major std::vector<int64_t> plus
// lengths), a seeded shuffle that is the same on every platform (Fisher-Yates over raw mt19937_64 output, not
// std::shuffle), batch plans with length buckets, and contiguous streams for truncated-BPTT language models.
#pragma once

#include "models/data/vocab.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace unroll::data {

// Legend: B = batch size (rows), T = time steps (columns, the longest sequence in the batch).
struct Batch {
  std::size_t B = 0, T = 0;
  std::vector<std::int64_t> ids;      // [B, T] row-major: ids[b * T + t]; positions t >= lengths[b] hold the pad id
  std::vector<std::int64_t> lengths;  // [B]
  std::vector<std::size_t> index;     // [B] position of each row's sequence in the input list
  std::int64_t at(std::size_t b, std::size_t t) const { return ids[b * T + t]; }
};

// Rows = seqs[which[0]], seqs[which[1]], ... padded with `pad` to the longest; DataError if `which` is out of range.
Batch pad_batch(const std::vector<std::vector<std::int64_t>>& seqs, const std::vector<std::size_t>& which,
                std::int64_t pad = Vocab::pad);
// All of seqs, in order (a distinct name: pad_batch(seqs, {3}) would otherwise silently pick pad = 3).
Batch pad_all(const std::vector<std::vector<std::int64_t>>& seqs, std::int64_t pad = Vocab::pad);

// Uniform in [0, n) from raw 64-bit output; and an in-place Fisher-Yates shuffle, identical across platforms.
std::uint64_t uniform_below(std::uint64_t raw, std::uint64_t n);
void shuffle_indices(std::vector<std::size_t>& v, std::uint64_t seed);

struct BatchPlanOptions {
  std::size_t batch_size = 32;
  bool shuffle = true;          // shuffle the items (and the batch order) with `seed`
  std::uint64_t seed = 0;       // e.g. base seed + epoch, for a new order each epoch
  std::size_t pool_batches = 0; // length buckets: sort pools of pool_batches * batch_size items by length, cut
                                // them into batches (similar lengths, little padding); 0 = no bucketing
  bool drop_last = false;       // drop a final batch smaller than batch_size
};
// Groups item indices 0..lengths.size()-1 into batches; every item appears exactly once (unless drop_last).
std::vector<std::vector<std::size_t>> plan_batches(const std::vector<std::size_t>& lengths, const BatchPlanOptions& options);

// One long id stream cut into B parallel columns for truncated BPTT (the word and char LMs): column b holds
// stream[b * L .. b * L + L] with L = (n - 1) / B; batch k has inputs x[b, t] = column b at k*T + t and targets
// y[b, t] = the next id. The last batch may be shorter than T.
class StreamBatches {
 public:
  StreamBatches(const std::vector<std::int64_t>& stream, std::size_t B, std::size_t T);
  std::size_t num_batches() const { return (L_ + T_ - 1) / T_; }
  std::size_t column_length() const { return L_; }
  // x, y: [B, steps] row-major; returns steps (T, or fewer for the last batch).
  std::size_t get(std::size_t k, std::vector<std::int64_t>& x, std::vector<std::int64_t>& y) const;

 private:
  const std::vector<std::int64_t>& stream_;
  std::size_t B_, T_, L_;
};

}  // namespace unroll::data
