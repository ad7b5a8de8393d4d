// models/common/lstm_lm_stream.h — an LstmLm over one long token stream, as both LMs train and evaluate it:
// one truncated-BPTT step over B parallel columns (models/data/batching.h StreamBatches), and the total
// -ln P of a stream cut into B contiguous segments run in parallel.
// Not here: the loop around the steps (train_loop.h), the data, the metrics' names (bits/char, perplexity).
#pragma once

#include "models/common/lstm_lm.h"
#include "models/data/batching.h"
#include "nn/optim.h"

#include <cstdint>
#include <vector>

namespace unroll::common {

struct StepLoss {
  double nats = 0;          // -ln P summed over the step's targets
  std::size_t tokens = 0;   // B·steps
  double grad_norm = 0;     // global gradient norm before clipping
};

// Batch k of `batches`: forward from `state`, mean cross-entropy, backward, clip the global norm to `clip`
// (0 = no clipping), one optimizer step; `state` becomes the chunk's final state, detached (gradients stop here).
// rng: the dropout masks (nullptr: the model's own generator); pass the run's saved generator so --resume repeats.
StepLoss lm_train_step(LstmLm<float>& model, const data::StreamBatches& batches, std::size_t k,
                       LstmState<float>& state, Optimizer<float>& opt, const std::vector<NamedParam<float>>& params,
                       double clip, Rng* rng = nullptr);

struct StreamNats {
  double nats = 0;          // -ln P over every scored token
  std::size_t tokens = 0;   // ids.size() - context
};

// -ln P(ids[context ..] | what precedes each) with gradients off: ids[0 .. context) is the context before the first
// scored token (e.g. a start mark). The scored part is cut into B contiguous segments run in parallel from a zero
// state, T steps at a time; row 0 reads the whole context, every later row first reads the `warmup` ids before its
// segment (not scored). B = 1 is the exact score of the stream as one sequence.
StreamNats lm_stream_nats(LstmLm<float>& model, const std::vector<std::int64_t>& ids, std::size_t context,
                          std::size_t B, std::size_t T, std::size_t warmup = 0);

}  // namespace unroll::common
