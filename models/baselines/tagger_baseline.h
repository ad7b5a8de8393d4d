// models/baselines/tagger_baseline.h — the most-frequent-tag tagger (../shared/DATA.md: 90.9% POS, NER span F1
// 0.859 on Brown test): each word (case kept) gets the tag it had most often in train, ties by the tag seen first;
// an unknown word gets "np" if it starts with a capital A-Z, else "nn".
#pragma once

#include "models/data/brown.h"
#include "models/data/metrics.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace unroll::baselines {

class MostFrequentTagTagger {
 public:
  void fit(const std::vector<data::TaggedSentence>& train);
  std::string predict(std::string_view word) const;
  std::vector<std::string> predict(const std::vector<std::string>& words) const;
  std::size_t num_words() const { return best_.size(); }

 private:
  std::unordered_map<std::string, std::string> best_;
};

struct TaggerScore {
  data::AccuracyCounts pos;        // tag accuracy over tokens
  data::AccuracyCounts name_token; // binary "part of a name" accuracy over tokens
  data::SpanCounts name_spans;     // span F1 of the name task
};
TaggerScore evaluate(const MostFrequentTagTagger& tagger, const std::vector<data::TaggedSentence>& test);

}  // namespace unroll::baselines
