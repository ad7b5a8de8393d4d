// models/baselines/naive_bayes.h — naive Bayes over a binary bag of words (../shared/DATA.md: 0.820 test accuracy
// on the sentiment sentences): multinomial NB where each document counts a word at most once (the binarized
// MNB of Wang & Manning 2012), add-one smoothing over the train vocabulary, words unseen in train ignored.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace unroll::baselines {

class BinaryNaiveBayes {
 public:
  explicit BinaryNaiveBayes(double alpha = 1.0) : alpha_(alpha) {}
  // docs[i] = tokens of document i, labels[i] in {0, 1}; DataError on a size mismatch or another label.
  void fit(const std::vector<std::vector<std::string>>& docs, const std::vector<int>& labels);
  // log P(c) + sum over distinct known words of log P(w | c), for c = 0, 1.
  std::array<double, 2> log_scores(const std::vector<std::string>& tokens) const;
  int predict(const std::vector<std::string>& tokens) const;  // 1 when score[1] > score[0]
  std::size_t vocabulary_size() const { return counts_.size(); }

 private:
  double alpha_;
  std::unordered_map<std::string, std::array<double, 2>> counts_;  // documents of class c containing w
  std::array<double, 2> docs_{}, total_{};                         // documents and summed counts per class
};

}  // namespace unroll::baselines
