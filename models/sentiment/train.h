// models/sentiment/train.h — the sentiment classifier's entry points: train (several seeds, mean test accuracy),
// evaluate (test accuracy of a model file), predict (P(positive) of given sentences).
// Each top-level function prints progress (stderr) and results (stdout) unless quiet, and returns a structured
// result, so the `unroll` CLI only parses flags into SentimentOptions and calls one of them.
// Data: UCI Sentiment Labelled Sentences, split of ../shared/DATA.md (models/data/sentiment.h), tokenised by
// data::tokenize_sentiment (lower-case [a-z0-9'] runs, the naive Bayes baseline's tokens); the vocabulary is
// the train words seen at least min_count times plus the reserved ids (unknown words -> <unk>).
#pragma once

#include "models/data/vocab.h"
#include "models/sentiment/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace unroll::sentiment {

struct SentimentOptions {
  // ---- data and files
  std::string data_dir;                                 // folder with amazon/imdb/yelp.json; "" = default cache
  std::string checkpoint = "runs/sentiment.safetensors";  // best-dev model of the first seed ("" = none); the
                                                        // other seeds go to <stem>.seed<k>.safetensors, the
                                                        // curves to <stem>.curve.csv / .curve.svg
  // ---- model
  int embed = 100;                                      // E
  int hidden = 128;                                     // H per direction
  int layers = 1;
  bool bidirectional = true;
  std::string pooling = "max";                          // max | mean | last
  double dropout = 0.5;                                 // on the pooled features
  double embed_dropout = 0.25;                          // on the word embeddings
  double word_dropout = 0.2;                            // train words replaced by <unk> with this probability
  int min_count = 1;                                    // vocabulary: train words seen at least this often
  // ---- training
  int batch = 32;
  int epochs = 12;                                      // best dev epoch is kept (test accuracy reported there)
  double lr = 2e-3;                                     // Adam
  double clip = 5.0;                                    // max global gradient norm (0 = off)
  int num_seeds = 5;                                    // runs with seeds seed, seed+1, …; the mean is reported
  std::uint64_t seed = 1;
  double time_limit = 0;                                // seconds for all seeds together (0 = none)
  int log_every = 20;                                   // progress line on stderr every n steps (0 = none)
  int threads = 1;                                      // BLAS threads (the machine is shared)
  // ---- eval / predict
  std::vector<std::string> ensemble;                    // more model files (e.g. the other seeds): eval and predict
                                                        // average P(positive) over checkpoint + these
  std::vector<std::string> texts;                       // sentences to classify
  bool quiet = false;
};

// "full" (the defaults: BiLSTM 1x128, max pooling, word dropout 0.2, 5 seeds x 12 epochs), "demo" (2 seeds x 4 epochs, ~1 minute),
// "tiny" (tests). Throws std::invalid_argument for an unknown name.
SentimentOptions preset_options(const std::string& name);
// Throws std::invalid_argument naming the first bad field.
void validate(const SentimentOptions& o);

struct CurvePoint {
  std::uint64_t seed = 0;
  int epoch = 0;
  double train_loss = 0, train_acc = 0, dev_loss = 0, dev_acc = 0;
  double seconds = 0;
};

struct SeedResult {
  std::uint64_t seed = 0;
  int best_epoch = 0;          // 1-based
  double dev_acc = 0, test_acc = 0;
  double seconds = 0;
};

struct TrainResult {
  std::vector<SeedResult> seeds;
  double mean_test_acc = 0, std_test_acc = 0, mean_dev_acc = 0;
  double ensemble_test_acc = 0, ensemble_dev_acc = 0;  // the seeds' P(positive) averaged, then thresholded
  double seconds = 0, cpu_seconds = 0;
  std::size_t vocab_size = 0, train_items = 0, test_items = 0;
  std::vector<CurvePoint> curve;
  std::string checkpoint;
  bool out_of_time = false;
};

struct EvalResult {
  double accuracy = 0, loss = 0;  // mean BCE (nats)
  std::size_t items = 0, correct = 0;
  double seconds = 0;
};

struct Prediction {
  std::string text;
  double p_positive = 0;
  int label = 0;
};

struct LoadedSentiment {
  data::Vocab vocab;
  std::unique_ptr<SentimentModel<float>> model;
};

// ---- entry points (print unless options.quiet) ----------------------------------------------------------
TrainResult train_sentiment(const SentimentOptions& options);
// Test accuracy of options.checkpoint, or of the average of it and options.ensemble (each model's own accuracy
// and their mean are printed too).
EvalResult eval_sentiment(const SentimentOptions& options);
std::vector<Prediction> predict_sentiment(const SentimentOptions& options);

// ---- building blocks -------------------------------------------------------------------------------------
void save_sentiment(const std::string& path, SentimentModel<float>& model, const data::Vocab& vocab);
LoadedSentiment load_sentiment_model(const std::string& path);
// Token ids of a sentence (never empty: a sentence without tokens is the single id <unk>).
std::vector<std::int64_t> encode_sentence(const data::Vocab& vocab, const std::string& text);
// Accuracy and mean loss over (ids, label) items, in batches, eval mode.
EvalResult evaluate(SentimentModel<float>& model, const std::vector<std::vector<std::int64_t>>& ids,
                    const std::vector<int>& labels, std::size_t batch = 64);
std::vector<double> predict_probs(SentimentModel<float>& model, const std::vector<std::vector<std::int64_t>>& ids,
                                  std::size_t batch = 64);

}  // namespace unroll::sentiment
