// models/baselines/baselines_main.cc — runs the count-based baselines of ../shared/DATA.md on the real corpora
// (fetched by tools/fetch_data.sh into $UNROLL_DATA or <repo>/data/cache) and prints corpus counts and test numbers.
//   unroll_baselines [all|counts|pos|sentiment|charlm|wordlm|dates] [--data DIR] [--json]
#include "models/baselines/run_baselines.h"
#include "models/data/dates.h"

#include <cstdlib>
#include <fmt/format.h>
#include <string>

namespace {

using nlohmann::json;

void print_counts(const json& c) {
  const auto& b = c["brown"];
  fmt::print("brown: train {} files / {} sentences / {} tokens, {} tags (DATA.md 400 / 46175 / 929728, 178)\n",
             b["train"]["files"].get<int>(), b["train"]["sentences"].get<int>(), b["train"]["tokens"].get<int>(),
             b["train_tags"].get<int>());
  fmt::print("brown: dev {} / {} / {}; test {} / {} / {} (DATA.md test 50 / 5642 / 115803)\n",
             b["dev"]["files"].get<int>(), b["dev"]["sentences"].get<int>(), b["dev"]["tokens"].get<int>(),
             b["test"]["files"].get<int>(), b["test"]["sentences"].get<int>(), b["test"]["tokens"].get<int>());
  fmt::print("brown word LM: {} ids (9998 words + 4 reserved), {} scored outcomes\n", b["lm_vocab_ids"].get<int>(),
             b["lm_scored_outcomes"].get<int>());
  const auto& s = c["sentiment"];
  fmt::print("sentiment: train {} / dev {} / test {} (DATA.md 2400 / 300 / 300), {} entries dropped\n",
             s["train"].get<int>(), s["dev"].get<int>(), s["test"].get<int>(), s["dropped"].get<int>());
  const auto& f = c["fortunes"];
  fmt::print("fortunes: {} files, {} fortunes (DATA.md 14396); train text {} chars, test {} (~1.98 M, ~249 k); "
             "{} char types + <unk>; {} UTF-8 replacements\n",
             f["files"].get<int>(), f["train"].get<int>() + f["dev"].get<int>() + f["test"].get<int>(),
             f["train_chars"].get<int>(), f["test_chars"].get<int>(), f["train_char_types"].get<int>(),
             f["utf8_replaced"].get<int>());
}

void print_result(const json& r) {
  const double v = r["value"], ref = r["reference"];
  const bool pct = r["metric"] == "accuracy" && r["task"] != "sentiment";
  fmt::print("{:<17} {:<42} test {:<13} {:>9} (DATA.md {})  [{:.1f} s]\n", r["task"].get<std::string>(),
             r["baseline"].get<std::string>(), r["metric"].get<std::string>(),
             pct ? fmt::format("{:.2f}%", 100 * v) : fmt::format("{:.4f}", v),
             pct ? fmt::format("{:.1f}%", 100 * ref) : (ref < 10 ? fmt::format("{:.3f}", ref) : fmt::format("{:.1f}", ref)), r["seconds"].get<double>());
}

void print_dates() {
  const auto c = unroll::data::make_date_corpus();
  fmt::print("dates: {} train / {} test pairs (seeds {} / {}); e.g.\n", c.train.size(), c.test.size(),
             unroll::data::dates_train_seed, unroll::data::dates_test_seed);
  for (std::size_t i = 0; i < 5; ++i) fmt::print("  {:<32} -> {}\n", c.train[i].source, c.train[i].target);
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = "all";
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      ::setenv("UNROLL_DATA", argv[++i], 1);
    } else if (a == "--json") {
      as_json = true;
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: unroll_baselines [all|counts|pos|sentiment|charlm|wordlm|dates] [--data DIR] [--json]\n");
      return 0;
    } else {
      what = a;
    }
  }
  try {
    if (what == "dates") {
      print_dates();
      return 0;
    }
    const json out = unroll::baselines::run_baselines(what);
    if (as_json) {
      fmt::print("{}\n", out.dump(2));
      return 0;
    }
    if (out.contains("counts")) print_counts(out["counts"]);
    for (const auto& r : out["results"]) print_result(r);
    if (what == "all") print_dates();
  } catch (const std::exception& e) {
    fmt::print(stderr, "unroll_baselines: {}\n", e.what());
    return 1;
  }
  return 0;
}
