// models/baselines/run_baselines.h — the count baselines of ../shared/DATA.md run end to end on the fetched corpora,
// as library calls (for unroll_baselines and for any other CLI that wants them). Each returns a JSON object:
//   {"task", "baseline", "metric", "value", "reference", "seconds", ...extra fields}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace unroll::baselines {

nlohmann::json corpus_counts();        // sentences/tokens/files per split, tags, fortunes, vocabulary sizes
nlohmann::json run_pos_ner_baseline(); // most-frequent tag: POS accuracy (90.9%) and NER span F1 (0.859); two results
nlohmann::json run_sentiment_baseline();  // binary naive Bayes: accuracy (0.820)
nlohmann::json run_char_ngram_baseline(); // char 5-gram, absolute discounting D=0.75: bits/char (2.380)
nlohmann::json run_word_kn_baseline();    // word trigram, interpolated Kneser-Ney D=0.75: perplexity (157.6)

// "all" or one of: counts, pos, sentiment, charlm, wordlm. DataError for an unknown name.
nlohmann::json run_baselines(const std::string& which);
const std::vector<std::string>& baseline_names();

}  // namespace unroll::baselines
