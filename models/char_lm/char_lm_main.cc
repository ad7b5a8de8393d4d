// models/char_lm/char_lm_main.cc — a small stand-alone driver for the char LM (the `unroll` CLI wires the same
// functions): unroll_char_lm <train|eval|sample|score> [--preset demo|full|tiny] [--flag value]... [text...]
#include "models/char_lm/train.h"

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <string>

using namespace unroll::char_lm;

int main(int argc, char** argv) {
  try {
    if (argc < 2) throw std::invalid_argument("usage: unroll_char_lm <train|eval|sample|score> [--preset p] [--flag v]...");
    const std::string cmd = argv[1];
    std::string preset;
    for (int i = 2; i + 1 < argc; ++i)
      if (std::string(argv[i]) == "--preset") preset = argv[i + 1];
    CharLmOptions o = preset_options(preset);
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
      else if (a == "--init-from") o.init_from = v;
      else if (a == "--embed") o.embed = std::stoi(v);
      else if (a == "--hidden") o.hidden = std::stoi(v);
      else if (a == "--layers") o.layers = std::stoi(v);
      else if (a == "--batch") o.batch = std::stoi(v);
      else if (a == "--seq-len") o.seq_len = std::stoi(v);
      else if (a == "--epochs") o.epochs = std::stoi(v);
      else if (a == "--time-limit") o.time_limit = std::stod(v);
      else if (a == "--optimizer") o.optimizer = v;
      else if (a == "--lr") o.lr = std::stod(v);
      else if (a == "--plateau-decay") o.plateau_decay = std::stod(v);
      else if (a == "--clip") o.clip = std::stod(v);
      else if (a == "--max-train-chars") o.max_train_chars = std::stoul(v);
      else if (a == "--max-eval-chars") o.max_eval_chars = std::stoul(v);
      else if (a == "--max-dev-chars") o.max_dev_chars = std::stoul(v);
      else if (a == "--eval-every") o.eval_every = std::stoi(v);
      else if (a == "--log-every") o.log_every = std::stoi(v);
      else if (a == "--seed") o.seed = std::stoull(v);
      else if (a == "--threads") o.threads = std::stoi(v);
      else if (a == "--prompt") o.prompt = v;
      else if (a == "--temperature") o.temperature = std::stod(v);
      else if (a == "--top-k") o.top_k = std::stoi(v);
      else if (a == "--max-chars") o.max_chars = std::stoi(v);
      else if (a == "--samples") o.num_samples = std::stoi(v);
      else throw std::invalid_argument(fmt::format("unknown flag {}", a));
    }
    if (cmd == "train") train_char_lm(o);
    else if (cmd == "eval") eval_char_lm(o);
    else if (cmd == "sample") sample_char_lm(o);
    else if (cmd == "score") score_char_lm(o);
    else throw std::invalid_argument(fmt::format("unknown command '{}' (train, eval, sample, score)", cmd));
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "unroll_char_lm: {}\n", e.what());
    return 1;
  }
}
