// models/char_lm/infer.cc — what a trained char LM does: bits/char over a text, sampling, scoring; model files.
#include "models/char_lm/train.h"

#include "engine/ops.h"
#include "models/common/lstm_lm_stream.h"
#include "models/common/model_file.h"
#include "models/common/model_vocab.h"
#include "models/common/next_token.h"
#include "models/common/stopwatch.h"
#include "models/data/fortunes.h"
#include "models/data/utf8.h"
#include "nn/checkpoint.h"

#include <algorithm>
#include <cmath>

namespace unroll::char_lm {

namespace {
constexpr double kLn2 = 0.69314718055994530942;

// The context every fortune starts from: the end mark of the one before it.
std::vector<std::int64_t> start_context(const data::CharVocab& vocab) { return vocab.encode(data::fortune_end_mark); }
}  // namespace

// ---- model files ---------------------------------------------------------------------------------------
void save_char_lm(const std::string& path, CharLm<float>& model, const data::CharVocab& vocab) {
  common::save_model_file(path, model, "char_lm", common::vocab_entries(vocab));
}

LoadedCharLm load_char_lm(const std::string& path) {
  const ModelInfo info = read_model_info(path);
  const common::LstmLmConfig config = common::LstmLmConfig::from_json(info.config, common::LstmLmArch::chars, path);
  LoadedCharLm out;
  out.vocab = common::char_vocab_from_entries(info.vocab, path, std::size_t(config.vocab_size));
  out.model = common::load_model_weights<CharLm<float>>(path, config);
  return out;
}

// ---- bits per character --------------------------------------------------------------------------------
EvalResult evaluate_bits(CharLm<float>& model, const data::CharVocab& vocab, std::string_view text, std::size_t B,
                         std::size_t T, std::size_t warmup) {
  const common::Stopwatch clock;
  std::vector<std::int64_t> ids = start_context(vocab);
  const std::size_t context = ids.size();
  const std::vector<std::int64_t> body = vocab.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  const common::StreamNats s = common::lm_stream_nats(model, ids, context, B, T, warmup);
  EvalResult r;
  r.chars = s.tokens;
  if (r.chars == 0) return r;
  r.nats = s.nats;
  r.bits_per_char = s.nats / kLn2 / double(r.chars);
  r.seconds = clock.wall_seconds();
  return r;
}

// ---- sampling ------------------------------------------------------------------------------------------
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
    const std::int64_t id = common::sample_emittable(last, 0, o.temperature, o.top_k, /*eos=*/false, rng);
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
