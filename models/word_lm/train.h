// models/word_lm/train.h — the word LM's entry points: train and evaluate (test perplexity).
// Corpus: Brown (models/data/brown.h) with DATA.md's split, lower-cased words, vocabulary = the 9,998 most
// frequent train words + <unk> + <eos> (+ <pad>, <bos>, masked), <eos> after every sentence; the sentences are
// one stream. Training: truncated BPTT over B parallel columns of the train stream (models/data/batching.h
// StreamBatches), T steps at a time, the state carried over and detached. Perplexity: exp(mean nats) over every
// token of the split including <eos>, the first predicted from a preceding <eos>.
// Each top-level function prints progress (stderr) and results (stdout) unless quiet and returns a result.
#pragma once

#include "models/data/vocab.h"
#include "models/word_lm/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace unroll::word_lm {

struct WordLmOptions {
  std::string data_dir;                                 // Brown folder; "" = data::default_brown_dir()
  // Model file (best dev); "" = none. The training state goes to <stem>.train.safetensors, the learning curve to
  // <stem>.curve.csv and <stem>.curve.svg.
  std::string checkpoint = "runs/word_lm.safetensors";
  // ---- model
  int embed = 128;              // E, e.g. 128
  int hidden = 512;             // H, e.g. 512
  int layers = 2;               // e.g. 2
  // Dropout on the embeddings, between the LSTM layers and before the decoder (PyTorch's word_language_model
  // example's --dropout), training only; 0 = none, e.g. 0.4.
  double dropout = 0.0;
  // ---- training
  int batch = 32;               // B stream columns, e.g. 32
  int seq_len = 35;             // T steps of truncated BPTT, e.g. 35
  int epochs = 6;               // upper bound on passes over train
  double time_limit = 0;        // seconds of training (0 = none)
  double lr = 2e-3;             // Adam
  double plateau_decay = 1.0;   // lr *= this when a dev evaluation does not improve (1 = never), e.g. 0.5
  double clip = 5.0;            // max global gradient norm (0 = off)
  std::size_t max_train_tokens = 0;  // use the first n train tokens (0 = all)
  std::size_t max_eval_tokens = 0;   // evaluate on the first n tokens of dev/test (0 = all)
  int eval_every = 0;           // dev evaluation every n steps (0 = once per epoch)
  int eval_batch = 16;          // segments evaluated in parallel
  int log_every = 50;           // progress line every n steps (0 = none)
  bool resume = false;          // continue from <stem>.train.safetensors
  std::string init_from;        // start from this model file's weights (same shape and vocabulary), new optimizer
  std::uint64_t seed = 1;
  int threads = 1;              // BLAS threads
  bool quiet = false;
};

// "full" (2x512, emb 128, the PyTorch reference's shape; dropout 0.4, plateau decay 0.5, dev every 435 steps, at
// most 14 epochs), "demo" (1x256, at most 10 minutes), "tiny" (tests).
WordLmOptions preset_options(const std::string& name);
// Throws std::invalid_argument naming the first bad field.
void validate(const WordLmOptions& o);

struct CurvePoint {
  std::uint64_t step = 0;
  double epoch = 0, train_ppl = 0, dev_ppl = 0, lr = 0, seconds = 0;
};

struct TrainResult {
  double best_dev_ppl = 0, test_ppl = 0;
  std::uint64_t steps = 0;
  double epochs = 0, seconds = 0, cpu_seconds = 0;
  std::size_t train_tokens = 0, test_tokens = 0;
  std::vector<CurvePoint> curve;
  std::string checkpoint;
};

struct EvalResult {
  double perplexity = 0, nats = 0;
  std::size_t tokens = 0;
  double seconds = 0;
};

struct LoadedWordLm {
  data::Vocab vocab;
  std::unique_ptr<WordLm<float>> model;
};

TrainResult train_word_lm(const WordLmOptions& options);
EvalResult eval_word_lm(const WordLmOptions& options);  // test perplexity of options.checkpoint

void save_word_lm(const std::string& path, WordLm<float>& model, const data::Vocab& vocab);
LoadedWordLm load_word_lm(const std::string& path);
// Perplexity of a stream of ids (every id a target, the first predicted from <eos>): the stream is cut into
// B contiguous segments run in parallel from a zero state, T steps at a time.
EvalResult evaluate_ppl(WordLm<float>& model, const std::vector<std::int64_t>& stream, std::size_t B = 16,
                        std::size_t T = 35);

}  // namespace unroll::word_lm
