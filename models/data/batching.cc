// models/data/batching.cc — padding, the portable shuffle, bucketed batch plans, LM streams.
#include "models/data/batching.h"

#include "models/data/common.h"

#include <algorithm>
#include <fmt/format.h>
#include <numeric>
#include <random>

namespace unroll::data {

Batch pad_batch(const std::vector<std::vector<std::int64_t>>& seqs, const std::vector<std::size_t>& which,
                std::int64_t pad) {
  Batch b;
  b.B = which.size();
  for (std::size_t i : which) {
    if (i >= seqs.size())
      throw DataError(fmt::format("pad_batch: index {} out of range, expected < {} sequences", i, seqs.size()));
    b.T = std::max(b.T, seqs[i].size());
  }
  b.ids.assign(b.B * b.T, pad);
  b.lengths.resize(b.B);
  b.index = which;
  for (std::size_t r = 0; r < b.B; ++r) {
    const auto& s = seqs[which[r]];
    std::copy(s.begin(), s.end(), b.ids.begin() + static_cast<std::ptrdiff_t>(r * b.T));
    b.lengths[r] = static_cast<std::int64_t>(s.size());
  }
  return b;
}

Batch pad_all(const std::vector<std::vector<std::int64_t>>& seqs, std::int64_t pad) {
  std::vector<std::size_t> all(seqs.size());
  std::iota(all.begin(), all.end(), 0);
  return pad_batch(seqs, all, pad);
}

std::uint64_t uniform_below(std::uint64_t raw, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(raw) * n) >> 64);
}

void shuffle_indices(std::vector<std::size_t>& v, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(g(), i)]);
}

std::vector<std::vector<std::size_t>> plan_batches(const std::vector<std::size_t>& lengths,
                                                   const BatchPlanOptions& o) {
  if (o.batch_size == 0) throw DataError("plan_batches: batch_size is 0, expected >= 1");
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  if (o.shuffle) shuffle_indices(order, o.seed);
  if (o.pool_batches > 0) {
    const std::size_t pool = o.pool_batches * o.batch_size;
    for (std::size_t s = 0; s < order.size(); s += pool) {
      auto first = order.begin() + static_cast<std::ptrdiff_t>(s);
      auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), s + pool));
      std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    }
  }
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t s = 0; s < order.size(); s += o.batch_size) {
    const std::size_t e = std::min(order.size(), s + o.batch_size);
    if (o.drop_last && e - s < o.batch_size) break;
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(s), order.begin() + static_cast<std::ptrdiff_t>(e));
  }
  if (o.shuffle && o.pool_batches > 0) {  // sorted pools would otherwise give short-to-long batches in order
    std::vector<std::size_t> perm(batches.size());
    std::iota(perm.begin(), perm.end(), 0);
    shuffle_indices(perm, o.seed ^ 0x9E3779B97F4A7C15ULL);
    std::vector<std::vector<std::size_t>> shuffled;
    shuffled.reserve(batches.size());
    for (std::size_t i : perm) shuffled.push_back(std::move(batches[i]));
    batches = std::move(shuffled);
  }
  return batches;
}

StreamBatches::StreamBatches(const std::vector<std::int64_t>& stream, std::size_t B, std::size_t T)
    : stream_(stream), B_(B), T_(T), L_(0) {
  if (B == 0 || T == 0) throw DataError(fmt::format("StreamBatches: B = {}, T = {}, expected both >= 1", B, T));
  if (stream.size() < B + 1)
    throw DataError(fmt::format("StreamBatches: stream of {} ids is too short for B = {} columns (need >= {})",
                                stream.size(), B, B + 1));
  L_ = (stream.size() - 1) / B;
}

std::size_t StreamBatches::get(std::size_t k, std::vector<std::int64_t>& x, std::vector<std::int64_t>& y) const {
  if (k >= num_batches())
    throw DataError(fmt::format("StreamBatches::get: batch {} out of range, expected < {}", k, num_batches()));
  const std::size_t t0 = k * T_, steps = std::min(T_, L_ - t0);
  x.resize(B_ * steps);
  y.resize(B_ * steps);
  for (std::size_t b = 0; b < B_; ++b)
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t p = b * L_ + t0 + t;
      x[b * steps + t] = stream_[p];
      y[b * steps + t] = stream_[p + 1];
    }
  return steps;
}

}  // namespace unroll::data
