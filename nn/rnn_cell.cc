// nn/rnn_cell.cc — the RecurrentCell base (parameters, shape checks, projections) and RNNCell.
#include "nn/rnn_cell.h"

#include "engine/ops.h"
#include "engine/ops_rnn.h"
#include "nn/init.h"

#include <cmath>

namespace unroll {

template <class T>
RecurrentCell<T>::RecurrentCell(const char* type_name, int input_size, int hidden_size, int gates, bool bias,
                                Rng& rng)
    : type_name_(type_name), input_size_(input_size), hidden_size_(hidden_size), gates_(gates) {
  UNROLL_CHECK(input_size > 0 && hidden_size > 0, "{}: sizes must be positive, got input_size={}, hidden_size={}",
               type_name, input_size, hidden_size);
  const std::size_t G = std::size_t(gates) * hidden_size, H = hidden_size, in = input_size;
  const double bound = 1.0 / std::sqrt(double(hidden_size));
  weight_ih_ = parameter(uniform_init<T>(G, in, bound, rng), "weight_ih");
  weight_hh_ = parameter(uniform_init<T>(G, H, bound, rng), "weight_hh");
  if (bias) {
    bias_ih_ = parameter(uniform_init<T>(1, G, bound, rng), "bias_ih");
    bias_hh_ = parameter(uniform_init<T>(1, G, bound, rng), "bias_hh");
  }
}

template <class T>
void RecurrentCell<T>::check_state(const CellState<T>& s, std::size_t batch, const char* what) const {
  const std::size_t H = hidden_size_;
  UNROLL_CHECK(s.h.defined(), "{}: {}h is an undefined Var", describe(), what);
  UNROLL_CHECK(s.h.rows() == batch && s.h.cols() == H, "{}: {}h has shape {}, expected {} ([B, H])", describe(), what,
               shape_str(s.h.value()), shape_str(batch, H));
  if (has_cell_state()) {
    UNROLL_CHECK(s.c.defined(), "{}: {}c is an undefined Var (an LSTM state needs h and c)", describe(), what);
    UNROLL_CHECK(s.c.rows() == batch && s.c.cols() == H, "{}: {}c has shape {}, expected {} ([B, H])", describe(),
                 what, shape_str(s.c.value()), shape_str(batch, H));
  }
}

template <class T>
CellState<T> RecurrentCell<T>::step(const Var<T>& x, const CellState<T>& s) const {
  UNROLL_CHECK(x.defined(), "{}: x is an undefined Var", describe());
  UNROLL_CHECK(x.rows() > 0 && x.cols() == std::size_t(input_size_),
               "{}: x has shape {}, expected [B, {}] ([B, input_size], B > 0)", describe(), shape_str(x.value()),
               input_size_);
  check_state(s, x.rows(), "");
  return step_from_gates(input_gates(x), s);
}

template <class T>
Var<T> RecurrentCell<T>::input_gates(const Var<T>& x) const {
  return fused_ ? linear_fused(x, weight_ih_, bias_ih_) : linear(x, weight_ih_, bias_ih_);
}

template <class T>
Var<T> RecurrentCell<T>::hidden_gates(const Var<T>& h) const {
  return fused_ ? linear_fused(h, weight_hh_, bias_hh_) : linear(h, weight_hh_, bias_hh_);
}

template <class T>
CellState<T> RecurrentCell<T>::zero_state(std::size_t batch) const {
  CellState<T> s{constant(zeros<T>(batch, hidden_size_)), {}};
  if (has_cell_state()) s.c = constant(zeros<T>(batch, hidden_size_));
  return s;
}

template <class T>
std::vector<NamedParam<T>> RecurrentCell<T>::parameters() {
  std::vector<NamedParam<T>> p{{"weight_ih", weight_ih_}, {"weight_hh", weight_hh_}};
  if (bias_ih_.defined()) {
    p.push_back({"bias_ih", bias_ih_});
    p.push_back({"bias_hh", bias_hh_});
  }
  return p;
}

template <class T>
std::string RecurrentCell<T>::describe() const {
  std::string s = fmt::format("{}({}, {}", type_name_, input_size_, hidden_size_);
  if (!bias_ih_.defined()) s += ", bias=False";
  return s + extra_describe() + ")";
}

// ---------------------------------------------------------------------------------------------------
// rnn_cell_math   h' = f(gi + gh)              gi, gh [B, H]
template <class T>
Var<T> rnn_cell_math(const Var<T>& gi, const Var<T>& gh, Nonlinearity f) {
  Var<T> z = gi + gh;
  return f == Nonlinearity::Tanh ? tanh(z) : relu(z);
}

template <class T>
RNNCell<T>::RNNCell(int input_size, int hidden_size, Rng& rng, bool bias, Nonlinearity f)
    : RecurrentCell<T>("RNNCell", input_size, hidden_size, 1, bias, rng), f_(f) {}

template <class T>
CellState<T> RNNCell<T>::step_from_gates(const Var<T>& gi, const CellState<T>& s) const {
  const Var<T> gh = this->hidden_gates(s.h);
  return {this->fused_ ? rnn_gates(gi, gh, f_ == Nonlinearity::Relu) : rnn_cell_math(gi, gh, f_), {}};
}

template <class T>
std::string RNNCell<T>::extra_describe() const {
  return f_ == Nonlinearity::Relu ? ", nonlinearity=relu" : "";
}

template class RecurrentCell<float>;
template class RecurrentCell<double>;
template class RNNCell<float>;
template class RNNCell<double>;
template Var<float> rnn_cell_math<float>(const Var<float>&, const Var<float>&, Nonlinearity);
template Var<double> rnn_cell_math<double>(const Var<double>&, const Var<double>&, Nonlinearity);

}  // namespace unroll
