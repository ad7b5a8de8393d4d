// models/baselines/tagger_baseline.cc — counts (word, tag) in train, keeps the argmax per word.
#include "models/baselines/tagger_baseline.h"

#include "models/data/tokenize.h"
#include "models/data/vocab.h"

namespace unroll::baselines {

void MostFrequentTagTagger::fit(const std::vector<data::TaggedSentence>& train) {
  std::unordered_map<std::string, data::Counter> counts;  // word -> tag counts, in first-seen order
  for (const auto& s : train)
    for (std::size_t i = 0; i < s.words.size(); ++i) counts[s.words[i]].add(s.tags[i]);
  best_.clear();
  for (const auto& [word, tags] : counts) best_.emplace(word, tags.most_common().front().first);
}

std::string MostFrequentTagTagger::predict(std::string_view word) const {
  if (auto it = best_.find(std::string(word)); it != best_.end()) return it->second;
  return data::starts_upper_ascii(word) ? "np" : "nn";
}

std::vector<std::string> MostFrequentTagTagger::predict(const std::vector<std::string>& words) const {
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const auto& w : words) out.push_back(predict(w));
  return out;
}

TaggerScore evaluate(const MostFrequentTagTagger& tagger, const std::vector<data::TaggedSentence>& test) {
  TaggerScore score;
  for (const auto& s : test) {
    const auto pred = tagger.predict(s.words);
    std::vector<int> gold_names = data::name_labels(s), pred_names(pred.size());
    for (std::size_t i = 0; i < pred.size(); ++i) {
      pred_names[i] = data::is_name_tag(pred[i]) ? 1 : 0;
      score.pos.add(pred[i] == s.tags[i]);
      score.name_token.add(pred_names[i] == gold_names[i]);
    }
    score.name_spans.add(gold_names, pred_names);
  }
  return score;
}

}  // namespace unroll::baselines
