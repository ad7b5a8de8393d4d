// models/char_lm/model.h — the character language model is models/common/lstm_lm.h's LstmLm with arch "char_lstm"
// (Embedding(V, E) -> LSTM(E, H, layers) -> Linear(H, V), PyTorch's state_dict names); these names keep the char
// LM's code reading in its own terms. Model files written before the shared model load unchanged.
// Not here: training, sampling and scoring (train.h), the data (models/data/).
#pragma once

#include "models/common/lstm_lm.h"

namespace unroll::char_lm {

// An LstmLmConfig for characters: every id but the reserved ones can be predicted.
struct CharLmConfig : common::LstmLmConfig {
  CharLmConfig() { arch = common::LstmLmArch::chars; }
};

template <class T>
using CharLm = common::LstmLm<T>;
using common::detach_state;
using common::LstmState;

}  // namespace unroll::char_lm
