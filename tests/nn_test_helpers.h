// tests/nn_test_helpers.h — helpers shared by the tests/test_nn_*.cc files: the three layer types as
// doctest template parameters, seeded sequences, weight copying by name, matrix comparison.
#pragma once

#include "engine/ops.h"
#include "nn/recurrent.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace unroll::nntest {

template <class T>
CellKind kind_of();
template <> inline CellKind kind_of<RNN<double>>() { return CellKind::RNN; }
template <> inline CellKind kind_of<LSTM<double>>() { return CellKind::LSTM; }
template <> inline CellKind kind_of<GRU<double>>() { return CellKind::GRU; }
template <> inline CellKind kind_of<RNN<float>>() { return CellKind::RNN; }
template <> inline CellKind kind_of<LSTM<float>>() { return CellKind::LSTM; }
template <> inline CellKind kind_of<GRU<float>>() { return CellKind::GRU; }

inline RecurrentConfig cfg(int in, int H, int layers = 1, bool bi = false) {
  return recurrent_config(in, H, layers, bi);
}

// T steps of [B, in] leaves taking gradients, N(0, 1) from seed.
template <class T = double>
std::vector<Var<T>> random_steps(std::size_t steps, std::size_t B, std::size_t in, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Var<T>> xs;
  for (std::size_t t = 0; t < steps; ++t) xs.push_back(parameter(rng.normal_mat<T>(B, in)));
  return xs;
}

// Largest |a - b| (or 1e300 when the shapes differ).
template <class A, class B>
double max_diff(const A& a, const B& b) {
  if (a.shape(0) != b.shape(0) || a.shape(1) != b.shape(1)) return 1e300;
  double m = 0;
  for (std::size_t i = 0; i < a.shape(0); ++i)
    for (std::size_t j = 0; j < a.shape(1); ++j) m = std::max(m, std::abs(double(a(i, j)) - double(b(i, j))));
  return m;
}

// dst's parameter named to_name := src's parameter named from_name (values copied, shapes must match).
template <class T>
void copy_param(Module<T>& dst, const std::string& to_name, Module<T>& src, const std::string& from_name) {
  Var<T> from, to;
  for (auto& p : src.parameters())
    if (p.name == from_name) from = p.var;
  for (auto& p : dst.parameters())
    if (p.name == to_name) to = p.var;
  REQUIRE_MESSAGE(from.defined(), "no parameter " << from_name);
  REQUIRE_MESSAGE(to.defined(), "no parameter " << to_name);
  REQUIRE(from.value().shape() == to.value().shape());
  to.value() = from.value();
}

// The parameters' gradients by name (copies).
template <class T>
std::map<std::string, Mat<T>> grads_by_name(Module<T>& m) {
  std::map<std::string, Mat<T>> g;
  for (auto& p : m.parameters()) g[p.name] = p.var.grad();
  return g;
}

// Σ_t sum(y_t ⊙ R_t) as one [1, 1] Var, R_t fixed constants.
template <class T>
Var<T> project(const std::vector<Var<T>>& ys, const std::vector<Mat<T>>& Rs) {
  Var<T> total;
  for (std::size_t t = 0; t < ys.size(); ++t) {
    Var<T> s = sum(mask(ys[t], Rs[t]));
    total = total.defined() ? total + s : s;
  }
  return total;
}

}  // namespace unroll::nntest
