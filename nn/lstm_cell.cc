// nn/lstm_cell.cc — LSTMCell (see nn/lstm_cell.h).
#include "nn/lstm_cell.h"

#include "engine/ops.h"
#include "engine/ops_rnn.h"

namespace unroll {

// ---------------------------------------------------------------------------------------------------
// lstm_cell_math  z = gi + gh; c' = σ(z_f)⊙c + σ(z_i)⊙tanh(z_g); h' = σ(z_o)⊙tanh(c')
// (the reference made of gradient-checked ops; the fused path uses engine/ops_rnn.h's lstm_gates)
template <class T>
CellState<T> lstm_cell_math(const Var<T>& gi, const Var<T>& gh, const Var<T>& c) {
  const std::size_t H = c.cols();
  Var<T> z = gi + gh;
  Var<T> i = sigmoid(cols(z, 0 * H, 1 * H));
  Var<T> f = sigmoid(cols(z, 1 * H, 2 * H));
  Var<T> g = tanh(cols(z, 2 * H, 3 * H));
  Var<T> o = sigmoid(cols(z, 3 * H, 4 * H));
  Var<T> c_next = f * c + i * g;
  return {o * tanh(c_next), c_next};
}

template <class T>
LSTMCell<T>::LSTMCell(int input_size, int hidden_size, Rng& rng, bool bias)
    : RecurrentCell<T>("LSTMCell", input_size, hidden_size, 4, bias, rng) {}

template <class T>
CellState<T> LSTMCell<T>::step_from_gates(const Var<T>& gi, const CellState<T>& s) const {
  const Var<T> gh = this->hidden_gates(s.h);
  if (!this->fused_) return lstm_cell_math(gi, gh, s.c);
  LSTMGates<T> r = lstm_gates(gi, gh, s.c);
  return {r.h, r.c};
}

template <class T>
const char* LSTMCell<T>::gate_name(int g) const {
  static const char* names[] = {"i", "f", "g", "o"};
  return g >= 0 && g < 4 ? names[g] : "?";
}

template <class T>
void LSTMCell<T>::set_forget_bias(T v) {
  UNROLL_CHECK(this->bias(), "{}: set_forget_bias needs biases (built with bias=False)", this->describe());
  const std::size_t H = this->hidden_size_;
  xt::view(this->bias_ih_.value(), 0, xt::range(H, 2 * H)) = v;
  xt::view(this->bias_hh_.value(), 0, xt::range(H, 2 * H)) = T(0);
}

template class LSTMCell<float>;
template class LSTMCell<double>;
template CellState<float> lstm_cell_math<float>(const Var<float>&, const Var<float>&, const Var<float>&);
template CellState<double> lstm_cell_math<double>(const Var<double>&, const Var<double>&, const Var<double>&);

}  // namespace unroll
