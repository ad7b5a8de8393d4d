// nn/gru_cell.cc — GRUCell (see nn/gru_cell.h).
#include "nn/gru_cell.h"

#include "engine/ops.h"
#include "engine/ops_rnn.h"

namespace unroll {

// ---------------------------------------------------------------------------------------------------
// gru_cell_math  r = σ(gi_r + gh_r); z = σ(gi_z + gh_z); n = tanh(gi_n + r⊙gh_n); h' = n + z⊙(h - n)
// (h' = (1-z)⊙n + z⊙h written with one product fewer; the fused path uses engine/ops_rnn.h's gru_gates)
template <class T>
Var<T> gru_cell_math(const Var<T>& gi, const Var<T>& gh, const Var<T>& h) {
  const std::size_t H = h.cols();
  Var<T> r = sigmoid(cols(gi, 0 * H, 1 * H) + cols(gh, 0 * H, 1 * H));
  Var<T> z = sigmoid(cols(gi, 1 * H, 2 * H) + cols(gh, 1 * H, 2 * H));
  Var<T> n = tanh(cols(gi, 2 * H, 3 * H) + r * cols(gh, 2 * H, 3 * H));
  return n + z * (h - n);
}

template <class T>
GRUCell<T>::GRUCell(int input_size, int hidden_size, Rng& rng, bool bias)
    : RecurrentCell<T>("GRUCell", input_size, hidden_size, 3, bias, rng) {}

template <class T>
CellState<T> GRUCell<T>::step_from_gates(const Var<T>& gi, const CellState<T>& s) const {
  const Var<T> gh = this->hidden_gates(s.h);
  return {this->fused_ ? gru_gates(gi, gh, s.h) : gru_cell_math(gi, gh, s.h), {}};
}

template <class T>
const char* GRUCell<T>::gate_name(int g) const {
  static const char* names[] = {"r", "z", "n"};
  return g >= 0 && g < 3 ? names[g] : "?";
}

template class GRUCell<float>;
template class GRUCell<double>;
template Var<float> gru_cell_math<float>(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> gru_cell_math<double>(const Var<double>&, const Var<double>&, const Var<double>&);

}  // namespace unroll
