// nn/tbptt.cc — the chunk loop of truncated BPTT.
#include "nn/tbptt.h"

#include <algorithm>

namespace unroll {

template <class T>
std::vector<Var<T>> detach_state(const std::vector<Var<T>>& state) {
  std::vector<Var<T>> out;
  out.reserve(state.size());
  for (const auto& v : state) out.push_back(v.defined() ? detach(v) : Var<T>());
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> tbptt_chunks(std::size_t steps, std::size_t k) {
  UNROLL_CHECK(k > 0, "tbptt: chunk length k must be >= 1, got 0 (for {} steps)", steps);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t t0 = 0; t0 < steps; t0 += k) out.emplace_back(t0, std::min(steps, t0 + k));
  return out;
}

template <class T>
TbpttResult<T> tbptt(std::size_t steps, std::size_t k, std::vector<Var<T>> initial_state, const ChunkFn<T>& chunk,
                     const std::function<void(std::size_t)>& after_backward) {
  UNROLL_CHECK(static_cast<bool>(chunk), "tbptt: no chunk function given");
  const auto chunks = tbptt_chunks(steps, k);
  TbpttResult<T> res;
  std::vector<Var<T>> state = std::move(initial_state);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto [t0, t1] = chunks[i];
    ChunkOutput<T> out = chunk(t0, t1, state);
    UNROLL_CHECK(out.state.size() == state.size(),
                 "tbptt: the chunk function returned a state of {} Vars for steps [{}, {}), it was given {}",
                 out.state.size(), t0, t1, state.size());
    double l = 0;
    if (out.loss.defined()) {
      UNROLL_CHECK(out.loss.value().size() == 1, "tbptt: the loss of steps [{}, {}) is {}, expected [1, 1]", t0, t1,
                   shape_str(out.loss.value()));
      l = double(out.loss.item());
      out.loss.backward();
    }
    res.chunk_losses.push_back(l);
    res.total_loss += l;
    if (after_backward) after_backward(i);
    state = detach_state(out.state);  // the next chunk's graph starts here: no gradient crosses the border
  }
  res.final_state = std::move(state);
  return res;
}

template std::vector<Var<float>> detach_state<float>(const std::vector<Var<float>>&);
template std::vector<Var<double>> detach_state<double>(const std::vector<Var<double>>&);
template TbpttResult<float> tbptt<float>(std::size_t, std::size_t, std::vector<Var<float>>, const ChunkFn<float>&,
                                         const std::function<void(std::size_t)>&);
template TbpttResult<double> tbptt<double>(std::size_t, std::size_t, std::vector<Var<double>>, const ChunkFn<double>&,
                                           const std::function<void(std::size_t)>&);

}  // namespace unroll
