// tools/cli/cmd_sentiment.cc — `unroll train|eval|predict sentiment`: the max-pooled BiLSTM sentiment classifier
// (models/sentiment). Flags map one-to-one onto SentimentOptions; --preset picks the defaults they override (demo
// unless given: 2 seeds x 4 epochs, about a minute).
#include "tools/cli/commands.h"
#include "tools/cli/model_flags.h"

#include "models/sentiment/train.h"

#include <memory>

namespace unroll::cli {
namespace {

using sentiment::SentimentOptions;

struct SentimentCommand {
  std::string preset = "demo";
  bool unidirectional = false;
  CLI::App* sub = nullptr;
  std::unique_ptr<ModelFlags<SentimentOptions>> flags;
};
SentimentCommand s_train, s_eval, s_predict;

ModelFlags<SentimentOptions>& make(CLI::App& app, const char* verb_name, const char* verb_help, const char* help,
                                   SentimentCommand& cmd) {
  cmd.sub = verb(app, verb_name, verb_help)->add_subcommand("sentiment", help);
  cmd.sub->add_option("--preset", cmd.preset, "demo (2 seeds x 4 epochs), full (5 seeds x 12 epochs) or tiny")
      ->capture_default_str();
  cmd.flags = std::make_unique<ModelFlags<SentimentOptions>>(cmd.sub);
  cmd.flags->add("--checkpoint", &SentimentOptions::checkpoint, "model file (.safetensors)")
      .add("--threads", &SentimentOptions::threads, "BLAS threads")
      .flag("--quiet", &SentimentOptions::quiet, "print nothing");
  return *cmd.flags;
}

// --ensemble FILE, repeatable; one value per occurrence so it never swallows predict's texts.
void ensemble_flag(SentimentCommand& cmd) {
  cmd.flags->add("--ensemble", &SentimentOptions::ensemble,
                 "another model file (repeatable): average P(positive) over --checkpoint and these");
  cmd.sub->get_option("--ensemble")->allow_extra_args(false);
}

void setup(CLI::App& app) {
  make(app, "train", "train a zoo model",
       "train the sentiment BiLSTM over several seeds (mean test accuracy; checkpoints, learning curve CSV/SVG)", s_train)
      .add("--data", &SentimentOptions::data_dir, "folder with amazon/imdb/yelp.json (default: the fetched cache)")
      .add("--embed", &SentimentOptions::embed, "embedding size")
      .add("--hidden", &SentimentOptions::hidden, "LSTM hidden size (per direction)")
      .add("--layers", &SentimentOptions::layers, "LSTM layers")
      .add("--pooling", &SentimentOptions::pooling, "max, mean or last")
      .add("--dropout", &SentimentOptions::dropout, "dropout on the pooled features, in [0, 1)")
      .add("--embed-dropout", &SentimentOptions::embed_dropout, "dropout on the word embeddings, in [0, 1)")
      .add("--word-dropout", &SentimentOptions::word_dropout, "probability a train word is fed as <unk>, in [0, 1)")
      .add("--min-count", &SentimentOptions::min_count, "vocabulary: train words seen at least this often")
      .add("--batch", &SentimentOptions::batch, "sentences per batch")
      .add("--epochs", &SentimentOptions::epochs, "epochs per seed (the best dev epoch is kept)")
      .add("--lr", &SentimentOptions::lr, "Adam learning rate")
      .add("--clip", &SentimentOptions::clip, "max global gradient norm (0: off)")
      .add("--seeds", &SentimentOptions::num_seeds, "runs with seeds seed, seed+1, ... (the mean is reported)")
      .add("--seed", &SentimentOptions::seed, "first seed")
      .add("--time-limit", &SentimentOptions::time_limit, "seconds for all seeds together (0: none)")
      .add("--log-every", &SentimentOptions::log_every, "progress line every n steps (0: none)");
  s_train.sub->add_flag("--unidirectional", s_train.unidirectional, "a forward-only LSTM instead of a BiLSTM");
  make(app, "eval", "evaluate a zoo model on its test split",
       "test accuracy of a sentiment model file, or of an ensemble of them", s_eval)
      .add("--data", &SentimentOptions::data_dir, "folder with amazon/imdb/yelp.json (default: the fetched cache)");
  ensemble_flag(s_eval);
  make(app, "predict", "run a zoo model on inputs", "P(positive) of each text, and its label", s_predict);
  ensemble_flag(s_predict);
  s_predict.flags->positional("texts", &SentimentOptions::texts, "texts to classify", true);
}

int run(const SentimentCommand& cmd, void (*entry)(const SentimentOptions&)) {
  SentimentOptions o = cmd.flags->apply(sentiment::preset_options(cmd.preset));
  if (cmd.unidirectional) o.bidirectional = false;
  sentiment::validate(o);
  entry(o);
  return 0;
}

Registration r_train("train sentiment", setup,
                     [] { return run(s_train, [](const SentimentOptions& o) { sentiment::train_sentiment(o); }); });
Registration r_eval("eval sentiment", [](CLI::App&) {},
                    [] { return run(s_eval, [](const SentimentOptions& o) { sentiment::eval_sentiment(o); }); });
Registration r_predict("predict sentiment", [](CLI::App&) {},
                       [] { return run(s_predict, [](const SentimentOptions& o) { sentiment::predict_sentiment(o); }); });

}  // namespace
}  // namespace unroll::cli
