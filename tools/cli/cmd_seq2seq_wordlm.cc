// tools/cli/cmd_seq2seq_wordlm.cc — `unroll train|eval|predict seq2seq` (dates to ISO, models/seq2seq) and
// `unroll train|eval wordlm` (Brown word LM, models/word_lm). Flags map one-to-one onto the models' Options;
// --preset picks the defaults they override.
#include "tools/cli/commands.h"
#include "tools/cli/model_flags.h"

#include "models/seq2seq/train.h"
#include "models/word_lm/train.h"

#include <memory>

namespace unroll::cli {
namespace {

// One (verb, model) subcommand: its flags over a preset, and the entry point to call.
template <class Options>
struct ModelCommand {
  std::string preset;
  std::unique_ptr<ModelFlags<Options>> flags;
};

using seq2seq::Seq2SeqOptions;
using word_lm::WordLmOptions;

ModelCommand<Seq2SeqOptions> s2s_train, s2s_eval, s2s_predict;
ModelCommand<WordLmOptions> wlm_train, wlm_eval;

template <class Options>
ModelFlags<Options>& make(CLI::App& app, const char* verb_name, const char* verb_help, const char* model,
                          const char* help, ModelCommand<Options>& cmd) {
  CLI::App* sub = verb(app, verb_name, verb_help)->add_subcommand(model, help);
  cmd.preset = "demo";  // the default: seq2seq reaches its goal in about a minute, the word LM trains 10 minutes
  sub->add_option("--preset", cmd.preset, "demo, full or tiny")->capture_default_str();
  cmd.flags = std::make_unique<ModelFlags<Options>>(sub);
  cmd.flags->add("--checkpoint", &Options::checkpoint, "model file (.safetensors)")
      .add("--seed", &Options::seed, "random seed")
      .add("--threads", &Options::threads, "BLAS threads")
      .flag("--quiet", &Options::quiet, "print nothing");
  return *cmd.flags;
}

void seq2seq_setup(CLI::App& app) {
  make(app, "train", "train a zoo model", "seq2seq", "train the date encoder-decoder (greedy and beam test accuracy)", s2s_train)
      .add("--n-train", &Seq2SeqOptions::n_train, "train pairs")
      .add("--embed", &Seq2SeqOptions::embed, "embedding size")
      .add("--hidden", &Seq2SeqOptions::hidden, "hidden size (even)")
      .add("--attention", &Seq2SeqOptions::attention, "dot-product attention (true/false)")
      .add("--batch", &Seq2SeqOptions::batch, "batch size")
      .add("--epochs", &Seq2SeqOptions::epochs, "passes over train (upper bound)")
      .add("--time-limit", &Seq2SeqOptions::time_limit, "seconds of training (0: none)")
      .add("--lr", &Seq2SeqOptions::lr, "Adam learning rate")
      .add("--clip", &Seq2SeqOptions::clip, "max global gradient norm (0: off)")
      .add("--beam", &Seq2SeqOptions::beam, "beam width for the test evaluation")
      .add("--log-every", &Seq2SeqOptions::log_every, "progress line every n steps");
  make(app, "eval", "evaluate a zoo model on its test split", "seq2seq", "test exact match (greedy and beam)", s2s_eval)
      .add("--beam", &Seq2SeqOptions::beam, "beam width")
      .add("--n-test", &Seq2SeqOptions::n_test, "test pairs");
  make(app, "predict", "run a zoo model on inputs", "seq2seq", "translate dates to ISO with beam search", s2s_predict)
      .add("--beam", &Seq2SeqOptions::beam, "beam width (1: greedy)")
      .add("--max-len", &Seq2SeqOptions::max_len, "output characters at most")
      .positional("inputs", &Seq2SeqOptions::inputs, "human-readable dates", true);
}

void wordlm_setup(CLI::App& app) {
  make(app, "train", "train a zoo model", "wordlm", "train the Brown word LSTM LM (test perplexity; checkpoint, learning curve CSV/SVG)", wlm_train)
      .add("--data", &WordLmOptions::data_dir, "Brown folder (default: the fetched cache)")
      .add("--embed", &WordLmOptions::embed, "embedding size")
      .add("--hidden", &WordLmOptions::hidden, "LSTM hidden size")
      .add("--layers", &WordLmOptions::layers, "LSTM layers")
      .add("--dropout", &WordLmOptions::dropout, "dropout on embeddings, between layers and before the decoder")
      .add("--batch", &WordLmOptions::batch, "stream columns B")
      .add("--seq-len", &WordLmOptions::seq_len, "truncated-BPTT length T")
      .add("--epochs", &WordLmOptions::epochs, "passes over train (upper bound)")
      .add("--time-limit", &WordLmOptions::time_limit, "seconds of training (0: none)")
      .add("--lr", &WordLmOptions::lr, "Adam learning rate")
      .add("--plateau-decay", &WordLmOptions::plateau_decay, "lr factor when dev does not improve (1: off)")
      .add("--clip", &WordLmOptions::clip, "max global gradient norm (0: off)")
      .add("--max-train-tokens", &WordLmOptions::max_train_tokens, "use the first n train tokens (0: all)")
      .add("--max-eval-tokens", &WordLmOptions::max_eval_tokens, "evaluate the first n tokens (0: all)")
      .add("--eval-every", &WordLmOptions::eval_every, "dev evaluation every n steps (0: each epoch)")
      .add("--log-every", &WordLmOptions::log_every, "progress line every n steps")
      .flag("--resume", &WordLmOptions::resume, "continue from the training checkpoint (<stem>.train.safetensors)")
      .add("--init-from", &WordLmOptions::init_from, "start from this model file's weights, with a new optimizer");
  make(app, "eval", "evaluate a zoo model on its test split", "wordlm", "test perplexity of a word LM checkpoint", wlm_eval)
      .add("--data", &WordLmOptions::data_dir, "Brown folder (default: the fetched cache)")
      .add("--max-eval-tokens", &WordLmOptions::max_eval_tokens, "evaluate the first n tokens (0: all)");
}

template <class Options, class PresetFn, class ValidateFn, class Run>
int run(const ModelCommand<Options>& cmd, PresetFn preset, ValidateFn validate, Run entry) {
  Options o = cmd.flags->apply(preset(cmd.preset));
  validate(o);
  entry(o);
  return 0;
}

Registration r1("train seq2seq", seq2seq_setup,
                [] { return run(s2s_train, seq2seq::preset_options, seq2seq::validate, seq2seq::train_seq2seq); });
Registration r2("eval seq2seq", [](CLI::App&) {},
                [] { return run(s2s_eval, seq2seq::preset_options, seq2seq::validate, seq2seq::eval_seq2seq); });
Registration r3("predict seq2seq", [](CLI::App&) {},
                [] { return run(s2s_predict, seq2seq::preset_options, seq2seq::validate, seq2seq::predict_seq2seq); });
Registration r4("train wordlm", wordlm_setup,
                [] { return run(wlm_train, word_lm::preset_options, word_lm::validate, word_lm::train_word_lm); });
Registration r5("eval wordlm", [](CLI::App&) {},
                [] { return run(wlm_eval, word_lm::preset_options, word_lm::validate, word_lm::eval_word_lm); });

}  // namespace
}  // namespace unroll::cli
