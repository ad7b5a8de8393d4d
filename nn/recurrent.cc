// nn/recurrent.cc — the RNN/LSTM/GRU layers (see nn/recurrent.h): stacking, directions, padding masks.
// Each (layer, direction) is a cell; its input projections for all T steps are one matrix product
// (rows of [T·B, in_k] · W_ihᵀ), the recurrence is a plain loop over t calling the cell's step; in the
// fused path the recurrent projection's weight gradients are one GEMM after backward (RecurrentProjection).
#include "nn/recurrent.h"

#include "engine/ops.h"
#include "engine/ops_rnn.h"
#include "nn/init.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace unroll {

namespace {
const char* kind_name(CellKind k) { return k == CellKind::RNN ? "RNN" : k == CellKind::LSTM ? "LSTM" : "GRU"; }
std::string suffix(int layer, int dir) { return fmt::format("_l{}{}", layer, dir ? "_reverse" : ""); }
}  // namespace

template <class T>
Recurrent<T>::Recurrent(CellKind kind, const RecurrentConfig& c, Rng& rng) : kind_(kind), cfg_(c) {
  const char* name = kind_name(kind);
  UNROLL_CHECK(c.input_size > 0 && c.hidden_size > 0 && c.num_layers > 0,
               "{}: input_size, hidden_size and num_layers must be positive, got {}, {}, {}", name, c.input_size,
               c.hidden_size, c.num_layers);
  UNROLL_CHECK(c.dropout >= 0.0 && c.dropout < 1.0, "{}: dropout must be in [0, 1), got {}", name, c.dropout);
  UNROLL_CHECK(!c.forget_bias || kind == CellKind::LSTM, "{}: forget_bias is an LSTM option", name);
  UNROLL_CHECK(!c.forget_bias || c.bias, "{}: forget_bias needs bias=true", name);
  UNROLL_CHECK(c.nonlinearity == Nonlinearity::Tanh || kind == CellKind::RNN, "{}: nonlinearity is an RNN option",
               name);
  const int H = c.hidden_size;
  for (int k = 0; k < c.num_layers; ++k)
    for (int d = 0; d < dirs(); ++d) {
      const int in = k == 0 ? c.input_size : H * dirs();
      std::unique_ptr<RecurrentCell<T>> cell;
      if (kind == CellKind::RNN) cell = std::make_unique<RNNCell<T>>(in, H, rng, c.bias, c.nonlinearity);
      if (kind == CellKind::LSTM) cell = std::make_unique<LSTMCell<T>>(in, H, rng, c.bias);
      if (kind == CellKind::GRU) cell = std::make_unique<GRUCell<T>>(in, H, rng, c.bias);
      if (c.init == RecurrentInit::XavierOrthogonal) {
        const std::size_t G = cell->gates();
        cell->weight_ih().value() = xavier_blocks<T>(G, H, in, rng);
        cell->weight_hh().value() = orthogonal_blocks<T>(G, H, H, rng);
        if (c.bias) {
          cell->bias_ih().value().fill(T(0));
          cell->bias_hh().value().fill(T(0));
        }
      }
      if (c.forget_bias) static_cast<LSTMCell<T>&>(*cell).set_forget_bias(T(*c.forget_bias));
      cell->set_fused(c.fused);
      cells_.push_back(std::move(cell));
      if (c.learn_initial_state) {
        init_h_.push_back(parameter(zeros<T>(1, H), "initial_h" + suffix(k, d)));
        if (kind == CellKind::LSTM) init_c_.push_back(parameter(zeros<T>(1, H), "initial_c" + suffix(k, d)));
      }
    }
  rng_ = Rng(rng.next());
}

template <class T>
std::vector<NamedParam<T>> Recurrent<T>::parameters() {
  std::vector<NamedParam<T>> out;
  for (int k = 0; k < cfg_.num_layers; ++k)
    for (int d = 0; d < dirs(); ++d)
      for (auto& p : cells_[k * dirs() + d]->parameters()) out.push_back({p.name + suffix(k, d), p.var});
  for (std::size_t i = 0; i < init_h_.size(); ++i) {
    out.push_back({init_h_[i].name(), init_h_[i]});
    if (!init_c_.empty()) out.push_back({init_c_[i].name(), init_c_[i]});
  }
  return out;
}

template <class T>
std::string Recurrent<T>::describe() const {
  std::string s = fmt::format("{}({}, {}", kind_name(kind_), cfg_.input_size, cfg_.hidden_size);
  if (cfg_.num_layers != 1) s += fmt::format(", num_layers={}", cfg_.num_layers);
  if (!cfg_.bias) s += ", bias=False";
  if (cfg_.dropout != 0) s += fmt::format(", dropout={}", cfg_.dropout);
  if (cfg_.bidirectional) s += ", bidirectional=True";
  if (cfg_.nonlinearity == Nonlinearity::Relu) s += ", nonlinearity=relu";
  if (cfg_.learn_initial_state) s += ", learn_initial_state=True";
  return s + ")";
}

template <class T>
void Recurrent<T>::check_inputs(const std::vector<Var<T>>& xs, const std::vector<int>& lengths,
                                const std::vector<Var<T>>& h0, const std::vector<Var<T>>& c0) const {
  const std::string me = describe();
  UNROLL_CHECK(!xs.empty(), "{}: empty input sequence (T = 0 steps)", me);
  UNROLL_CHECK(xs[0].defined(), "{}: x[0] is an undefined Var", me);
  const std::size_t B = xs[0].rows(), T_ = xs.size(), in = cfg_.input_size, H = cfg_.hidden_size;
  UNROLL_CHECK(B > 0, "{}: empty batch: x[0] has shape {} (B = 0)", me, shape_str(xs[0].value()));
  for (std::size_t t = 0; t < T_; ++t) {
    UNROLL_CHECK(xs[t].defined(), "{}: x[{}] is an undefined Var", me, t);
    UNROLL_CHECK(xs[t].rows() == B && xs[t].cols() == in, "{}: x[{}] has shape {}, expected {} ([B, input_size])",
                 me, t, shape_str(xs[t].value()), shape_str(B, in));
  }
  if (!lengths.empty()) {
    UNROLL_CHECK(lengths.size() == B, "{}: {} lengths for a batch of B = {} rows (one length per row)", me,
                 lengths.size(), B);
    for (std::size_t b = 0; b < B; ++b)
      UNROLL_CHECK(lengths[b] >= 1 && std::size_t(lengths[b]) <= T_,
                   "{}: lengths[{}] = {} is out of range [1, {}] (T = {} steps)", me, b, lengths[b], T_, T_);
  }
  const std::size_t n = std::size_t(cfg_.num_layers) * dirs();
  auto check_state = [&](const std::vector<Var<T>>& s, const char* what) {
    if (s.empty()) return;
    UNROLL_CHECK(s.size() == n, "{}: {} has {} tensors, expected {} (num_layers·directions)", me, what, s.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      UNROLL_CHECK(s[i].defined(), "{}: {}[{}] is an undefined Var", me, what, i);
      UNROLL_CHECK(s[i].rows() == B && s[i].cols() == H, "{}: {}[{}] has shape {}, expected {} ([B, hidden_size])",
                   me, what, i, shape_str(s[i].value()), shape_str(B, H));
    }
  };
  check_state(h0, "h0");
  UNROLL_CHECK(c0.empty() || kind_ == CellKind::LSTM, "{}: c0 given, but only an LSTM has a cell state", me);
  check_state(c0, "c0");
}

template <class T>
CellState<T> Recurrent<T>::initial(std::size_t idx, std::size_t B, const std::vector<Var<T>>& h0,
                                   const std::vector<Var<T>>& c0) const {
  CellState<T> s = cells_[idx]->zero_state(B);
  if (!init_h_.empty()) {  // learned: broadcast the [1, H] row to [B, H] (add_bias sums the gradient over rows)
    s.h = add_bias(s.h, init_h_[idx]);
    if (kind_ == CellKind::LSTM) s.c = add_bias(s.c, init_c_[idx]);
  }
  if (!h0.empty()) s.h = h0[idx];
  if (!c0.empty()) s.c = c0[idx];
  return s;
}

template <class T>
std::vector<CellState<T>> Recurrent<T>::initial_state(std::size_t batch) const {
  std::vector<CellState<T>> s;
  for (std::size_t i = 0; i < cells_.size(); ++i) s.push_back(initial(i, batch, {}, {}));
  return s;
}

// One step of the fused path from gi (x·W_ihᵀ + b_ih) and the layer's deferred projection: the cells'
// step_from_gates (nn/*_cell.cc) with hidden_gates(h) replaced by proj(h).
template <class T>
CellState<T> Recurrent<T>::fused_step(const Var<T>& gi, const CellState<T>& s, RecurrentProjection<T>& proj) const {
  const Var<T> gh = proj(s.h);
  if (kind_ == CellKind::LSTM) {
    LSTMGates<T> r = lstm_gates(gi, gh, s.c);
    return {r.h, r.c};
  }
  if (kind_ == CellKind::GRU) return {gru_gates(gi, gh, s.h), {}};
  return {rnn_gates(gi, gh, cfg_.nonlinearity == Nonlinearity::Relu), {}};
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward(const std::vector<Var<T>>& xs, const std::vector<int>& lengths,
                                         const std::vector<Var<T>>& h0, const std::vector<Var<T>>& c0, Rng* rng) {
  check_inputs(xs, lengths, h0, c0);
  const std::size_t B = xs[0].rows(), T_ = xs.size(), H = cfg_.hidden_size;
  const int L = cfg_.num_layers, D = dirs();
  const bool lstm = kind_ == CellKind::LSTM;

  RecurrentOutput<T> out;
  out.directions = D;
  out.lengths = lengths.empty() ? std::vector<int>(B, int(T_)) : lengths;
  // Per step: how many rows are real, and (when some are padding) the masks m (real rows 1) and 1 - m.
  std::vector<std::size_t> live(T_, 0);
  std::vector<Mat<T>> keep(T_), hold(T_);
  for (std::size_t t = 0; t < T_; ++t) {
    for (int len : out.lengths) live[t] += std::size_t(len) > t;
    if (live[t] == B || live[t] == 0) continue;
    keep[t] = zeros<T>(B, H);
    hold[t] = full<T>(B, H, T(1));
    for (std::size_t b = 0; b < B; ++b)
      if (std::size_t(out.lengths[b]) > t) {
        xt::view(keep[t], b, xt::all()) = T(1);
        xt::view(hold[t], b, xt::all()) = T(0);
      }
  }

  std::vector<Var<T>> layer_in = xs;
  out.hidden.assign(std::size_t(L * D), std::vector<Var<T>>(T_));
  out.h_n.resize(std::size_t(L * D));
  if (lstm) out.c_n.resize(std::size_t(L * D));
  for (int k = 0; k < L; ++k) {
    const Var<T> x_all = T_ == 1 ? layer_in[0] : concat_rows(layer_in);  // [T·B, in_k]
    for (int d = 0; d < D; ++d) {
      const std::size_t idx = std::size_t(k * D + d);
      RecurrentCell<T>& cell = *cells_[idx];
      const bool label = recording_scopes();  // graph dumps: "layer k [reverse] / t=n"
      std::optional<ScopeGuard> layer_scope;
      if (label) layer_scope.emplace(fmt::format("layer {}{}", k, d ? " reverse" : ""));
      // x·W_ihᵀ + b_ih for every step: one GEMM, then T row blocks [B, G·H]
      std::vector<Var<T>> gis;
      // fused: h·W_hhᵀ + b_hh per step with dW_hh, db_hh deferred to one GEMM after the backward loop
      std::optional<RecurrentProjection<T>> proj;
      if (cfg_.fused) {
        gis = project_steps(x_all, cell.weight_ih(), {cell.bias_ih()}, T_);
        if (cell.fused()) proj.emplace(cell.weight_hh(), cell.bias_hh());
      } else {
        const Var<T> gi_all = cell.input_gates(x_all);                    // [T·B, G·H]
        for (std::size_t t = 0; t < T_; ++t) gis.push_back(T_ == 1 ? gi_all : rows(gi_all, t * B, (t + 1) * B));
      }
      CellState<T> s = initial(idx, B, h0, c0);
      for (std::size_t n = 0; n < T_; ++n) {
        const std::size_t t = d == 0 ? n : T_ - 1 - n;
        Var<T>& h_t = out.hidden[idx][t];
        std::optional<ScopeGuard> step_scope;
        if (label) step_scope.emplace(fmt::format("t={}", t));
        if (live[t] == 0) {  // every row is padding here: output zero, state unchanged
          h_t = constant(zeros<T>(B, H));
          continue;
        }
        CellState<T> next = proj ? fused_step(gis[t], s, *proj) : cell.step_from_gates(gis[t], s);
        if (live[t] == B) {
          s = next;
          h_t = s.h;
        } else {  // real rows take the new state, padded rows keep the old one (and output zero)
          h_t = mask(next.h, keep[t]);
          s.h = h_t + mask(s.h, hold[t]);
          if (lstm) s.c = mask(next.c, keep[t]) + mask(s.c, hold[t]);
        }
      }
      out.h_n[idx] = s.h;
      if (lstm) out.c_n[idx] = s.c;
    }
    std::vector<Var<T>> layer_out(T_);
    for (std::size_t t = 0; t < T_; ++t) {
      layer_out[t] = D == 1 ? out.hidden[std::size_t(k * D)][t]
                            : concat_cols(std::vector<Var<T>>{out.hidden[std::size_t(k * D)][t],
                                                              out.hidden[std::size_t(k * D + 1)][t]});
      if (k + 1 < L && cfg_.dropout > 0 && this->training())
        layer_out[t] = dropout(layer_out[t], cfg_.dropout, rng ? *rng : rng_, true);
    }
    layer_in = std::move(layer_out);
  }
  out.outputs = std::move(layer_in);
  return out;
}

template <class T>
Var<T> Recurrent<T>::step(const Var<T>& x, std::vector<CellState<T>>& state, Rng* rng) {
  const std::string me = describe();
  UNROLL_CHECK(!cfg_.bidirectional, "{}: step() runs forward in time; a bidirectional layer needs the whole sequence",
               me);
  UNROLL_CHECK(x.defined(), "{}: step: x is an undefined Var", me);
  UNROLL_CHECK(x.rows() > 0 && x.cols() == std::size_t(cfg_.input_size),
               "{}: step: x has shape {}, expected [B, {}] ([B, input_size], B > 0)", me, shape_str(x.value()),
               cfg_.input_size);
  UNROLL_CHECK(state.size() == cells_.size(), "{}: step: state has {} entries, expected {} (one per layer)", me,
               state.size(), cells_.size());
  Var<T> in = x;
  for (std::size_t k = 0; k < cells_.size(); ++k) {
    if (k > 0 && cfg_.dropout > 0 && this->training()) in = dropout(in, cfg_.dropout, rng ? *rng : rng_, true);
    state[k] = cells_[k]->step(in, state[k]);
    in = state[k].h;
  }
  return in;
}

// ---- gradient flow ---------------------------------------------------------------------------------

template <class T>
std::vector<double> gradient_norms(const RecurrentOutput<T>& out, int layer, int direction) {
  const int D = out.directions, L = int(out.hidden.size()) / std::max(D, 1);
  if (layer < 0) layer = L - 1;
  UNROLL_CHECK(layer >= 0 && layer < L && direction >= 0 && direction < D,
               "gradient_norms: layer {} direction {} out of range ({} layers, {} directions)", layer, direction, L, D);
  const auto& hs = out.hidden[std::size_t(layer * D + direction)];
  std::vector<double> norms;
  for (std::size_t t = 0; t < hs.size(); ++t) {
    double s = 0;
    const Var<T>& v = hs[t];
    if (v.defined() && v.grad().size() == v.value().size() && v.grad().size() > 0)
      for (std::size_t b = 0; b < v.rows(); ++b) {
        if (std::size_t(out.lengths[b]) <= t) continue;  // padding: not a real step of this row
        for (std::size_t j = 0; j < v.cols(); ++j) s += double(v.grad()(b, j)) * double(v.grad()(b, j));
      }
    norms.push_back(std::sqrt(s));
  }
  return norms;
}

template class Recurrent<float>;
template class Recurrent<double>;
template std::vector<double> gradient_norms<float>(const RecurrentOutput<float>&, int, int);
template std::vector<double> gradient_norms<double>(const RecurrentOutput<double>&, int, int);

}  // namespace unroll
