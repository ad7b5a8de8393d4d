// models/char_lm/infer.cc — what a trained char LM does: bits/char over a text, sampling, scoring; model files.
#include "models/char_lm/train.h"

#include "engine/ops.h"
#include "models/data/fortunes.h"
#include "models/data/utf8.h"
#include "nn/checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace unroll::char_lm {

namespace {
constexpr double kLn2 = 0.69314718055994530942;
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The context every fortune starts from: the end mark of the one before it.
std::vector<std::int64_t> start_context(const data::CharVocab& vocab) { return vocab.encode(data::fortune_end_mark); }
}  // namespace

// ---- model files ---------------------------------------------------------------------------------------
void save_char_lm(const std::string& path, CharLm<float>& model, const data::CharVocab& vocab) {
  ModelInfo info;
  info.config = model.config().to_json();
  for (auto name : data::Vocab::reserved_names) info.vocab.emplace_back(name);
  for (std::size_t id = data::Vocab::num_reserved; id < vocab.size(); ++id) {
    std::string s;
    data::utf8_append(s, vocab.code_point(std::int64_t(id)));
    info.vocab.push_back(std::move(s));
  }
  info.extra["model"] = "char_lm";
  save_model<float>(path, model, info);
}

LoadedCharLm load_char_lm(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  CharLmConfig config;
  try {
    config = CharLmConfig::from_json(info.config);
  } catch (const std::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not a char LM model file: {}", path, e.what()));
  }
  LoadedCharLm out;
  if (info.vocab.size() < data::Vocab::num_reserved)
    throw std::invalid_argument(fmt::format("{}: vocabulary has {} entries, expected at least the {} reserved ids",
                                            path, info.vocab.size(), data::Vocab::num_reserved));
  for (std::size_t i = 0; i < info.vocab.size(); ++i) {
    if (i < data::Vocab::num_reserved) {
      if (info.vocab[i] != data::Vocab::reserved_names[i])
        throw std::invalid_argument(fmt::format("{}: vocabulary entry {} is '{}', expected '{}'", path, i,
                                                info.vocab[i], data::Vocab::reserved_names[i]));
      continue;
    }
    const auto cps = data::utf8_decode(info.vocab[i]);
    if (cps.size() != 1)
      throw std::invalid_argument(fmt::format("{}: vocabulary entry {} '{}' is not one character", path, i,
                                              info.vocab[i]));
    out.vocab.add(cps[0]);
  }
  out.vocab.freeze();
  if (out.vocab.size() != std::size_t(config.vocab_size))
    throw std::invalid_argument(fmt::format("{}: config says vocab_size {}, the file lists {} tokens", path,
                                            config.vocab_size, out.vocab.size()));
  Rng rng(0);
  out.model = std::make_unique<CharLm<float>>(config, rng);
  load_model<float>(path, *out.model);
  out.model->eval();
  return out;
}

// ---- bits per character --------------------------------------------------------------------------------
EvalResult evaluate_bits(CharLm<float>& model, const data::CharVocab& vocab, std::string_view text, std::size_t B,
                         std::size_t T, std::size_t warmup) {
  const auto t0 = Clock::now();
  NoGradGuard no_grad;
  std::vector<std::int64_t> ids = start_context(vocab);
  const std::size_t off = ids.size();
  const std::vector<std::int64_t> body = vocab.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  const std::size_t n = body.size();  // characters to score: ids[off .. off + n)
  EvalResult r;
  r.chars = n;
  if (n == 0) return r;
  B = std::max<std::size_t>(1, std::min(B, n));
  // Row b scores targets [lo_b, hi_b) (positions in ids); its inputs start `warm` positions earlier.
  std::vector<std::size_t> first(B), lo(B), hi(B);
  std::size_t longest = 0;
  for (std::size_t b = 0; b < B; ++b) {
    lo[b] = off + b * n / B;
    hi[b] = off + (b + 1) * n / B;
    first[b] = b == 0 ? 0 : lo[b] - 1 - std::min(warmup, lo[b] - 1);  // first input position
    longest = std::max(longest, hi[b] - 1 - first[b]);
  }
  LstmState<float> state = model.zero_state(B);
  double nats = 0;
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
    nats += double(cross_entropy(logits, y, std::int64_t(-100), Reduction::Sum).item());
  }
  r.nats = nats;
  r.bits_per_char = nats / kLn2 / double(n);
  r.seconds = seconds_since(t0);
  return r;
}

// ---- sampling ------------------------------------------------------------------------------------------
namespace {
// Draws an id from row 0 of logits with temperature and top-k; reserved ids (<pad>, <unk>, <bos>, <eos>)
// get probability 0, so <unk> is never emitted.
std::int64_t draw(const Mat<float>& logits, double temperature, int top_k, Rng& rng) {
  const std::size_t V = logits.shape(1), R = data::Vocab::num_reserved;
  std::vector<std::pair<double, std::size_t>> cand;
  cand.reserve(V - R);
  for (std::size_t k = R; k < V; ++k) cand.emplace_back(double(logits(0, k)) / temperature, k);
  if (top_k > 0 && std::size_t(top_k) < cand.size()) {
    std::partial_sort(cand.begin(), cand.begin() + top_k, cand.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    cand.resize(std::size_t(top_k));
  }
  double m = -std::numeric_limits<double>::infinity();
  for (const auto& c : cand) m = std::max(m, c.first);
  double total = 0;
  for (auto& c : cand) total += (c.first = std::exp(c.first - m));
  double u = rng.uniform() * total;
  for (const auto& c : cand) {
    if (u < c.first) return std::int64_t(c.second);
    u -= c.first;
  }
  return std::int64_t(cand.back().second);  // rounding: u landed past the last bucket
}
}  // namespace

Sample sample_text(CharLm<float>& model, const data::CharVocab& vocab, const SampleOptions& o, Rng& rng) {
  UNROLL_CHECK(o.temperature > 0 && std::isfinite(o.temperature), "sample: temperature must be > 0, got {}",
               o.temperature);
  UNROLL_CHECK(o.top_k >= 0, "sample: top_k must be >= 0 (0 = all), got {}", o.top_k);
  UNROLL_CHECK(vocab.size() > data::Vocab::num_reserved, "sample: the vocabulary has no characters");
  NoGradGuard no_grad;
  std::vector<std::int64_t> ctx = start_context(vocab);
  const std::vector<std::int64_t> prompt = vocab.encode(o.prompt);
  ctx.insert(ctx.end(), prompt.begin(), prompt.end());
  LstmState<float> state = model.zero_state(1);
  Var<float> logits = model.forward(ctx, 1, ctx.size(), state);
  Mat<float> last = xt::view(logits.value(), xt::range(ctx.size() - 1, ctx.size()), xt::all());
  Sample s;
  s.text = o.prompt;
  const std::string_view mark = data::fortune_end_mark;
  for (int i = 0; i < o.max_chars; ++i) {
    const std::int64_t id = draw(last, o.temperature, o.top_k, rng);
    data::utf8_append(s.text, vocab.code_point(id));
    // The fortune ends with the end mark "\n%\n"; the context's newline counts for a fortune that is only "%\n".
    const std::string whole = "\n" + s.text;
    if (whole.compare(whole.size() - std::min(whole.size(), mark.size()), mark.size(), mark) == 0) {
      s.text.resize(s.text.size() >= mark.size() ? s.text.size() - mark.size() : 0);
      s.ended = true;
      break;
    }
    last = model.step({id}, state).value();
  }
  return s;
}

// ---- scoring -------------------------------------------------------------------------------------------
ScoreItem score_text(CharLm<float>& model, const data::CharVocab& vocab, std::string_view text) {
  NoGradGuard no_grad;
  ScoreItem item;
  item.text = std::string(text);
  std::vector<std::int64_t> ids = start_context(vocab);
  const std::size_t off = ids.size();
  const std::vector<std::int64_t> body = vocab.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  item.chars = body.size();
  if (body.empty()) return item;
  const std::size_t steps = ids.size() - 1;
  std::vector<std::int64_t> x(ids.begin(), ids.end() - 1), y(steps, -100);
  for (std::size_t t = off - 1; t < steps; ++t) y[t] = ids[t + 1];  // B = 1: time-major = row-major
  LstmState<float> state = model.zero_state(1);
  const Var<float> logits = model.forward(x, 1, steps, state);
  const double nats = double(cross_entropy(logits, y, std::int64_t(-100), Reduction::Sum).item());
  item.log_prob = -nats;
  item.bits = nats / kLn2;
  item.bits_per_char = item.bits / double(item.chars);
  return item;
}

}  // namespace unroll::char_lm
