// tools/cli/cmd_tagger.cc — `unroll train|eval|predict tagger`: the Brown POS + proper-name tagger
// (models/tagger). Flags map one-to-one onto TaggerOptions; --preset picks the defaults they override (demo
// unless given: 1x64 on 8,000 train sentences, 3 minutes at most).
#include "tools/cli/commands.h"
#include "tools/cli/model_flags.h"

#include "models/tagger/train.h"

#include <memory>

namespace unroll::cli {
namespace {

using tagger::TaggerOptions;

struct TaggerCommand {
  std::string preset = "demo";
  std::unique_ptr<ModelFlags<TaggerOptions>> flags;
};
TaggerCommand t_train, t_eval, t_predict;

ModelFlags<TaggerOptions>& make(CLI::App& app, const char* verb_name, const char* verb_help, const char* help,
                                TaggerCommand& cmd) {
  CLI::App* sub = verb(app, verb_name, verb_help)->add_subcommand("tagger", help);
  sub->add_option("--preset", cmd.preset, "demo (1x64, 8,000 sentences, 3 min), full (the reference's 1x128) or tiny")
      ->capture_default_str();
  cmd.flags = std::make_unique<ModelFlags<TaggerOptions>>(sub);
  cmd.flags->add("--checkpoint", &TaggerOptions::checkpoint, "model file (.safetensors)")
      .add("--seed", &TaggerOptions::seed, "random seed")
      .add("--threads", &TaggerOptions::threads, "BLAS threads")
      .flag("--quiet", &TaggerOptions::quiet, "print nothing");
  return *cmd.flags;
}

void setup(CLI::App& app) {
  make(app, "train", "train a zoo model",
       "train the Brown BiLSTM tagger, POS and proper-name heads (checkpoint, learning curve CSV/SVG)", t_train)
      .add("--data", &TaggerOptions::data_dir, "Brown folder (default: the fetched cache)")
      .add("--word-embed", &TaggerOptions::word_embed, "word embedding size")
      .add("--char-embed", &TaggerOptions::char_embed, "character embedding size")
      .add("--char-hidden", &TaggerOptions::char_hidden, "character BiLSTM hidden size (per direction)")
      .add("--hidden", &TaggerOptions::hidden, "word BiLSTM hidden size (per direction)")
      .add("--layers", &TaggerOptions::layers, "word BiLSTM layers")
      .add("--dropout", &TaggerOptions::dropout, "dropout in [0, 1)")
      .add("--unk-replace", &TaggerOptions::unk_replace, "probability that a train word seen once is fed as <unk>")
      .add("--max-word-chars", &TaggerOptions::max_word_chars, "longer words keep their first and last half")
      .add("--batch", &TaggerOptions::batch, "sentences per batch")
      .add("--epochs", &TaggerOptions::epochs, "passes over train (upper bound)")
      .add("--time-limit", &TaggerOptions::time_limit, "seconds of training (0: none)")
      .add("--lr", &TaggerOptions::lr, "Adam learning rate")
      .add("--lr-decay", &TaggerOptions::lr_decay, "lr factor when dev does not improve, in (0, 1]")
      .add("--clip", &TaggerOptions::clip, "max global gradient norm (0: off)")
      .add("--ner-weight", &TaggerOptions::ner_weight, "loss = CE_pos + w * CE_ner")
      .add("--eval-every", &TaggerOptions::eval_every, "dev evaluation every n steps (0: each epoch)")
      .add("--max-train-sentences", &TaggerOptions::max_train_sentences, "use the first n train sentences (0: all)")
      .add("--max-dev-sentences", &TaggerOptions::max_dev_sentences, "dev evaluations on the first n sentences (0: all)")
      .add("--max-eval-sentences", &TaggerOptions::max_eval_sentences, "final dev/test on the first n sentences (0: all)")
      .add("--log-every", &TaggerOptions::log_every, "progress line every n steps (0: none)")
      .flag("--resume", &TaggerOptions::resume, "continue from <stem>.train.safetensors");
  make(app, "eval", "evaluate a zoo model on its test split", "test POS accuracy and NER span F1 of a tagger model file",
       t_eval)
      .add("--data", &TaggerOptions::data_dir, "Brown folder (default: the fetched cache)")
      .add("--max-eval-sentences", &TaggerOptions::max_eval_sentences, "evaluate the first n test sentences (0: all)")
      .add("--max-word-chars", &TaggerOptions::max_word_chars, "as in training");
  make(app, "predict", "run a zoo model on inputs", "tag sentences: one line each, word/POS/NER (NAME or O) per token",
       t_predict)
      .add("--max-word-chars", &TaggerOptions::max_word_chars, "as in training")
      .positional("sentences", &TaggerOptions::texts, "sentences, tokens separated by spaces", true);
}

int run(const TaggerCommand& cmd, void (*entry)(const TaggerOptions&)) {
  TaggerOptions o = cmd.flags->apply(tagger::preset_options(cmd.preset));
  tagger::validate(o);
  entry(o);
  return 0;
}

Registration r_train("train tagger", setup, [] { return run(t_train, [](const TaggerOptions& o) { tagger::train_tagger(o); }); });
Registration r_eval("eval tagger", [](CLI::App&) {}, [] { return run(t_eval, [](const TaggerOptions& o) { tagger::eval_tagger(o); }); });
Registration r_predict("predict tagger", [](CLI::App&) {},
                       [] { return run(t_predict, [](const TaggerOptions& o) { tagger::predict_tagger(o); }); });

}  // namespace
}  // namespace unroll::cli
