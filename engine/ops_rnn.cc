// engine/ops_rnn.cc — fused recurrent ops (see engine/ops_rnn.h): LSTM/GRU/RNN gate kernels, the one-node
// affine map and the hoisted input projection. Forward and backward side by side; kernels are plain loops
// over raw row-major buffers (no xtensor expressions in the hot path, no temporaries beyond what backward
// keeps). Backward ACCUMULATES into the parents' gradients and skips parents that take none.
#include "engine/ops_rnn.h"

#include "engine/gemm.h"
#include "engine/packed_gemm.h"
#include "engine/parallel.h"
#include "engine/vec_math.h"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace unroll {

namespace {
// ---- activations over arrays (float: engine/vec_math.h) ---------------------------------------------
template <class T>
void sigmoid_inplace(T* p, std::size_t n) {
  if constexpr (std::is_same_v<T, float>) return sigmoid_f32(p, n);
  for (std::size_t k = 0; k < n; ++k) p[k] = T(1) / (T(1) + std::exp(-p[k]));  // e^-v = inf gives 0, not NaN
}
template <class T>
void tanh_inplace(T* p, std::size_t n) {
  if constexpr (std::is_same_v<T, float>) return tanh_f32(p, n);
  for (std::size_t k = 0; k < n; ++k) p[k] = std::tanh(p[k]);
}
// dst[k] = a[k] + b[k] (b may be null: a copy)
template <class T>
void add_into(T* dst, const T* a, const T* b, std::size_t n) {
  if (b)
    for (std::size_t k = 0; k < n; ++k) dst[k] = a[k] + b[k];
  else
    std::memcpy(dst, a, n * sizeof(T));
}

template <class T>
void check_gates(const char* op, const Var<T>& gi, const Var<T>* gh, const Var<T>& state, std::size_t gates,
                 const char* state_name) {
  UNROLL_CHECK(gi.defined() && (!gh || gh->defined()) && state.defined(), "{}: an input is an undefined Var", op);
  const std::size_t B = state.rows(), H = state.cols();
  UNROLL_CHECK(gi.rows() == B && gi.cols() == gates * H,
               "{}: gates are {}, {} is {} (want gates [B, {}·H], {} [B, H])", op, shape_str(gi.value()), state_name,
               shape_str(state.value()), gates, state_name);
  if (gh)
    UNROLL_CHECK(gh->value().shape() == gi.value().shape(), "{}: gi is {}, gh is {} (they must match: [B, {}·H])", op,
                 shape_str(gi.value()), shape_str(gh->value()), gates);
}

// dst[b, lo:lo+n] += src[b, 0:n] for every row (row strides ds, ss).
template <class T>
inline void add_block(T* dst, std::size_t ds, const T* src, std::size_t ss, std::size_t B, std::size_t n) {
  for (std::size_t b = 0; b < B; ++b) {
    T* d = dst + b * ds;
    const T* s = src + b * ss;
    for (std::size_t j = 0; j < n; ++j) d[j] += s[j];
  }
}

// The shared body of both lstm_gates forms; gh may be null (z given whole).
template <class T>
LSTMGates<T> lstm_gates_impl(const Var<T>& gi, const Var<T>* gh, const Var<T>& c_prev) {
  check_gates("lstm_gates", gi, gh, c_prev, 4, "c_prev");
  const std::size_t B = c_prev.rows(), H = c_prev.cols(), G = 4 * H;
  Mat<T> c = Mat<T>::from_shape({B, H}), h = Mat<T>::from_shape({B, H});
  Mat<T> ifg = Mat<T>::from_shape({B, 3 * H});  // σ(z_i), σ(z_f), tanh(z_g): for c's backward
  Mat<T> otc = Mat<T>::from_shape({B, 2 * H});  // σ(z_o), tanh(c): for h's backward
  const T* pz = gi.value().data();
  const T* ph = gh ? gh->value().data() : nullptr;
  const T* pc = c_prev.value().data();
  parallel_rows(B, 60.0 * double(H), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const T* zr = pz + b * G;
      const T* hr = ph ? ph + b * G : nullptr;
      T* a = ifg.data() + b * 3 * H;
      T* s = otc.data() + b * 2 * H;
      T* cr = c.data() + b * H;
      T* hh = h.data() + b * H;
      const T* cp = pc + b * H;
      add_into(a, zr, hr, 3 * H);                             // z_i, z_f, z_g
      add_into(s, zr + 3 * H, hr ? hr + 3 * H : nullptr, H);  // z_o
      sigmoid_inplace(a, 2 * H);                              // i, f
      tanh_inplace(a + 2 * H, H);                             // g
      sigmoid_inplace(s, H);                                  // o
      for (std::size_t j = 0; j < H; ++j) cr[j] = s[H + j] = a[H + j] * cp[j] + a[j] * a[2 * H + j];
      tanh_inplace(s + H, H);                                 // tanh(c)
      for (std::size_t j = 0; j < H; ++j) hh[j] = s[j] * s[H + j];
    }
  });
  // c: backward  dc (complete: h's backward ran first, h being c's child)
  //   dc_prev += dc⊙f;  dz_i = dc⊙g⊙i(1-i);  dz_f = dc⊙c_prev⊙f(1-f);  dz_g = dc⊙i⊙(1-g²)  -> gi and gh
  std::vector<Var<T>> cparents{gi, c_prev};
  if (gh) cparents.push_back(*gh);
  Var<T> cv = make_op<T>("lstm_gates", std::move(c), std::move(cparents), [ifg = std::move(ifg)](Node<T>& out) {
    const std::size_t B = out.value.shape(0), H = out.value.shape(1), G = 4 * H;
    const bool has_gh = out.parents.size() == 3;
    const T* dc = out.grad.data();
    const T* cp = out.parent(1).value.data();
    T* dgi = out.wants(0) ? out.parent(0).grad.data() : nullptr;
    T* dcp = out.wants(1) ? out.parent(1).grad.data() : nullptr;
    T* dgh = has_gh && out.wants(2) ? out.parent(2).grad.data() : nullptr;
    parallel_rows(B, 60.0 * double(H), [&](std::size_t b0, std::size_t b1) {  // measured ~60 flops' time a unit
      std::vector<T> dz(3 * H);  // dz_i, dz_f, dz_g of one row: branch-free loops that vectorize
      for (std::size_t b = b0; b < b1; ++b) {
        const T* a = ifg.data() + b * 3 * H;
        const T* dcr = dc + b * H;
        const T* cpr = cp + b * H;
        if (dcp)
          for (std::size_t j = 0; j < H; ++j) dcp[b * H + j] += dcr[j] * a[H + j];
        if (!dgi && !dgh) continue;
        T* d = dz.data();
        for (std::size_t j = 0; j < H; ++j) {
          const T i = a[j], f = a[H + j], g = a[2 * H + j], dv = dcr[j];
          d[j] = dv * g * i * (T(1) - i);
          d[H + j] = dv * cpr[j] * f * (T(1) - f);
          d[2 * H + j] = dv * i * (T(1) - g * g);
        }
        if (dgi) add_into(dgi + b * G, dgi + b * G, d, 3 * H);
        if (dgh) add_into(dgh + b * G, dgh + b * G, d, 3 * H);
      }
    });
  });
  // h: backward  dh
  //   dc += dh⊙o⊙(1 - tanh²c);  dz_o = dh⊙tanh(c)⊙o(1-o)  -> gi and gh
  std::vector<Var<T>> hparents{cv, gi};
  if (gh) hparents.push_back(*gh);
  Var<T> hv = make_op<T>("lstm_gates_h", std::move(h), std::move(hparents), [otc = std::move(otc)](Node<T>& out) {
    const std::size_t B = out.value.shape(0), H = out.value.shape(1), G = 4 * H;
    const bool has_gh = out.parents.size() == 3;
    T* dc = out.wants(0) ? out.parent(0).grad.data() : nullptr;
    T* dgi = out.wants(1) ? out.parent(1).grad.data() : nullptr;
    T* dgh = has_gh && out.wants(2) ? out.parent(2).grad.data() : nullptr;
    const T* dh = out.grad.data();
    parallel_rows(B, 40.0 * double(H), [&](std::size_t b0, std::size_t b1) {
      std::vector<T> dzo(H);
      for (std::size_t b = b0; b < b1; ++b) {
        const T* s = otc.data() + b * 2 * H;
        const T* dhr = dh + b * H;
        if (dc)
          for (std::size_t j = 0; j < H; ++j) dc[b * H + j] += dhr[j] * s[j] * (T(1) - s[H + j] * s[H + j]);
        if (!dgi && !dgh) continue;
        for (std::size_t j = 0; j < H; ++j) dzo[j] = dhr[j] * s[H + j] * s[j] * (T(1) - s[j]);
        if (dgi) add_into(dgi + b * G + 3 * H, dgi + b * G + 3 * H, dzo.data(), H);
        if (dgh) add_into(dgh + b * G + 3 * H, dgh + b * G + 3 * H, dzo.data(), H);
      }
    });
  });
  return {hv, cv};
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// lstm_gates  (h, c) from z [B, 4H] = gi (+ gh), c_prev [B, H]; formulas in ops_rnn.h and in the kernel above
template <class T>
LSTMGates<T> lstm_gates(const Var<T>& z, const Var<T>& c_prev) {
  return lstm_gates_impl(z, static_cast<const Var<T>*>(nullptr), c_prev);
}
template <class T>
LSTMGates<T> lstm_gates(const Var<T>& gi, const Var<T>& gh, const Var<T>& c_prev) {
  return lstm_gates_impl(gi, &gh, c_prev);
}

// ---------------------------------------------------------------------------------------------------
// gru_gates  r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r⊙gh_n);  h' = n + z⊙(h - n)
// backward   dh += dh'⊙z;  dz_pre = dh'⊙(h - n)⊙z(1-z) -> gi_z, gh_z;  dn_pre = dh'⊙(1-z)⊙(1-n²) -> gi_n,
//            gh_n += dn_pre⊙r;  dr_pre = dn_pre⊙gh_n⊙r(1-r) -> gi_r, gh_r
template <class T>
Var<T> gru_gates(const Var<T>& gi, const Var<T>& gh, const Var<T>& h_prev) {
  check_gates("gru_gates", gi, &gh, h_prev, 3, "h_prev");
  const std::size_t B = h_prev.rows(), H = h_prev.cols(), G = 3 * H;
  Mat<T> y = Mat<T>::from_shape({B, H});
  Mat<T> rzn = Mat<T>::from_shape({B, 3 * H});
  const T *pi = gi.value().data(), *pg = gh.value().data(), *ph = h_prev.value().data();
  parallel_rows(B, 50.0 * double(H), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const T *ir = pi + b * G, *gr = pg + b * G, *hr = ph + b * H;
      T* a = rzn.data() + b * G;
      T* yr = y.data() + b * H;
      add_into(a, ir, gr, 2 * H);
      sigmoid_inplace(a, 2 * H);  // r, z
      for (std::size_t j = 0; j < H; ++j) a[2 * H + j] = ir[2 * H + j] + a[j] * gr[2 * H + j];
      tanh_inplace(a + 2 * H, H);  // n
      for (std::size_t j = 0; j < H; ++j) yr[j] = a[2 * H + j] + a[H + j] * (hr[j] - a[2 * H + j]);
    }
  });
  return make_op<T>("gru_gates", std::move(y), {gi, gh, h_prev}, [rzn = std::move(rzn)](Node<T>& out) {
    const std::size_t B = out.value.shape(0), H = out.value.shape(1), G = 3 * H;
    T* dgi = out.wants(0) ? out.parent(0).grad.data() : nullptr;
    T* dgh = out.wants(1) ? out.parent(1).grad.data() : nullptr;
    T* dh = out.wants(2) ? out.parent(2).grad.data() : nullptr;
    const T* gh = out.parent(1).value.data();
    const T* hp = out.parent(2).value.data();
    const T* dy = out.grad.data();
    parallel_rows(B, 60.0 * double(H), [&](std::size_t b0, std::size_t b1) {
      for (std::size_t b = b0; b < b1; ++b) {
        const T* a = rzn.data() + b * G;
        const T *dyr = dy + b * H, *hr = hp + b * H, *ghr = gh + b * G;
        for (std::size_t j = 0; j < H; ++j) {
          const T r = a[j], z = a[H + j], n = a[2 * H + j], d = dyr[j];
          if (dh) dh[b * H + j] += d * z;
          const T dz = d * (hr[j] - n) * z * (T(1) - z);
          const T dn = d * (T(1) - z) * (T(1) - n * n);
          const T dr = dn * ghr[2 * H + j] * r * (T(1) - r);
          if (dgi) {
            T* g = dgi + b * G;
            g[j] += dr;
            g[H + j] += dz;
            g[2 * H + j] += dn;
          }
          if (dgh) {
            T* g = dgh + b * G;
            g[j] += dr;
            g[H + j] += dz;
            g[2 * H + j] += dn * r;
          }
        }
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// rnn_gates  y = tanh(gi + gh)  (or relu)           gi, gh, y [B, H]
// backward   dgi += dy⊙(1 - y²), the same into dgh  (relu: dy⊙[y > 0])
template <class T>
Var<T> rnn_gates(const Var<T>& gi, const Var<T>& gh, bool relu) {
  UNROLL_CHECK(gi.defined() && gh.defined(), "rnn_gates: an input is an undefined Var");
  UNROLL_CHECK(gi.value().shape() == gh.value().shape(), "rnn_gates: gi is {}, gh is {} (they must match: [B, H])",
               shape_str(gi.value()), shape_str(gh.value()));
  Mat<T> y = Mat<T>::from_shape(gi.value().shape());
  const T *a = gi.value().data(), *b = gh.value().data();
  T* py = y.data();
  const std::size_t B = y.shape(0), H = y.shape(1);
  parallel_rows(B, 40.0 * double(H), [&](std::size_t b0, std::size_t b1) {
    const std::size_t k0 = b0 * H, k1 = b1 * H;
    if (relu)
      for (std::size_t k = k0; k < k1; ++k) py[k] = std::max(a[k] + b[k], T(0));
    else {
      add_into(py + k0, a + k0, b + k0, k1 - k0);
      tanh_inplace(py + k0, k1 - k0);
    }
  });
  return make_op<T>("rnn_gates", std::move(y), {gi, gh}, [relu](Node<T>& out) {
    const std::size_t B = out.value.shape(0), H = out.value.shape(1);
    const T *y = out.value.data(), *dy = out.grad.data();
    T* d0 = out.wants(0) ? out.parent(0).grad.data() : nullptr;
    T* d1 = out.wants(1) ? out.parent(1).grad.data() : nullptr;
    parallel_rows(B, 30.0 * double(H), [&](std::size_t b0, std::size_t b1) {
      for (std::size_t k = b0 * H; k < b1 * H; ++k) {
        const T d = relu ? (y[k] > T(0) ? dy[k] : T(0)) : dy[k] * (T(1) - y[k] * y[k]);
        if (d0) d0[k] += d;
        if (d1) d1[k] += d;
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// affine     Y = X·Wᵀ + Σ_k b_k   X [N, in], W [out, in], b_k [1, out]; one node, no copy of Y
// backward   dX += dY·W;  dW += dYᵀ·X;  db_k += Σ_rows dY
namespace {
template <class T>
Var<T> affine(const char* op, const Var<T>& x, const Var<T>& W, const std::vector<Var<T>>& biases) {
  UNROLL_CHECK(x.defined() && W.defined(), "{}: an input is an undefined Var", op);
  UNROLL_CHECK(x.cols() == W.cols(), "{}: x is {}, weight is {} (want x [N, in], weight [out, in])", op,
               shape_str(x.value()), shape_str(W.value()));
  const std::size_t N = x.rows(), O = W.rows();
  std::vector<Var<T>> parents{x, W};
  Mat<T> y = Mat<T>::from_shape({N, O});
  std::vector<T> bias;  // Σ of the biases (b_ih + b_hh), broadcast to every row before the GEMM adds x·Wᵀ
  for (const auto& b : biases) {
    if (!b.defined()) continue;
    UNROLL_CHECK(b.rows() == 1 && b.cols() == O, "{}: weight is {}, bias is {} (want weight [out, in], bias [1, out])",
                 op, shape_str(W.value()), shape_str(b.value()));
    const T* pb = b.value().data();
    if (bias.empty())
      bias.assign(pb, pb + O);
    else
      for (std::size_t c = 0; c < O; ++c) bias[c] += pb[c];
    parents.push_back(b);
  }
  if (!bias.empty())
    parallel_rows(N, 4.0 * double(O), [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) std::memcpy(y.data() + r * O, bias.data(), O * sizeof(T));
    });
  gemm(Trans::N, Trans::T, T(1), x.value(), W.value(), bias.empty() ? T(0) : T(1), y, op);
  return make_op<T>(op, std::move(y), std::move(parents), [op](Node<T>& out) {
    if (out.wants(0)) gemm(Trans::N, Trans::N, T(1), out.grad, out.parent(1).value, T(1), out.parent(0).grad, op);
    if (out.wants(1)) gemm(Trans::T, Trans::N, T(1), out.grad, out.parent(0).value, T(1), out.parent(1).grad, op);
    const std::size_t N = out.grad.shape(0), O = out.grad.shape(1);
    bool any_bias = false;
    for (std::size_t k = 2; k < out.parents.size(); ++k) any_bias = any_bias || out.wants(k);
    if (!any_bias) return;
    // db = Σ_rows dY once for every bias: each part sums its rows, the parts are added in part order (the same
    // numbers for a given thread count)
    const bool split = worth_splitting(N, 2.0 * double(O));
    const std::size_t parts = split ? std::size_t(threads()) : 1;
    std::vector<T> partial(parts * O, T(0));
    const auto sum_part = [&](std::size_t p, std::size_t np) {
      const Range rows = part_range(N, p, np);
      T* acc = partial.data() + p * O;
      for (std::size_t r = rows.lo; r < rows.hi; ++r) {
        const T* dy = out.grad.data() + r * O;
        for (std::size_t c = 0; c < O; ++c) acc[c] += dy[c];
      }
    };
    if (split)
      parallel_parts(parts, sum_part);
    else
      sum_part(0, 1);
    for (std::size_t k = 2; k < out.parents.size(); ++k) {
      if (!out.wants(k)) continue;
      T* db = out.parent(k).grad.data();
      for (std::size_t p = 0; p < parts; ++p)
        for (std::size_t c = 0; c < O; ++c) db[c] += partial[p * O + c];
    }
  });
}
}  // namespace

template <class T>
Var<T> linear_fused(const Var<T>& x, const Var<T>& W, const Var<T>& b) {
  return affine<T>("linear_fused", x, W, {b});
}

// ---------------------------------------------------------------------------------------------------
// split_rows  Y_s = X[s·B : (s+1)·B, :]           X [S·B, N], Y_s [B, N]   (contiguous: one memcpy each)
// backward    dX[s·B : (s+1)·B, :] += dY_s
template <class T>
std::vector<Var<T>> split_rows(const Var<T>& x, std::size_t steps) {
  UNROLL_CHECK(x.defined(), "split_rows: input is an undefined Var");
  UNROLL_CHECK(steps > 0 && x.rows() % steps == 0, "split_rows: {} rows do not split into {} equal steps (x is {})",
               x.rows(), steps, shape_str(x.value()));
  const std::size_t B = x.rows() / steps, N = x.cols();
  std::vector<Mat<T>> ys(steps);
  for (auto& y : ys) y = Mat<T>::from_shape({B, N});
  parallel_rows(steps, 4.0 * double(B * N), [&](std::size_t s0, std::size_t s1) {  // copies: ~4 flops' time each
    for (std::size_t s = s0; s < s1; ++s) std::memcpy(ys[s].data(), x.value().data() + s * B * N, B * N * sizeof(T));
  });
  std::vector<Var<T>> out;
  out.reserve(steps);
  for (std::size_t s = 0; s < steps; ++s) {
    out.push_back(make_op<T>("split_rows", std::move(ys[s]), {x}, [s](Node<T>& o) {
      const std::size_t B = o.grad.shape(0), N = o.grad.shape(1);
      T* d = o.parent(0).grad.data() + s * B * N;
      const T* g = o.grad.data();
      parallel_rows(B, 10.0 * double(N), [&](std::size_t b0, std::size_t b1) {
        for (std::size_t k = b0 * N; k < b1 * N; ++k) d[k] += g[k];
      });
    }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// project_steps  G_s = (X_all·W_ihᵀ + Σ b)[s·B : (s+1)·B]   (one GEMM forward, one per gradient backward)
template <class T>
std::vector<Var<T>> project_steps(const Var<T>& x_all, const Var<T>& W_ih, const std::vector<Var<T>>& biases,
                                  std::size_t steps) {
  UNROLL_CHECK(x_all.defined(), "project_steps: input is an undefined Var");
  UNROLL_CHECK(steps > 0 && x_all.rows() % steps == 0,
               "project_steps: x_all is {}, which does not split into {} steps ([T·B, in])", shape_str(x_all.value()),
               steps);
  Var<T> g = affine<T>("project_steps", x_all, W_ih, biases);
  if (steps == 1) return {g};
  return split_rows(g, steps);
}

template <class T>
std::vector<Var<T>> project_steps(const std::vector<Var<T>>& xs, const Var<T>& W_ih, const std::vector<Var<T>>& biases) {
  UNROLL_CHECK(!xs.empty(), "project_steps: no steps");
  for (std::size_t t = 0; t < xs.size(); ++t) {
    UNROLL_CHECK(xs[t].defined(), "project_steps: step {} of {} is an undefined Var", t, xs.size());
    UNROLL_CHECK(xs[t].rows() == xs[0].rows() && xs[t].cols() == xs[0].cols(),
                 "project_steps: step {} is {}, step 0 is {} (every step must be [B, in] with the same B and in)", t,
                 shape_str(xs[t].value()), shape_str(xs[0].value()));
  }
  return project_steps(xs.size() == 1 ? xs[0] : concat_rows(xs), W_ih, biases, xs.size());
}

// ---------------------------------------------------------------------------------------------------
// RecurrentProjection  gh = h·W_hhᵀ + b_hh per step; dW_hh, db_hh deferred to one GEMM (see ops_rnn.h)
namespace {
// Whether a step's product goes through the packed weight: float only, more than one step (packing copies the
// weight once; a second product already pays it back), more than one row (one row is a gemv, which streams the
// weight once without packing it).
template <class T>
bool packs_worth(std::size_t steps_before, std::size_t rows) {
  return std::is_same_v<T, float> && steps_before >= 1 && rows > 1 && gemm_backend() == GemmBackend::Blas;
}
// C[B, N] = A[B, K]·op(W) + beta·C with op(W) [K, N] packed into P on first use (W as stored: [N, K] for
// tw = Trans::T, [K, N] for Trans::N); for T = double never called (packs_worth is false).
template <class T>
void packed_project(PackedWeight& P, Trans tw, std::size_t K, std::size_t N, const T* W, std::size_t B, const T* A,
                    T beta, T* C) {
  if constexpr (std::is_same_v<T, float>) {
    if (P.empty()) P.pack(tw, K, N, W, tw == Trans::T ? K : N);
    gemm_packed(B, A, K, P, beta, C, N);
  } else {
    UNROLL_CHECK(false, "recurrent_projection: the packed path is float only");
  }
}
}  // namespace

template <class T>
struct RecurrentProjection<T>::Deferred {
  std::size_t H = 0, G = 0;
  std::vector<std::size_t> offset, rows;  // per step: first row in the buffers, batch size
  std::vector<char> filed;                // per step: its backward ran in this pass
  std::unique_ptr<T[]> h, dg;             // [Σ rows, H] and [Σ rows, G], filled by the steps' backward;
  std::size_t cap = 0;                    // allocated by the first of them, freed after the weight GEMM
  std::size_t total = 0;
  std::size_t calls = 0;                  // forward steps so far (with or without gradient)
  // float: W_hh packed once for the steps' products (engine/packed_gemm.h) — fwd for h·W_hhᵀ from the second
  // step on, bwd for dY·W_hh once a second step is filed; a one-step projection (sampling) never packs
  PackedWeight fwd, bwd;
  void ensure() {
    if (cap >= total) return;
    h.reset(new T[total * H]);            // uninitialised: rows of steps that do not file are zeroed later
    dg.reset(new T[total * G]);
    cap = total;
  }
};

template <class T>
RecurrentProjection<T>::RecurrentProjection(const Var<T>& W_hh, const Var<T>& b_hh) : W_(W_hh), b_(b_hh) {
  UNROLL_CHECK(W_hh.defined(), "recurrent_projection: weight is an undefined Var");
  UNROLL_CHECK(!b_hh.defined() || (b_hh.rows() == 1 && b_hh.cols() == W_hh.rows()),
               "recurrent_projection: weight is {}, bias is {} (want weight [G, H], bias [1, G])",
               shape_str(W_hh.value()), shape_str(b_hh.value()));
  acc_ = std::make_shared<Deferred>();
  acc_->H = W_hh.cols();
  acc_->G = W_hh.rows();
  std::vector<Var<T>> parents{W_hh};
  if (b_hh.defined()) parents.push_back(b_hh);
  // backward: dW += DGᵀ·Hs over the filed steps (rows of steps whose backward did not run are zeroed
  // first), db += Σ_rows DG; then the steps are unfiled for a later pass over the same graph
  sink_ = make_op<T>("recurrent_weight_grad", Mat<T>::from_shape({0, 0}), std::move(parents),
                     [acc = acc_](Node<T>& out) {
                       Deferred& a = *acc;
                       if (a.total == 0 || a.cap < a.total) return;  // no step filed in this pass
                       bool any = false;
                       for (std::size_t k = 0; k < a.filed.size(); ++k) {
                         if (a.filed[k]) {
                           any = true;
                           continue;
                         }
                         std::fill_n(a.dg.get() + a.offset[k] * a.G, a.rows[k] * a.G, T(0));
                         std::fill_n(a.h.get() + a.offset[k] * a.H, a.rows[k] * a.H, T(0));
                       }
                       if (!any) return;
                       if (out.wants(0))
                         gemm_raw(Trans::T, Trans::N, a.G, a.H, a.total, T(1), a.dg.get(), a.G, a.h.get(), a.H,
                                  T(1), out.parent(0).grad.data(), a.H);
                       if (out.parents.size() > 1 && out.wants(1)) {
                         T* db = out.parent(1).grad.data();
                         for (std::size_t r = 0; r < a.total; ++r) {
                           const T* d = a.dg.get() + r * a.G;
                           for (std::size_t c = 0; c < a.G; ++c) db[c] += d[c];
                         }
                       }
                       std::fill(a.filed.begin(), a.filed.end(), char(0));
                       a.h.reset();  // not needed until another backward pass over this graph
                       a.dg.reset();
                       a.cap = 0;
                     });
}

template <class T>
Var<T> RecurrentProjection<T>::operator()(const Var<T>& h) {
  UNROLL_CHECK(h.defined(), "recurrent_projection: h is an undefined Var");
  UNROLL_CHECK(h.cols() == W_.cols(), "recurrent_projection: h is {}, weight is {} (want h [B, H], weight [G, H])",
               shape_str(h.value()), shape_str(W_.value()));
  const std::size_t B = h.rows(), G = W_.rows();
  Mat<T> y = Mat<T>::from_shape({B, G});
  T beta = T(0);
  if (b_.defined()) {
    for (std::size_t r = 0; r < B; ++r) std::memcpy(y.data() + r * G, b_.value().data(), G * sizeof(T));
    beta = T(1);
  }
  Deferred& a = *acc_;
  if (packs_worth<T>(a.calls++, B)) {  // h·W_hhᵀ through the packed weight (see packed_project)
    packed_project(a.fwd, Trans::T, a.H, G, W_.value().data(), B, h.value().data(), beta, y.data());
  } else {
    gemm(Trans::N, Trans::T, T(1), h.value(), W_.value(), beta, y, "recurrent_projection");
  }
  if (!sink_.requires_grad())  // the weights take no gradient: dh only, nothing to defer
    return make_op<T>("recurrent_projection", std::move(y), {h, W_}, [](Node<T>& out) {
      if (out.wants(0))
        gemm(Trans::N, Trans::N, T(1), out.grad, out.parent(1).value, T(1), out.parent(0).grad, "recurrent_projection");
    });
  const std::size_t k = a.offset.size();
  a.offset.push_back(a.total);
  a.rows.push_back(B);
  a.filed.push_back(0);
  a.total += B;
  // backward: dh += dY·W_hh now; dY and h filed for the deferred weight GEMM
  return make_op<T>("recurrent_projection", std::move(y), {h, sink_}, [k, acc = acc_](Node<T>& out) {
    Deferred& a = *acc;
    const Mat<T>& W = out.parent(1).parent(0).value;
    if (out.wants(0)) {
      const std::size_t B = out.grad.shape(0);
      if (packs_worth<T>(a.offset.size() - 1, B)) {  // dh += dY·W_hh through W_hh packed once for all steps
        packed_project(a.bwd, Trans::N, a.G, a.H, W.data(), B, out.grad.data(), T(1), out.parent(0).grad.data());
      } else {
        gemm(Trans::N, Trans::N, T(1), out.grad, W, T(1), out.parent(0).grad, "recurrent_projection");
      }
    }
    if (!out.wants(1)) return;
    a.ensure();
    const std::size_t off = a.offset[k], B = a.rows[k];
    std::memcpy(a.dg.get() + off * a.G, out.grad.data(), B * a.G * sizeof(T));
    std::memcpy(a.h.get() + off * a.H, out.parent(0).value.data(), B * a.H * sizeof(T));
    a.filed[k] = 1;
  });
}

#define UNROLL_INSTANTIATE(T)                                                                                   \
  template class RecurrentProjection<T>;                                                                        \
  template LSTMGates<T> lstm_gates<T>(const Var<T>&, const Var<T>&);                                            \
  template LSTMGates<T> lstm_gates<T>(const Var<T>&, const Var<T>&, const Var<T>&);                             \
  template Var<T> gru_gates<T>(const Var<T>&, const Var<T>&, const Var<T>&);                                    \
  template Var<T> rnn_gates<T>(const Var<T>&, const Var<T>&, bool);                                             \
  template Var<T> linear_fused<T>(const Var<T>&, const Var<T>&, const Var<T>&);                                 \
  template std::vector<Var<T>> split_rows<T>(const Var<T>&, std::size_t);                                       \
  template std::vector<Var<T>> project_steps<T>(const Var<T>&, const Var<T>&, const std::vector<Var<T>>&,       \
                                                std::size_t);                                                   \
  template std::vector<Var<T>> project_steps<T>(const std::vector<Var<T>>&, const Var<T>&,                      \
                                                const std::vector<Var<T>>&);
UNROLL_INSTANTIATE(float)
UNROLL_INSTANTIATE(double)
#undef UNROLL_INSTANTIATE

}  // namespace unroll
