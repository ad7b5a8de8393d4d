// models/word_lm/model.h — the word language model (Brown) is models/common/lstm_lm.h's LstmLm with arch
// "word_lstm": the same network as the char LM over V = 10,002 word ids (models/data/brown.h brown_lm_vocab), with
// the <pad> and <bos> outputs masked (they never occur as targets), so perplexity is over exactly DATA.md's 10,000
// outcomes. These names keep the word LM's code reading in its own terms; model files written before the shared
// model load unchanged.
// Not here: training and evaluation (train.h), the data (models/data/).
#pragma once

#include "models/common/lstm_lm.h"

namespace unroll::word_lm {

// An LstmLmConfig for words: <pad> and <bos> outputs masked.
struct WordLmConfig : common::LstmLmConfig {
  WordLmConfig() { arch = common::LstmLmArch::words; }
};

template <class T>
using WordLm = common::LstmLm<T>;
using common::detach_state;
using common::LstmState;

}  // namespace unroll::word_lm
