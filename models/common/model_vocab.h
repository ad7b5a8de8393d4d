// models/common/model_vocab.h — a vocabulary as a model file's "vocab" list (nn/checkpoint.h ModelInfo): the
// tokens in id order, the reserved names (<pad>, <unk>, <bos>, <eos>) first; a character vocabulary lists one
// UTF-8 character per id. And back, with errors that name the file and the entry.
#pragma once

#include "models/data/vocab.h"

#include <string>
#include <vector>

namespace unroll::common {

std::vector<std::string> vocab_entries(const data::CharVocab& vocab);
std::vector<std::string> vocab_entries(const data::Vocab& vocab);

// Throws std::invalid_argument naming `path` when the reserved names are not first, an entry of a character
// vocabulary is not one character, or the list does not hold `expected_size` ids (the config's vocab_size).
data::CharVocab char_vocab_from_entries(const std::vector<std::string>& entries, const std::string& path,
                                        std::size_t expected_size);
data::Vocab word_vocab_from_entries(const std::vector<std::string>& entries, const std::string& path,
                                    std::size_t expected_size);

}  // namespace unroll::common
