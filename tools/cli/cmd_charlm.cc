// tools/cli/cmd_charlm.cc — `unroll train|eval|sample|score charlm`: the character LM on fortunes
// (models/char_lm). Flags map one-to-one onto CharLmOptions; --preset picks the defaults they override.
#include "tools/cli/commands.h"
#include "tools/cli/model_flags.h"

#include "models/char_lm/train.h"

#include <memory>

namespace unroll::cli {
namespace {

using char_lm::CharLmOptions;

struct Verb {
  const char* name;
  const char* help;
  const char* model_help;
};
const Verb kVerbs[] = {
    {"train", "train a zoo model", "train the character LSTM LM on fortunes (checkpoint, learning curve CSV/SVG)"},
    {"eval", "evaluate a zoo model on its test split", "test bits/char of a char LM checkpoint"},
    {"sample", "generate from a zoo model", "sample fortunes character by character (temperature, top-k, prompt)"},
    {"score", "score texts with a zoo model", "log P(text) and bits/char of each text, ranked best first"},
};

std::map<std::string, std::pair<std::string*, std::unique_ptr<ModelFlags<CharLmOptions>>>> flags;
std::map<std::string, std::string> presets;

void setup(CLI::App& app, const Verb& v) {
  CLI::App* sub = verb(app, v.name, v.help)->add_subcommand("charlm", v.model_help);
  auto f = std::make_unique<ModelFlags<CharLmOptions>>(sub);
  std::string& preset = presets[v.name];
  sub->add_option("--preset", preset, "demo (1x128, minutes), full (2x256, the reference run) or tiny");
  f->add("--data", &CharLmOptions::data_dir, "fortunes folder (default: the fetched cache)")
      .add("--checkpoint", &CharLmOptions::checkpoint, "model file (.safetensors)")
      .add("--seed", &CharLmOptions::seed, "random seed")
      .add("--threads", &CharLmOptions::threads, "BLAS threads")
      .flag("--quiet", &CharLmOptions::quiet, "print nothing");
  const std::string name = v.name;
  if (name == "train") {
    f->add("--embed", &CharLmOptions::embed, "embedding size E")
        .add("--hidden", &CharLmOptions::hidden, "LSTM hidden size H")
        .add("--layers", &CharLmOptions::layers, "LSTM layers")
        .add("--batch", &CharLmOptions::batch, "parallel streams B")
        .add("--seq-len", &CharLmOptions::seq_len, "truncated-BPTT length T")
        .add("--epochs", &CharLmOptions::epochs, "passes over train (upper bound)")
        .add("--time-limit", &CharLmOptions::time_limit, "seconds of training (0: none)")
        .add("--optimizer", &CharLmOptions::optimizer, "adam or sgd")
        .add("--lr", &CharLmOptions::lr, "learning rate")
        .add("--plateau-decay", &CharLmOptions::plateau_decay, "lr factor when dev does not improve")
        .add("--clip", &CharLmOptions::clip, "max global gradient norm (0: off)")
        .add("--max-train-chars", &CharLmOptions::max_train_chars, "use the first n train characters (0: all)")
        .add("--max-dev-chars", &CharLmOptions::max_dev_chars, "dev evaluations on the first n characters")
        .add("--max-eval-chars", &CharLmOptions::max_eval_chars, "test evaluation on the first n characters")
        .add("--eval-every", &CharLmOptions::eval_every, "dev evaluation every n steps (0: each epoch)")
        .add("--log-every", &CharLmOptions::log_every, "progress line every n steps")
        .add("--init-from", &CharLmOptions::init_from, "start from this model file's weights, with a new optimizer")
        .flag("--resume", &CharLmOptions::resume, "continue from the training checkpoint");
  }
  if (name == "eval") f->add("--max-eval-chars", &CharLmOptions::max_eval_chars, "evaluate the first n characters");
  if (name == "sample")
    f->add("--prompt", &CharLmOptions::prompt, "the fortune starts with this text")
        .add("--temperature", &CharLmOptions::temperature, "> 0; below 1 sharper, above 1 flatter")
        .add("--top-k", &CharLmOptions::top_k, "sample among the k most likely characters (0: all)")
        .add("--max-chars", &CharLmOptions::max_chars, "stop after this many characters")
        .add("--samples", &CharLmOptions::num_samples, "how many fortunes");
  if (name == "score") f->positional("texts", &CharLmOptions::texts, "texts to score and rank", true);
  flags[name] = {&preset, std::move(f)};
}

int run(const std::string& verb_name) {
  auto& [preset, f] = flags.at(verb_name);
  CharLmOptions o = f->apply(char_lm::preset_options(*preset));
  char_lm::validate(o);
  if (verb_name == "train") char_lm::train_char_lm(o);
  else if (verb_name == "eval") char_lm::eval_char_lm(o);
  else if (verb_name == "sample") char_lm::sample_char_lm(o);
  else char_lm::score_char_lm(o);
  return 0;
}

Registration r_train("train charlm", [](CLI::App& a) { setup(a, kVerbs[0]); }, [] { return run("train"); });
Registration r_eval("eval charlm", [](CLI::App& a) { setup(a, kVerbs[1]); }, [] { return run("eval"); });
Registration r_sample("sample charlm", [](CLI::App& a) { setup(a, kVerbs[2]); }, [] { return run("sample"); });
Registration r_score("score charlm", [](CLI::App& a) { setup(a, kVerbs[3]); }, [] { return run("score"); });

}  // namespace
}  // namespace unroll::cli
