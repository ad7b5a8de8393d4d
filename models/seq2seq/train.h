// models/seq2seq/train.h — the dates seq2seq's entry points: train, evaluate (exact match), predict.
// Each top-level function prints progress (stderr) and results (stdout) unless quiet, and returns a structured
// result, so the `unroll` CLI only parses flags into Seq2SeqOptions and calls one of them.
// Data: models/data/dates.h — 10,000 train pairs (seed 20260101) and 1,000 test pairs (seed 20260202, sources
// not in train), ../shared/DATA.md section 4. Model selection uses a dev set of 500 more generated pairs
// (seed dev_seed, sources in neither train nor test), so test is only read once, at the end.
// Decoding: greedy (batched) and beam search (one example at a time, its hypotheses as the rows of a batch);
// both never emit <pad>, <unk> or <bos> and stop at <eos> or max_len characters.
#pragma once

#include "models/data/dates.h"
#include "models/data/vocab.h"
#include "models/seq2seq/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace unroll::seq2seq {

struct Seq2SeqOptions {
  // ---- files
  std::string checkpoint = "runs/seq2seq.safetensors";  // model file (best dev); "" = none
  // ---- data
  std::size_t n_train = 10000;       // train pairs (DATA.md: 10,000)
  std::size_t n_test = 1000;         // test pairs (DATA.md: 1,000)
  std::size_t n_dev = 500;           // dev pairs for model selection (0 = none: keep the last model)
  std::uint64_t dev_seed = 20260303;
  // ---- model
  int embed = 32;                    // E, e.g. 32
  int hidden = 128;                  // H (even), e.g. 128
  bool attention = true;
  // ---- training
  int batch = 64;                    // e.g. 64
  int epochs = 30;                   // upper bound on passes over train
  double time_limit = 0;             // seconds of training (0 = none), e.g. 900
  double lr = 3e-3;                  // Adam, e.g. 3e-3
  double clip = 5.0;                 // max global gradient norm (0 = off)
  double target_dev_accuracy = 1.0;  // stop early once dev exact match (greedy) reaches this, e.g. 1.0
  int log_every = 50;                // progress line every n steps (0 = none)
  std::uint64_t seed = 1;
  int threads = 1;                   // BLAS threads (the machine is shared: 1)
  // ---- decoding
  int beam = 5;                      // beam width for beam search (1 = greedy)
  int max_len = 16;                  // output characters at most (an ISO date is 10)
  std::vector<std::string> inputs;   // predict: human-readable dates
  bool quiet = false;                // print nothing
};

// "tiny" (tests: a few hundred pairs, small model, seconds), "demo" (E 32, H 128, at most 10 minutes),
// "full" (same model, at most 30 minutes). Throws std::invalid_argument for an unknown name.
Seq2SeqOptions preset_options(const std::string& name);
// Throws std::invalid_argument naming the first bad field (batch 0, beam 0, odd hidden, …).
void validate(const Seq2SeqOptions& o);

struct CurvePoint {
  std::uint64_t step = 0;
  int epoch = 0;
  double train_loss = 0;     // mean cross-entropy per target character over the epoch
  double dev_accuracy = 0;   // greedy exact match
  double dev_loss = 0;       // teacher-forced cross-entropy per target character on the selection pairs
  double seconds = 0;
};

struct TrainResult {
  double best_dev_accuracy = 0;
  double test_accuracy_greedy = 0, test_accuracy_beam = 0;
  int beam = 0;
  std::uint64_t steps = 0;
  int epochs = 0;
  double seconds = 0;        // training wall time (without the final test evaluation)
  double cpu_seconds = 0;
  double eval_seconds = 0;   // the final test evaluation (greedy + beam)
  std::vector<CurvePoint> curve;
  std::string checkpoint;
};

struct EvalResult {
  double accuracy_greedy = 0, accuracy_beam = 0;
  int beam = 0;
  std::size_t n = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> errors;  // (source, beam output) of the misses, at most 20
};

struct Hypothesis {
  std::vector<std::int64_t> ids;  // output ids, without <bos>/<eos>
  double log_prob = 0;            // model score: Σ ln P(y_t | y_<t, x), including the final <eos> if ended
  bool ended = false;
};

struct Prediction {
  std::string source, output;
  double log_prob = 0;
};

struct LoadedSeq2Seq {
  data::CharVocab vocab;
  std::unique_ptr<Seq2Seq<float>> model;
};

// ---- entry points (print unless options.quiet) ----------------------------------------------------------
TrainResult train_seq2seq(const Seq2SeqOptions& options);
EvalResult eval_seq2seq(const Seq2SeqOptions& options);               // test exact match of options.checkpoint
std::vector<Prediction> predict_seq2seq(const Seq2SeqOptions& options);  // beam search on options.inputs

// ---- building blocks -----------------------------------------------------------------------------------
void save_seq2seq(const std::string& path, Seq2Seq<float>& model, const data::CharVocab& vocab);
LoadedSeq2Seq load_seq2seq(const std::string& path);
// The vocabulary of a set of pairs: every character of the sources and targets (sorted by code point).
data::CharVocab build_vocab(const std::vector<data::DatePair>& pairs);

// Greedy decoding of many sources at once (batches of `batch`), each an encoded source (CharVocab::encode).
std::vector<Hypothesis> greedy_decode(Seq2Seq<float>& model, const std::vector<std::vector<std::int64_t>>& sources,
                                      int max_len = 16, std::size_t batch = 64);
// Beam search over one source: the best ended hypothesis by log_prob (the best unended one if none ended within
// max_len). beam = 1 is greedy decoding.
Hypothesis beam_decode(Seq2Seq<float>& model, const std::vector<std::int64_t>& source, int beam, int max_len = 16);
// ln P(target | source) under teacher forcing, target without <eos> (the <eos> is scored too).
double score_pair(Seq2Seq<float>& model, const std::vector<std::int64_t>& source,
                  const std::vector<std::int64_t>& target);
// Exact-match accuracy (greedy, and beam when beam > 0) over pairs.
EvalResult evaluate(Seq2Seq<float>& model, const data::CharVocab& vocab, const std::vector<data::DatePair>& pairs,
                    int beam, int max_len = 16);

}  // namespace unroll::seq2seq
