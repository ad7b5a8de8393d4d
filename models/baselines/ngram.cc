// models/baselines/ngram.cc — counting (raw or Kneser-Ney continuation) and the recursive interpolation.
#include "models/baselines/ngram.h"

#include "models/data/common.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace unroll::baselines {

using data::DataError;

InterpolatedNgram::InterpolatedNgram(const NgramOptions& options) : o_(options) {
  if (o_.order < 1) throw DataError("InterpolatedNgram: order 0, expected >= 1");
  if (!(o_.discount > 0 && o_.discount <= 1))
    throw DataError(fmt::format("InterpolatedNgram: discount {}, expected in (0, 1]", o_.discount));
  if (o_.id_space < 1 || o_.num_outcomes < 1)
    throw DataError(fmt::format("InterpolatedNgram: id_space {} and num_outcomes {}, expected both >= 1", o_.id_space,
                                o_.num_outcomes));
  while ((std::uint64_t{1} << bits_) < o_.id_space) ++bits_;
  bits_ = std::max(bits_, 1u);
  if (o_.order * bits_ > 64)
    throw DataError(fmt::format("InterpolatedNgram: order {} x {} bits per id does not fit a 64-bit key", o_.order, bits_));
  grams_.resize(o_.order);
  contexts_.resize(o_.order);
}

void InterpolatedNgram::check_id(std::int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= o_.id_space)
    throw DataError(fmt::format("InterpolatedNgram: id {} out of range, expected 0..{}", id, o_.id_space - 1));
}

std::uint64_t InterpolatedNgram::key(const std::int64_t* ids, std::size_t n) const {
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < n; ++i) k = (k << bits_) | static_cast<std::uint64_t>(ids[i]);
  return k;
}

void InterpolatedNgram::fit(const std::vector<std::vector<std::int64_t>>& sequences) {
  const std::size_t N = o_.order;
  const std::size_t lowest_raw = o_.kneser_ney ? N : 1;  // orders counted directly from the text
  for (const auto& seq : sequences) {
    for (auto id : seq) check_id(id);
    for (std::size_t i = 0; i < seq.size(); ++i)
      for (std::size_t k = lowest_raw; k <= N && k <= i + 1; ++k) grams_[k - 1][key(&seq[i + 1 - k], k)] += 1;
  }
  if (o_.kneser_ney)  // N1+(. w_2..w_k): one per distinct (k+1)-gram type with that suffix
    for (std::size_t k = N - 1; k >= 1; --k) {
      const std::uint64_t mask = k * bits_ >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << (k * bits_)) - 1;
      for (const auto& [g, c] : grams_[k]) grams_[k - 1][g & mask] += 1;
    }
  for (std::size_t k = 1; k <= N; ++k)
    for (const auto& [g, c] : grams_[k - 1]) {
      auto& ctx = contexts_[k - 1][g >> bits_];
      ctx.total += c;
      ctx.types += 1;
    }
}

double InterpolatedNgram::prob(const std::int64_t* history, std::size_t len, std::int64_t w) const {
  check_id(w);
  const double D = o_.discount;
  double p = 1.0 / static_cast<double>(o_.num_outcomes);
  for (std::size_t k = 1; k <= o_.order && k - 1 <= len; ++k) {
    const std::int64_t* h = history + (len - (k - 1));
    const std::uint64_t hk = key(h, k - 1);
    auto cit = contexts_[k - 1].find(hk);
    if (cit == contexts_[k - 1].end()) break;  // unseen context: so are all longer ones
    auto git = grams_[k - 1].find((hk << bits_) | static_cast<std::uint64_t>(w));
    const double c = git == grams_[k - 1].end() ? 0.0 : git->second;
    p = (std::max(c - D, 0.0) + D * cit->second.types * p) / cit->second.total;
  }
  return p;
}

double InterpolatedNgram::log2_prob(const std::vector<std::int64_t>& seq, std::size_t from) const {
  double s = 0;
  for (std::size_t i = from; i < seq.size(); ++i) {
    const std::size_t len = std::min(i, o_.order - 1);
    s += std::log2(prob(seq.data() + (i - len), len, seq[i]));
  }
  return s;
}

}  // namespace unroll::baselines
