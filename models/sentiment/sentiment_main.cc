// models/sentiment/sentiment_main.cc — a small stand-alone driver for the sentiment classifier (the `unroll` CLI
// wires the same functions): unroll_sentiment <train|eval|predict> [--preset demo|full|tiny] [--flag value]... [text...]
#include "models/sentiment/train.h"

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <string>

using namespace unroll::sentiment;

int main(int argc, char** argv) {
  try {
    if (argc < 2) throw std::invalid_argument("usage: unroll_sentiment <train|eval|predict> [--preset p] [--flag v]...");
    const std::string cmd = argv[1];
    std::string preset;
    for (int i = 2; i + 1 < argc; ++i)
      if (std::string(argv[i]) == "--preset") preset = argv[i + 1];
    SentimentOptions o = preset_options(preset);
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        o.texts.push_back(a);
        continue;
      }
      if (a == "--quiet") { o.quiet = true; continue; }
      if (a == "--unidirectional") { o.bidirectional = false; continue; }
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", a));
      const std::string v = argv[++i];
      if (a == "--preset") continue;
      else if (a == "--data") o.data_dir = v;
      else if (a == "--checkpoint") o.checkpoint = v;
      else if (a == "--ensemble") o.ensemble.push_back(v);
      else if (a == "--embed") o.embed = std::stoi(v);
      else if (a == "--hidden") o.hidden = std::stoi(v);
      else if (a == "--layers") o.layers = std::stoi(v);
      else if (a == "--pooling") o.pooling = v;
      else if (a == "--dropout") o.dropout = std::stod(v);
      else if (a == "--embed-dropout") o.embed_dropout = std::stod(v);
      else if (a == "--word-dropout") o.word_dropout = std::stod(v);
      else if (a == "--min-count") o.min_count = std::stoi(v);
      else if (a == "--batch") o.batch = std::stoi(v);
      else if (a == "--epochs") o.epochs = std::stoi(v);
      else if (a == "--lr") o.lr = std::stod(v);
      else if (a == "--clip") o.clip = std::stod(v);
      else if (a == "--seeds") o.num_seeds = std::stoi(v);
      else if (a == "--seed") o.seed = std::stoull(v);
      else if (a == "--time-limit") o.time_limit = std::stod(v);
      else if (a == "--threads") o.threads = std::stoi(v);
      else throw std::invalid_argument(fmt::format("unknown flag {}", a));
    }
    if (cmd == "train") train_sentiment(o);
    else if (cmd == "eval") eval_sentiment(o);
    else if (cmd == "predict") predict_sentiment(o);
    else throw std::invalid_argument(fmt::format("unknown command '{}' (train, eval, predict)", cmd));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "unroll_sentiment: {}\n", e.what());
    return 1;
  }
}
