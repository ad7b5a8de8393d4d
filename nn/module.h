// nn/module.h — the module base: named parameters (PyTorch state_dict names), train/eval mode,
// counting and zeroing gradients, a one-line description. Modules are templated on the scalar
// (float for training, double for gradient checks), like the engine.
#pragma once

#include "engine/var.h"

#include <string>
#include <vector>

namespace unroll {

template <class T>
struct NamedParam {
  std::string name;  // PyTorch's state_dict name: "weight_ih_l0", "weight_hh_l1_reverse", "encoder.weight"
  Var<T> var;
};

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  // Every trainable tensor, in a fixed order, with its state_dict name. Composite modules prefix their
  // children's names ("lstm.weight_ih_l0") with add_child_params.
  virtual std::vector<NamedParam<T>> parameters() = 0;
  virtual std::string describe() const = 0;   // "LSTM(input_size=64, hidden_size=256, num_layers=2)"

  virtual void train(bool on = true) { training_ = on; }
  void eval() { train(false); }
  bool training() const { return training_; }

  void zero_grad() {
    for (auto& p : parameters()) p.var.zero_grad();
  }
  std::size_t num_parameters() {
    std::size_t n = 0;
    for (auto& p : parameters()) n += p.var.value().size();
    return n;
  }

 protected:
  static void add_child_params(std::vector<NamedParam<T>>& out, const std::string& prefix,
                               std::vector<NamedParam<T>> child) {
    for (auto& p : child) out.push_back({prefix + "." + p.name, std::move(p.var)});
  }
  bool training_ = true;
};

}  // namespace unroll
