// models/baselines/ngram.h — interpolated n-gram models over integer ids, the count-based predecessors of the LMs:
//   absolute discounting: p_k(w|h) = (max(c(hw) - D, 0) + D * N1+(h.) * p_{k-1}(w|h')) / c(h.)   (all raw counts)
//   Kneser-Ney:           the same, but orders below the highest use continuation counts N1+(.h w)
// with p_0 = 1 / num_outcomes (uniform). An unseen context falls back to the lower order unchanged.
// ../shared/DATA.md: char 5-gram, absolute discounting D = 0.75 on fortunes: 2.380 bits/char; word trigram,
// interpolated Kneser-Ney D = 0.75 on Brown: perplexity 157.6.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace unroll::baselines {

struct NgramOptions {
  std::size_t order = 3;            // n, e.g. 5 for the char model
  double discount = 0.75;           // D in (0, 1]
  bool kneser_ney = false;          // continuation counts for the lower orders
  std::size_t id_space = 0;         // ids are in [0, id_space), e.g. Vocab::size()
  std::size_t num_outcomes = 0;     // size of the uniform base distribution, e.g. 10,000 words or 113 chars
};

class InterpolatedNgram {
 public:
  explicit InterpolatedNgram(const NgramOptions& options);  // DataError if order * bits(id_space) > 64
  // Counts every n-gram that lies inside one sequence (no n-gram crosses two sequences). Callable once.
  void fit(const std::vector<std::vector<std::int64_t>>& sequences);
  // P(w | history), using the last order-1 ids of history[0..len).
  double prob(const std::int64_t* history, std::size_t len, std::int64_t w) const;
  // Sum of log2 P(seq[i] | seq[..i]) over positions i >= from (history: as much as the sequence gives).
  double log2_prob(const std::vector<std::int64_t>& seq, std::size_t from = 0) const;
  std::size_t num_ngrams(std::size_t k) const { return grams_.at(k - 1).size(); }

 private:
  struct Context {
    double total = 0;       // sum of counts of the n-grams with this context
    std::uint32_t types = 0;// how many distinct words follow it
  };
  std::uint64_t key(const std::int64_t* ids, std::size_t n) const;
  void check_id(std::int64_t id) const;

  NgramOptions o_;
  unsigned bits_ = 0;
  std::vector<std::unordered_map<std::uint64_t, double>> grams_;     // [k-1]: k-gram -> count
  std::vector<std::unordered_map<std::uint64_t, Context>> contexts_; // [k-1]: (k-1)-gram context -> stats
};

}  // namespace unroll::baselines
