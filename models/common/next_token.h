// models/common/next_token.h — choosing the next token from a row of logits, as the char LM's sampler and the
// seq2seq decoders do: which ids may be emitted (never <pad>, <unk>, <bos>; <eos> only where it ends the output),
// ln softmax of a row in double, the likeliest emittable id, and a draw with temperature and top-k.
// Not here: the decoding loops (models/char_lm/infer.cc, models/seq2seq/infer.cc).
#pragma once

#include "engine/rng.h"
#include "engine/tensor.h"

#include <cstdint>
#include <vector>

namespace unroll::common {

// eos: true when <eos> is a token the decoder emits (seq2seq); false when the end is text (the char LM's "\n%\n").
bool emittable(std::size_t id, bool eos);

// ln softmax of row r of logits [R, V], in double (the same arithmetic for greedy and beam search).
std::vector<double> row_log_softmax(const Mat<float>& logits, std::size_t r);

// The emittable id with the largest log_probs entry (the lowest such id on ties).
std::size_t best_emittable(const std::vector<double>& log_probs, bool eos);

// A draw from row r of logits over the emittable ids: probabilities ∝ exp(logit / temperature) among the top_k
// largest logits (0 = all; ties to the lower id). temperature > 0.
std::int64_t sample_emittable(const Mat<float>& logits, std::size_t r, double temperature, int top_k, bool eos,
                              Rng& rng);

}  // namespace unroll::common
