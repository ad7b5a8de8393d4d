// models/baselines/baselines_main.cc — runs the count-based baselines of ../shared/DATA.md on the real corpora
// (fetched by tools/fetch_data.sh into $UNROLL_DATA or ./data/cache) and prints corpus counts and test numbers.
//   unroll_baselines [all|counts|pos|sentiment|charlm|wordlm|dates] [--data DIR]
#include "models/baselines/naive_bayes.h"
#include "models/baselines/ngram.h"
#include "models/baselines/tagger_baseline.h"
#include "models/data/brown.h"
#include "models/data/dates.h"
#include "models/data/fortunes.h"
#include "models/data/sentiment.h"
#include "models/data/tokenize.h"
#include "models/data/utf8.h"
#include "models/data/vocab.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <set>
#include <string>

namespace {

using namespace unroll;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void run_counts() {
  const auto brown = data::load_brown();
  std::set<std::string> tags;
  for (const auto& s : brown.train) tags.insert(s.tags.begin(), s.tags.end());
  fmt::print("brown: train {} files / {} sentences / {} tokens (DATA.md 400 / 46,175 / 929,728); {} tags (178)\n",
             brown.files[0], brown.train.size(), data::count_tokens(brown.train), tags.size());
  fmt::print("brown: dev {} files / {} sentences / {} tokens; test {} files / {} sentences / {} tokens "
             "(DATA.md 50 / 5,642 / 115,803)\n",
             brown.files[1], brown.dev.size(), data::count_tokens(brown.dev), brown.files[2], brown.test.size(),
             data::count_tokens(brown.test));
  const auto senti = data::load_sentiment();
  fmt::print("sentiment: train {} / dev {} / test {} (DATA.md 2,400 / 300 / 300), {} entries dropped (3)\n",
             senti.train.size(), senti.dev.size(), senti.test.size(), senti.dropped);
  const auto fort = data::load_fortunes();
  const std::size_t n = fort.train.size() + fort.dev.size() + fort.test.size();
  const auto train_text = data::join_fortunes(fort.train), test_text = data::join_fortunes(fort.test);
  const auto cv = data::CharVocab::build(train_text);
  fmt::print("fortunes: {} files, {} fortunes (DATA.md 14,396): train {} / dev {} / test {}; {} UTF-8 replacements\n",
             fort.files.size(), n, fort.train.size(), fort.dev.size(), fort.test.size(), fort.utf8_replaced);
  fmt::print("fortunes: train text {} chars (~1.98 M), test text {} chars (~249 k); {} chars seen in train + <unk> = {}\n",
             data::utf8_decode(train_text).size(), data::utf8_decode(test_text).size(), cv.scored_size() - 1,
             cv.scored_size());
  const auto lmv = data::brown_lm_vocab(brown.train);
  fmt::print("brown word LM: vocabulary {} ids = {} words + 4 reserved; scored outcomes {}\n", lmv.size(),
             lmv.size() - data::Vocab::num_reserved, data::brown_lm_num_outcomes);
}

void run_pos() {
  const auto t0 = Clock::now();
  const auto brown = data::load_brown();
  baselines::MostFrequentTagTagger tagger;
  tagger.fit(brown.train);
  const auto s = baselines::evaluate(tagger, brown.test);
  fmt::print("Brown POS, most-frequent tag: test accuracy {:.2f}% (DATA.md 90.9%)\n", 100 * s.pos.value());
  fmt::print("Brown NER (np), most-frequent tag: span F1 {:.4f} (DATA.md 0.859), P {:.4f} R {:.4f}, token acc {:.2f}%  [{:.1f} s]\n",
             s.name_spans.f1(), s.name_spans.precision(), s.name_spans.recall(), 100 * s.name_token.value(),
             seconds_since(t0));
}

void run_sentiment() {
  const auto t0 = Clock::now();
  const auto c = data::load_sentiment();
  std::vector<std::vector<std::string>> docs;
  std::vector<int> labels;
  for (const auto& it : c.train) {
    docs.push_back(data::tokenize_sentiment(it.text));
    labels.push_back(it.label);
  }
  baselines::BinaryNaiveBayes nb;
  nb.fit(docs, labels);
  data::AccuracyCounts acc;
  for (const auto& it : c.test) acc.add(nb.predict(data::tokenize_sentiment(it.text)) == it.label);
  fmt::print("Sentiment, naive Bayes binary BoW: test accuracy {:.4f} ({}/{}) (DATA.md 0.820)  [{:.1f} s]\n", acc.value(),
             acc.correct, acc.total, seconds_since(t0));
}

void run_charlm() {
  const auto t0 = Clock::now();
  const auto f = data::load_fortunes();
  const auto train_text = data::join_fortunes(f.train), test_text = data::join_fortunes(f.test);
  const auto cv = data::CharVocab::build(train_text);
  baselines::InterpolatedNgram lm({.order = 5, .discount = 0.75, .kneser_ney = false, .id_space = cv.size(),
                                   .num_outcomes = cv.scored_size()});
  lm.fit({cv.encode(train_text)});
  const auto test_ids = cv.encode(test_text);
  const double bits = -lm.log2_prob(test_ids) / static_cast<double>(test_ids.size());
  fmt::print("Fortunes, char 5-gram absolute discounting D=0.75: test {:.4f} bits/char over {} chars (DATA.md 2.380)  [{:.1f} s]\n",
             bits, test_ids.size(), seconds_since(t0));
}

void run_wordlm() {
  const auto t0 = Clock::now();
  const auto brown = data::load_brown();
  const auto vocab = data::brown_lm_vocab(brown.train);
  // Each sentence is one sequence, preceded by two <eos> as its start context (the end of "the previous sentence").
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
  baselines::InterpolatedNgram lm({.order = 3, .discount = 0.75, .kneser_ney = true, .id_space = vocab.size(),
                                   .num_outcomes = data::brown_lm_num_outcomes});
  lm.fit(sequences(brown.train));
  double log2p = 0;
  std::size_t n = 0;
  for (const auto& s : sequences(brown.test)) {
    log2p += lm.log2_prob(s, 2);
    n += s.size() - 2;
  }
  fmt::print("Brown word LM, interpolated Kneser-Ney trigram D=0.75: test perplexity {:.2f} over {} tokens (DATA.md 157.6)  [{:.1f} s]\n",
             std::exp2(-log2p / static_cast<double>(n)), n, seconds_since(t0));
}

void run_dates() {
  const auto c = data::make_date_corpus();
  fmt::print("dates: {} train / {} test pairs (seeds {} / {}); e.g.\n", c.train.size(), c.test.size(),
             data::dates_train_seed, data::dates_test_seed);
  for (std::size_t i = 0; i < 5; ++i) fmt::print("  {:<32} -> {}\n", c.train[i].source, c.train[i].target);
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = "all";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      ::setenv("UNROLL_DATA", argv[++i], 1);
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: unroll_baselines [all|counts|pos|sentiment|charlm|wordlm|dates] [--data DIR]\n");
      return 0;
    } else {
      what = a;
    }
  }
  try {
    if (what == "all" || what == "counts") run_counts();
    if (what == "all" || what == "pos") run_pos();
    if (what == "all" || what == "sentiment") run_sentiment();
    if (what == "all" || what == "charlm") run_charlm();
    if (what == "all" || what == "wordlm") run_wordlm();
    if (what == "all" || what == "dates") run_dates();
    if (what != "all" && what != "counts" && what != "pos" && what != "sentiment" && what != "charlm" &&
        what != "wordlm" && what != "dates") {
      fmt::print(stderr, "unroll_baselines: unknown command '{}' (try --help)\n", what);
      return 2;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "unroll_baselines: {}\n", e.what());
    return 1;
  }
  return 0;
}
