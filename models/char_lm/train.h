// models/char_lm/train.h — the char LM's entry points: train, evaluate (bits/char), sample, score.
// Each top-level function prints its progress (stderr) and results (stdout) unless quiet, and returns a
// structured result, so the `unroll` CLI only parses flags into CharLmOptions and calls one of them.
// The corpus is Debian's fortunes with the split of ../shared/DATA.md (models/data/fortunes.h): every
// fortune followed by the end mark "\n%\n", so the model learns where a fortune ends; the vocabulary is the
// characters of train plus the reserved ids of models/data/vocab.h.
// Lower-level functions (evaluate_bits, sample_text, score_text) work on an in-memory model for tests.
#pragma once

#include "models/char_lm/model.h"
#include "models/data/vocab.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace unroll::char_lm {

// Every flag of every entry point; defaults are the full 2x256 run of the PyTorch reference.
struct CharLmOptions {
  // ---- data and files
  std::string data_dir;                          // fortunes folder; "" = data::default_fortunes_dir()
  std::string checkpoint = "runs/char_lm.safetensors";  // model file (best dev); "" = none. Training
                                                 // state goes to <stem>.train.safetensors, curve to <stem>.curve.csv
  // ---- model
  int embed = 64;                                // E, e.g. 64
  int hidden = 256;                              // H, e.g. 256
  int layers = 2;                                // e.g. 2
  // ---- training
  int batch = 64;                                // B parallel stream columns, e.g. 64
  int seq_len = 128;                             // T steps of truncated BPTT, e.g. 128
  int epochs = 25;                               // upper bound on passes over train
  double time_limit = 0;                         // seconds of training (0 = none), e.g. 1800
  std::string optimizer = "adam";                // "adam" | "sgd"
  double lr = 2e-3;                              // e.g. 2e-3 for Adam, 1.0 for SGD
  double plateau_decay = 0.5;                    // lr *= this when a dev evaluation does not improve
  double clip = 5.0;                             // max global gradient norm (0 = no clipping)
  std::size_t max_train_chars = 0;               // use only the first n train characters (0 = all)
  std::size_t max_eval_chars = 0;                // test (and dev) evaluation on the first n characters (0 = all)
  std::size_t max_dev_chars = 0;                 // dev evaluations during training on the first n characters (0 = all)
  int eval_every = 0;                            // dev evaluation every n steps (0 = once per epoch)
  int log_every = 50;                            // progress line every n steps
  bool resume = false;                           // continue from <stem>.train.safetensors
  std::string init_from;                         // start from this model file's weights (same shape), new optimizer
  std::uint64_t seed = 1;
  int threads = 1;                               // BLAS threads (the machine is shared: 1-2)
  // ---- sampling
  std::string prompt;                            // the fortune starts with this text
  double temperature = 0.8;                      // > 0; < 1 sharper, > 1 flatter
  int top_k = 0;                                 // sample among the k most likely characters (0 = all)
  int max_chars = 400;                           // stop a sample after this many characters
  int num_samples = 3;
  // ---- scoring
  std::vector<std::string> texts;                // candidates to score and rank
  bool quiet = false;                            // print nothing
};

// Named settings: "demo" (1x128, a few minutes on 2 cores: a slice of train, capped time), "full"
// (2x256, 30 minutes), "tiny" (tests). Throws std::invalid_argument for an unknown name.
CharLmOptions preset_options(const std::string& name);
// Throws std::invalid_argument naming the first bad field (batch 0, lr <= 0, temperature <= 0, …).
void validate(const CharLmOptions& o);

struct CurvePoint {
  std::uint64_t step = 0;
  double epoch = 0;           // fractional
  double train_bpc = 0;       // mean over the steps since the previous point
  double dev_bpc = 0;
  double lr = 0;
  double seconds = 0;
};

struct TrainResult {
  double best_dev_bpc = 0, test_bpc = 0;
  std::uint64_t steps = 0;
  double epochs = 0;          // fractional epochs done
  double seconds = 0;         // training wall time (without the final test evaluation)
  double cpu_seconds = 0;     // CPU time of the process over the same span (the machine may be shared)
  std::size_t train_chars = 0, test_chars = 0;
  std::vector<CurvePoint> curve;
  std::vector<std::string> samples;  // a few samples from the final model
  std::string checkpoint;
};

struct EvalResult {
  double bits_per_char = 0;
  double nats = 0;            // total -ln P over every character
  std::size_t chars = 0;
  double seconds = 0;
};

struct ScoreItem {
  std::string text;
  double log_prob = 0;        // ln P(text | start of a fortune) = Σ_t ln P(y_t | y_<t)
  double bits = 0;            // -log2 P(text)
  double bits_per_char = 0;
  std::size_t chars = 0;
};

struct SampleOptions {
  std::string prompt;
  double temperature = 0.8;
  int top_k = 0;
  int max_chars = 400;
};

struct Sample {
  std::string text;           // prompt + generated characters, without the end mark
  bool ended = false;         // the model emitted the end mark
};

// A model with its vocabulary (what a model file holds).
struct LoadedCharLm {
  data::CharVocab vocab;
  std::unique_ptr<CharLm<float>> model;
};

// ---- entry points (print unless options.quiet) ----------------------------------------------------------
TrainResult train_char_lm(const CharLmOptions& options);
EvalResult eval_char_lm(const CharLmOptions& options);          // test bits/char of options.checkpoint
std::vector<Sample> sample_char_lm(const CharLmOptions& options);
std::vector<ScoreItem> score_char_lm(const CharLmOptions& options);  // ranked best first

// ---- building blocks -----------------------------------------------------------------------------------
void save_char_lm(const std::string& path, CharLm<float>& model, const data::CharVocab& vocab);
LoadedCharLm load_char_lm(const std::string& path);

// Bits/char over every character of text (the first predicted from the start-of-fortune context "\n%\n").
// The text is cut into B contiguous segments run in parallel, T steps at a time; each segment after the first
// is warmed up on the `warmup` characters before it (not scored).
EvalResult evaluate_bits(CharLm<float>& model, const data::CharVocab& vocab, std::string_view text,
                         std::size_t B = 64, std::size_t T = 128, std::size_t warmup = 64);
// One fortune, character by character; never emits a reserved id (<unk>, <pad>, <bos>, <eos>).
Sample sample_text(CharLm<float>& model, const data::CharVocab& vocab, const SampleOptions& options, Rng& rng);
// ln P(text | start of a fortune).
ScoreItem score_text(CharLm<float>& model, const data::CharVocab& vocab, std::string_view text);

}  // namespace unroll::char_lm
