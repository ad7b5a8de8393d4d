// models/tagger/tagger_main.cc — a small stand-alone driver for the Brown tagger (the `unroll` CLI wires the same
// functions): unroll_tagger <train|eval|predict> [--preset demo|full|tiny] [--flag value]... [sentence...]
#include "models/tagger/train.h"

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <string>

using namespace unroll::tagger;

int main(int argc, char** argv) {
  try {
    if (argc < 2) throw std::invalid_argument("usage: unroll_tagger <train|eval|predict> [--preset p] [--flag v]...");
    const std::string cmd = argv[1];
    std::string preset;
    for (int i = 2; i + 1 < argc; ++i)
      if (std::string(argv[i]) == "--preset") preset = argv[i + 1];
    TaggerOptions o = preset_options(preset);
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        o.texts.push_back(a);
        continue;
      }
      if (a == "--resume") { o.resume = true; continue; }
      if (a == "--quiet") { o.quiet = true; continue; }
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", a));
      const std::string v = argv[++i];
      if (a == "--preset") continue;
      else if (a == "--data") o.data_dir = v;
      else if (a == "--checkpoint") o.checkpoint = v;
      else if (a == "--word-embed") o.word_embed = std::stoi(v);
      else if (a == "--char-embed") o.char_embed = std::stoi(v);
      else if (a == "--char-hidden") o.char_hidden = std::stoi(v);
      else if (a == "--hidden") o.hidden = std::stoi(v);
      else if (a == "--layers") o.layers = std::stoi(v);
      else if (a == "--dropout") o.dropout = std::stod(v);
      else if (a == "--unk-replace") o.unk_replace = std::stod(v);
      else if (a == "--max-word-chars") o.max_word_chars = std::stoi(v);
      else if (a == "--batch") o.batch = std::stoi(v);
      else if (a == "--epochs") o.epochs = std::stoi(v);
      else if (a == "--lr") o.lr = std::stod(v);
      else if (a == "--lr-decay") o.lr_decay = std::stod(v);
      else if (a == "--clip") o.clip = std::stod(v);
      else if (a == "--ner-weight") o.ner_weight = std::stod(v);
      else if (a == "--time-limit") o.time_limit = std::stod(v);
      else if (a == "--eval-every") o.eval_every = std::stoi(v);
      else if (a == "--max-train-sentences") o.max_train_sentences = std::stoul(v);
      else if (a == "--max-dev-sentences") o.max_dev_sentences = std::stoul(v);
      else if (a == "--max-eval-sentences") o.max_eval_sentences = std::stoul(v);
      else if (a == "--log-every") o.log_every = std::stoi(v);
      else if (a == "--seed") o.seed = std::stoull(v);
      else if (a == "--threads") o.threads = std::stoi(v);
      else throw std::invalid_argument(fmt::format("unknown flag {}", a));
    }
    if (cmd == "train") train_tagger(o);
    else if (cmd == "eval") eval_tagger(o);
    else if (cmd == "predict") predict_tagger(o);
    else throw std::invalid_argument(fmt::format("unknown command '{}' (train, eval, predict)", cmd));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "unroll_tagger: {}\n", e.what());
    return 1;
  }
}
