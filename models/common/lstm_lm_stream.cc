// models/common/lstm_lm_stream.cc — see lstm_lm_stream.h.
#include "models/common/lstm_lm_stream.h"

#include "engine/check.h"
#include "engine/ops.h"
#include "models/data/vocab.h"
#include "nn/clip.h"

#include <algorithm>

namespace unroll::common {

StepLoss lm_train_step(LstmLm<float>& model, const data::StreamBatches& batches, std::size_t k,
                       LstmState<float>& state, Optimizer<float>& opt, const std::vector<NamedParam<float>>& params,
                       double clip, Rng* rng) {
  std::vector<std::int64_t> x, y, y_tm;
  const std::size_t B = state.batch();
  const std::size_t steps = batches.get(k, x, y);
  y_tm.resize(B * steps);  // the logits are time-major: row t·B + b
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < steps; ++t) y_tm[t * B + b] = y[b * steps + t];
  model.zero_grad();
  const Var<float> logits = model.forward(x, B, steps, state, rng);  // [T·B, V]
  const Var<float> loss = cross_entropy(logits, y_tm);           // mean nats per token
  loss.backward();
  StepLoss r;
  r.grad_norm = clip > 0 ? clip_grad_norm_(params, clip) : grad_norm(params);
  opt.step();
  state = detach_state(state);  // truncated BPTT: the next chunk starts from this state, gradients stop here
  r.tokens = B * steps;
  r.nats = double(loss.item()) * double(r.tokens);
  return r;
}

StreamNats lm_stream_nats(LstmLm<float>& model, const std::vector<std::int64_t>& ids, std::size_t context,
                          std::size_t B, std::size_t T, std::size_t warmup) {
  UNROLL_CHECK(context > 0 && context <= ids.size() && T > 0,
               "lm_stream_nats: needs 0 < context <= {} ids and T > 0, got context {} and T {}", ids.size(), context,
               T);
  NoGradGuard no_grad;
  const std::size_t n = ids.size() - context;  // tokens to score: ids[context .. context + n)
  StreamNats r;
  r.tokens = n;
  if (n == 0) return r;
  B = std::max<std::size_t>(1, std::min(B, n));
  // Row b scores targets [lo_b, hi_b) (positions in ids); its inputs start at first_b.
  std::vector<std::size_t> first(B), lo(B), hi(B);
  std::size_t longest = 0;
  for (std::size_t b = 0; b < B; ++b) {
    lo[b] = context + b * n / B;
    hi[b] = context + (b + 1) * n / B;
    first[b] = b == 0 ? 0 : lo[b] - 1 - std::min(warmup, lo[b] - 1);
    longest = std::max(longest, hi[b] - 1 - first[b]);
  }
  LstmState<float> state = model.zero_state(B);
  std::vector<std::int64_t> x, y;
  for (std::size_t start = 0; start < longest; start += T) {
    const std::size_t steps = std::min(T, longest - start);
    x.assign(B * steps, data::Vocab::pad);
    y.assign(B * steps, -100);  // time-major targets; -100 = not scored
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t p = first[b] + start + t;  // input position; predicts p + 1
        if (p + 1 >= hi[b]) continue;
        x[b * steps + t] = ids[p];
        if (p + 1 >= lo[b]) y[t * B + b] = ids[p + 1];
      }
    const Var<float> logits = model.forward(x, B, steps, state);
    r.nats += double(cross_entropy(logits, y, std::int64_t(-100), Reduction::Sum).item());
  }
  return r;
}

}  // namespace unroll::common
