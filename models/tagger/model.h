// models/tagger/model.h — the Brown tagger: one BiLSTM over word features with two heads.
//   word features = [ word embedding (lower-cased word, E_w) | char BiLSTM final states (2·H_c) ]
//   BiLSTM(E_w + 2·H_c, H, layers) -> dropout -> POS head Linear(2H, tags)
//                                             -> NER head Linear(2H, 2)   (part of a proper name: 0/1)
// The char BiLSTM reads each distinct word of a batch once (case kept, so capitals and suffixes are seen even for
// words the word table does not know); all of a batch's distinct words go through it together as one padded batch
// with their own lengths, and its outputs are gathered back to the tokens (an embedding lookup into the [U, 2·H_c]
// char features, so the gradient scatter-adds to each distinct word).
// Parameter names follow PyTorch's state_dict style ("word_embedding.weight", "char_lstm.weight_ih_l0_reverse",
// "lstm.weight_hh_l0", "pos_head.weight", "ner_head.bias").
// Not here: vocabularies and batches (train.h builds TaggerInput), training, model files.
#pragma once

#include "engine/rng.h"
#include "engine/var.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/recurrent.h"

#include <cstdint>
#include <string>
#include <vector>

namespace unroll::tagger {

struct TaggerConfig {
  int word_vocab = 0;       // lower-cased train words + the 4 reserved ids
  int char_vocab = 0;       // train characters + the 4 reserved ids
  int num_tags = 0;         // POS tags (train's simplified tags), e.g. 178
  int word_embed = 128;     // E_w
  int char_embed = 32;      // E_c
  int char_hidden = 32;     // H_c per direction
  int hidden = 128;         // H per direction
  int layers = 1;
  double dropout = 0.33;    // on the word features and the BiLSTM outputs (and between layers), training only

  std::string to_json() const;                             // {"arch":"brown_tagger",…}
  static TaggerConfig from_json(const std::string& text);  // throws std::invalid_argument on a bad field
  std::string describe() const;  // "Tagger(words=…, chars=…, tags=178, emb 128 + char BiLSTM 32, BiLSTM 1x128)"
};

// One batch of sentences, padded: B sentences of at most T tokens.
struct TaggerInput {
  std::size_t B = 0, T = 0;
  std::vector<std::int64_t> word_ids;     // [B·T] row-major (b·T + t); pad = 0
  std::vector<int> lengths;               // [B], each in [1, T]
  std::vector<std::int64_t> token_word;   // [B·T] index of the token's word in `words` (0 at padding)
  std::vector<std::vector<std::int64_t>> words;  // U distinct words as char ids (each non-empty)
};


template <class T>
class TaggerModel final : public Module<T> {
 public:
  TaggerModel(const TaggerConfig& config, Rng& rng);

  // rng: dropout masks in training mode (nullptr is fine in eval mode). Returns [T·B, ·] logits, time-major.
  std::pair<Var<T>, Var<T>> forward(const TaggerInput& in, Rng* rng = nullptr);

  void train(bool on = true) override;
  const TaggerConfig& config() const { return config_; }
  std::vector<NamedParam<T>> parameters() override;
  std::string describe() const override;

 private:
  Var<T> char_features(const TaggerInput& in, Rng* rng);  // [U, 2·H_c]
  TaggerConfig config_;
  Embedding<T> word_embedding_, char_embedding_;
  LSTM<T> char_lstm_, lstm_;
  Linear<T> pos_head_, ner_head_;
};

extern template class TaggerModel<float>;
extern template class TaggerModel<double>;

}  // namespace unroll::tagger
