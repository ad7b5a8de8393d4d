// tests/test_data_corpora.cc — the real corpora against ../shared/DATA.md's counts, when tools/fetch_data.sh has
// filled the cache ($UNROLL_DATA or data/cache); without the cache the test says so and passes (CI has no network).
// About 1 s in a Release build. The count baselines on the same data: build/models/unroll_baselines.
#include "models/data/brown.h"
#include "models/data/fortunes.h"
#include "models/data/sentiment.h"
#include "models/data/utf8.h"
#include "models/data/vocab.h"

#include <doctest/doctest.h>

#include <set>

using namespace unroll::data;

TEST_CASE("corpora: the fetched Brown, sentiment and fortunes match DATA.md's counts") {
  std::error_code ec;
  if (!std::filesystem::is_directory(default_brown_dir(), ec) || !std::filesystem::is_directory(default_sentiment_dir(), ec) ||
      !std::filesystem::is_directory(default_fortunes_dir(), ec)) {
    MESSAGE("no data cache at " << data_root().string() << " (run tools/fetch_data.sh): real-corpus counts not checked");
    return;
  }
  const auto brown = load_brown();
  CHECK(brown.files == std::array<std::size_t, 3>{400, 50, 50});
  CHECK(brown.train.size() == 46175);
  CHECK(count_tokens(brown.train) == 929728);
  CHECK(brown.test.size() == 5642);
  CHECK(count_tokens(brown.test) == 115803);
  std::set<std::string> tags;
  for (const auto& s : brown.train) tags.insert(s.tags.begin(), s.tags.end());
  CHECK(tags.size() == 178);
  CHECK(brown_lm_vocab(brown.train).size() == brown_lm_max_words + Vocab::num_reserved);

  const auto senti = load_sentiment();
  CHECK(senti.train.size() == 2400);
  CHECK(senti.dev.size() == 300);
  CHECK(senti.test.size() == 300);
  CHECK(senti.dropped == 3);

  const auto fortunes = load_fortunes();
  CHECK(fortunes.train.size() + fortunes.dev.size() + fortunes.test.size() == 14396);
  const auto train_text = join_fortunes(fortunes.train);
  CHECK(utf8_decode(train_text).size() == 1976009);
  CHECK(utf8_decode(join_fortunes(fortunes.test)).size() == 249405);
  CHECK(CharVocab::build(train_text).scored_size() == 113);
}
