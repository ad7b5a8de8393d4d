// nn/init.h — parameter initialisers. Every one draws from an explicit, seeded Rng and returns a
// materialized Mat (or fills a parameter in place), so the same seed gives bitwise the same weights.
//   uniform_init     U(-bound, bound); PyTorch's RNN/Linear default uses bound = 1/sqrt(fan) (H for cells)
//   xavier_uniform   U(-a, a), a = gain·sqrt(6 / (fan_in + fan_out))        (Glorot & Bengio 2010)
//   orthogonal       Q of the QR of a normal matrix, sign-corrected (Saxe et al. 2014), times gain
// Recurrent matrices are [gates·H, H]: orthogonal_blocks makes each gate's [H, H] block orthogonal.
#pragma once

#include "engine/rng.h"
#include "engine/var.h"

#include <cstddef>

namespace unroll {

template <class T> Mat<T> uniform_init(std::size_t rows, std::size_t cols, double bound, Rng& rng);
template <class T> Mat<T> xavier_uniform(std::size_t rows, std::size_t cols, Rng& rng, double gain = 1.0);
// rows >= cols: orthonormal columns; rows < cols: orthonormal rows (as torch.nn.init.orthogonal_).
template <class T> Mat<T> orthogonal(std::size_t rows, std::size_t cols, Rng& rng, double gain = 1.0);
// A [blocks·n, m] matrix made of `blocks` stacked orthogonal [n, m] blocks (one per gate).
template <class T> Mat<T> orthogonal_blocks(std::size_t blocks, std::size_t n, std::size_t m, Rng& rng,
                                            double gain = 1.0);
// Same for Xavier: each gate block [n, m] gets its own fan (n + m), as if it were its own matrix.
template <class T> Mat<T> xavier_blocks(std::size_t blocks, std::size_t n, std::size_t m, Rng& rng,
                                        double gain = 1.0);

// In-place versions for parameters (keep the Var, replace the value; the shape must not change).
template <class T> void init_uniform_(Var<T>& p, double bound, Rng& rng);
template <class T> void init_xavier_(Var<T>& p, Rng& rng, double gain = 1.0);
template <class T> void init_orthogonal_(Var<T>& p, Rng& rng, double gain = 1.0);
template <class T> void init_constant_(Var<T>& p, T value);

}  // namespace unroll
