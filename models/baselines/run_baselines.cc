// models/baselines/run_baselines.cc — load a corpus, fit a count baseline on train, score test, report JSON.
#include "models/baselines/run_baselines.h"

#include "models/baselines/naive_bayes.h"
#include "models/baselines/ngram.h"
#include "models/baselines/tagger_baseline.h"
#include "models/data/brown.h"
#include "models/data/fortunes.h"
#include "models/data/sentiment.h"
#include "models/data/tokenize.h"
#include "models/data/utf8.h"
#include "models/data/vocab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <set>

namespace unroll::baselines {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

nlohmann::json result(const char* task, const char* baseline, const char* metric, double value, double reference,
                      Clock::time_point t0) {
  return {{"task", task}, {"baseline", baseline}, {"metric", metric}, {"value", value}, {"reference", reference},
          {"seconds", seconds_since(t0)}};
}

nlohmann::json split_counts(const std::vector<data::TaggedSentence>& s, std::size_t files) {
  return {{"files", files}, {"sentences", s.size()}, {"tokens", data::count_tokens(s)}};
}

}  // namespace

nlohmann::json corpus_counts() {
  const auto brown = data::load_brown();
  std::set<std::string> tags;
  for (const auto& s : brown.train) tags.insert(s.tags.begin(), s.tags.end());
  const auto senti = data::load_sentiment();
  const auto fort = data::load_fortunes();
  const auto train_text = data::join_fortunes(fort.train), test_text = data::join_fortunes(fort.test);
  const auto cv = data::CharVocab::build(train_text);
  const auto lmv = data::brown_lm_vocab(brown.train);
  return {
      {"brown",
       {{"train", split_counts(brown.train, brown.files[0])}, {"dev", split_counts(brown.dev, brown.files[1])},
        {"test", split_counts(brown.test, brown.files[2])}, {"train_tags", tags.size()},
        {"lm_vocab_ids", lmv.size()}, {"lm_scored_outcomes", data::brown_lm_num_outcomes},
        {"utf8_replaced", brown.utf8_replaced}}},
      {"sentiment",
       {{"train", senti.train.size()}, {"dev", senti.dev.size()}, {"test", senti.test.size()},
        {"dropped", senti.dropped}, {"utf8_replaced", senti.utf8_replaced}}},
      {"fortunes",
       {{"files", fort.files.size()}, {"train", fort.train.size()}, {"dev", fort.dev.size()}, {"test", fort.test.size()},
        {"train_chars", data::utf8_decode(train_text).size()}, {"test_chars", data::utf8_decode(test_text).size()},
        {"train_char_types", cv.scored_size() - 1}, {"utf8_replaced", fort.utf8_replaced}}},
  };
}

nlohmann::json run_pos_ner_baseline() {
  const auto t0 = Clock::now();
  const auto brown = data::load_brown();
  MostFrequentTagTagger tagger;
  tagger.fit(brown.train);
  const auto s = evaluate(tagger, brown.test);
  auto pos = result("brown_pos", "most-frequent tag", "accuracy", s.pos.value(), 0.909, t0);
  auto ner = result("brown_ner", "most-frequent tag", "span_f1", s.name_spans.f1(), 0.859, t0);
  ner["precision"] = s.name_spans.precision();
  ner["recall"] = s.name_spans.recall();
  ner["token_accuracy"] = s.name_token.value();
  return nlohmann::json::array({pos, ner});
}

nlohmann::json run_sentiment_baseline() {
  const auto t0 = Clock::now();
  const auto c = data::load_sentiment();
  std::vector<std::vector<std::string>> docs;
  std::vector<int> labels;
  for (const auto& it : c.train) {
    docs.push_back(data::tokenize_sentiment(it.text));
    labels.push_back(it.label);
  }
  BinaryNaiveBayes nb;
  nb.fit(docs, labels);
  data::AccuracyCounts acc;
  for (const auto& it : c.test) acc.add(nb.predict(data::tokenize_sentiment(it.text)) == it.label);
  auto r = result("sentiment", "naive Bayes, binary bag of words", "accuracy", acc.value(), 0.820, t0);
  r["correct"] = acc.correct;
  r["total"] = acc.total;
  return r;
}

nlohmann::json run_char_ngram_baseline() {
  const auto t0 = Clock::now();
  const auto f = data::load_fortunes();
  const auto train_text = data::join_fortunes(f.train), test_text = data::join_fortunes(f.test);
  const auto cv = data::CharVocab::build(train_text);
  InterpolatedNgram lm({.order = 5, .discount = 0.75, .kneser_ney = false, .id_space = cv.size(),
                        .num_outcomes = cv.scored_size()});
  lm.fit({cv.encode(train_text)});
  const auto test_ids = cv.encode(test_text);
  const double bits = -lm.log2_prob(test_ids) / static_cast<double>(test_ids.size());
  auto r = result("fortunes_char_lm", "char 5-gram, absolute discounting D=0.75", "bits_per_char", bits, 2.380, t0);
  r["test_chars"] = test_ids.size();
  return r;
}

nlohmann::json run_word_kn_baseline() {
  const auto t0 = Clock::now();
  const auto brown = data::load_brown();
  const auto vocab = data::brown_lm_vocab(brown.train);
  // Each sentence is one sequence after two <eos> (its start context, "the end of the previous sentence"); every
  // word and the final <eos> are scored. Ties at the vocabulary cut: first occurrence (reproduces 157.6).
  const auto sequences = [&](const std::vector<data::TaggedSentence>& split) {
    std::vector<std::vector<std::int64_t>> out;
    for (const auto& s : split) {
      std::vector<std::int64_t> ids = {data::Vocab::eos, data::Vocab::eos};
      for (const auto& w : s.words) ids.push_back(vocab.id(data::to_lower_ascii(w)));
      ids.push_back(data::Vocab::eos);
      out.push_back(std::move(ids));
    }
    return out;
  };
  InterpolatedNgram lm({.order = 3, .discount = 0.75, .kneser_ney = true, .id_space = vocab.size(),
                        .num_outcomes = data::brown_lm_num_outcomes});
  lm.fit(sequences(brown.train));
  double log2p = 0;
  std::size_t n = 0;
  for (const auto& s : sequences(brown.test)) {
    log2p += lm.log2_prob(s, 2);
    n += s.size() - 2;
  }
  auto r = result("brown_word_lm", "interpolated Kneser-Ney trigram D=0.75", "perplexity",
                  std::exp2(-log2p / static_cast<double>(n)), 157.6, t0);
  r["test_tokens"] = n;
  return r;
}

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> names = {"counts", "pos", "sentiment", "charlm", "wordlm"};
  return names;
}

nlohmann::json run_baselines(const std::string& which) {
  const bool all = which == "all";
  if (!all && std::find(baseline_names().begin(), baseline_names().end(), which) == baseline_names().end())
    throw data::DataError(fmt::format("run_baselines: unknown baseline '{}', expected all, counts, pos, sentiment, "
                                      "charlm or wordlm", which));
  nlohmann::json out = {{"results", nlohmann::json::array()}};
  if (all || which == "counts") out["counts"] = corpus_counts();
  if (all || which == "pos")
    for (auto& r : run_pos_ner_baseline()) out["results"].push_back(r);
  if (all || which == "sentiment") out["results"].push_back(run_sentiment_baseline());
  if (all || which == "charlm") out["results"].push_back(run_char_ngram_baseline());
  if (all || which == "wordlm") out["results"].push_back(run_word_kn_baseline());
  return out;
}

}  // namespace unroll::baselines
