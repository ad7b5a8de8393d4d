// models/tagger/train.h — the Brown tagger's entry points: train, evaluate (test POS accuracy, NER span F1),
// predict (tags of given sentences). One model, two heads trained together (loss = CE_pos + CE_ner): POS over the
// 178 simplified tags and the binary "part of a proper name" task of ../shared/DATA.md, both on the file split of
// models/data/brown.h.
// Each top-level function prints progress (stderr) and results (stdout) unless quiet, and returns a structured
// result, so the `unroll` CLI only parses flags into TaggerOptions and calls one of them.
#pragma once

#include "models/data/brown.h"
#include "models/data/metrics.h"
#include "models/data/vocab.h"
#include "models/tagger/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace unroll::tagger {

struct TaggerOptions {
  // ---- data and files
  std::string data_dir;                                // Brown folder; "" = data::default_brown_dir()
  std::string checkpoint = "runs/tagger.safetensors";  // best-dev model ("" = none); training state for --resume
                                                       // in <stem>.train.safetensors, curves <stem>.curve.csv/.svg
  // ---- model
  int word_embed = 128;
  int char_embed = 32;
  int char_hidden = 32;
  int hidden = 128;
  int layers = 1;
  double dropout = 0.33;
  double unk_replace = 0.5;     // a train word seen once is fed as <unk> with this probability (its chars stay)
  int max_word_chars = 20;      // longer words keep their first and last max_word_chars/2 characters
  // ---- training
  int batch = 32;               // sentences per batch
  int epochs = 8;
  double lr = 2e-3;             // Adam; sparse rows on both embedding tables
  double lr_decay = 0.5;        // lr *= this when a dev evaluation does not improve
  double clip = 5.0;            // max global gradient norm (0 = off)
  double ner_weight = 1.0;      // loss = CE_pos + ner_weight · CE_ner
  double time_limit = 0;        // seconds of training (0 = none)
  int eval_every = 0;           // dev evaluation every n steps (0 = once per epoch)
  std::size_t max_train_sentences = 0;  // use the first n train sentences (0 = all)
  std::size_t max_dev_sentences = 0;    // dev evaluations during training on the first n dev sentences (0 = all)
  std::size_t max_eval_sentences = 0;   // final dev/test evaluation on the first n sentences (0 = all)
  int log_every = 50;
  bool resume = false;          // continue from <stem>.train.safetensors
  std::uint64_t seed = 1;
  int threads = 1;              // BLAS threads (the machine is shared)
  // ---- predict
  std::vector<std::string> texts;  // sentences, tokens separated by white space
  bool quiet = false;
};

// "full" (BiLSTM 1x128 + char BiLSTM 32, emb 128: the PyTorch reference's shape, 8 epochs), "demo" (a slice of
// train, ~3 minutes), "tiny" (tests). Throws std::invalid_argument for an unknown name.
TaggerOptions preset_options(const std::string& name);
// Throws std::invalid_argument naming the first bad field.
void validate(const TaggerOptions& o);

struct TagScores {
  double pos_acc = 0;           // over every token
  double pos_acc_unknown = 0;   // over tokens whose lower-cased word is not in the word vocabulary
  double ner_f1 = 0, ner_precision = 0, ner_recall = 0, ner_token_acc = 0;
  double loss = 0;              // mean CE_pos + ner_weight·CE_ner per token
  std::size_t tokens = 0, unknown_tokens = 0, sentences = 0;
  double seconds = 0;
};

struct CurvePoint {
  std::uint64_t step = 0;
  double epoch = 0, train_loss = 0, dev_loss = 0, dev_pos_acc = 0, dev_ner_f1 = 0, lr = 0, seconds = 0;
};

struct TrainResult {
  TagScores dev, test;          // of the best dev model
  std::uint64_t steps = 0;
  double epochs = 0, seconds = 0, cpu_seconds = 0;
  std::size_t train_tokens = 0;
  std::vector<CurvePoint> curve;
  std::string checkpoint;
  bool out_of_time = false;
};

struct TaggedText {
  std::vector<std::string> words, tags;
  std::vector<int> names;       // 1 = part of a proper name
};

// What a model file holds: the model and its three vocabularies.
struct LoadedTagger {
  data::Vocab words;
  data::CharVocab chars;
  data::LabelSet tags;
  std::unique_ptr<TaggerModel<float>> model;
};

// ---- entry points (print unless options.quiet) ----------------------------------------------------------
TrainResult train_tagger(const TaggerOptions& options);
TagScores eval_tagger(const TaggerOptions& options);           // test scores of options.checkpoint
std::vector<TaggedText> predict_tagger(const TaggerOptions& options);

// ---- building blocks -------------------------------------------------------------------------------------
void save_tagger(const std::string& path, TaggerModel<float>& model, const data::Vocab& words,
                 const data::CharVocab& chars, const data::LabelSet& tags);
LoadedTagger load_tagger(const std::string& path);
// POS accuracy and NER span F1 of a model over tagged sentences (eval mode, batched by length).
TagScores evaluate(TaggerModel<float>& model, const data::Vocab& words, const data::CharVocab& chars,
                   const data::LabelSet& tags, const std::vector<data::TaggedSentence>& sentences,
                   int max_word_chars = 20, std::size_t batch = 64);
std::vector<TaggedText> tag_sentences(TaggerModel<float>& model, const data::Vocab& words, const data::CharVocab& chars,
                                      const data::LabelSet& tags, const std::vector<std::vector<std::string>>& sentences,
                                      int max_word_chars = 20, std::size_t batch = 64);

}  // namespace unroll::tagger
