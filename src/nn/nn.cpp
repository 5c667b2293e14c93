// The MLP's kernels and bookkeeping. Every output of a product is one sum over k, in ascending
// k from zero, written out in the source; the SIMD width only decides how many independent
// outputs advance together, so it changes speed but never bits (see docs/nn.md).
#include "edgerl/nn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <pthread.h>

#include <new>

#include "core/detmath.hpp"

namespace edgerl {
namespace {

// Register tiling for the target: kTileRows rows x kTileVecs vectors of accumulators.
#if defined(__AVX512F__)
constexpr size_t kVecBytes = 64;  // 32 zmm registers: 6 x 4 accumulators + 4 rows of B
constexpr int kTileRows = 6;
constexpr int kTileVecs = 4;
#elif defined(__AVX__)
constexpr size_t kVecBytes = 32;  // 16 ymm registers
constexpr int kTileRows = 4;
constexpr int kTileVecs = 2;
#elif defined(__aarch64__)
constexpr size_t kVecBytes = 16;  // 32 NEON registers
constexpr int kTileRows = 6;
constexpr int kTileVecs = 4;
#else
constexpr size_t kVecBytes = 16;  // SSE2: 16 xmm registers
constexpr int kTileRows = 4;
constexpr int kTileVecs = 2;
#endif

template <class T>
struct Simd {
  static constexpr size_t kLanes = kVecBytes / sizeof(T);
  typedef T V __attribute__((vector_size(kVecBytes)));
};

template <class T>
inline typename Simd<T>::V load(const T* p) {
  typename Simd<T>::V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
inline void store(T* p, typename Simd<T>::V v) {
  std::memcpy(p, &v, sizeof v);
}

// relu(v) lane by lane, as the scalar y > 0 ? y : 0 (so -0 and NaN give +0).
template <class T>
inline typename Simd<T>::V relu(typename Simd<T>::V v) {
  using V = typename Simd<T>::V;
  return v > V{} ? v : V{};
}

// An L x L block in L vectors transposed in registers (r[i][j] becomes r[j][i]): log2(L)
// rounds of two-vector shuffles, each swapping the off-diagonal sub-blocks of width G. Only
// moves numbers, so every target gets the same values. (__builtin_shufflevector: GCC 12 and
// clang both have it.)
template <size_t L, size_t G, size_t J>
constexpr int swap_lo() {  // lane J of the lower vector: its own, or the upper one's
  return static_cast<int>((J & G) == 0 ? J : L + J - G);
}
template <size_t L, size_t G, size_t J>
constexpr int swap_hi() {
  return static_cast<int>((J & G) == 0 ? J + G : L + J);
}

template <class T, size_t G, size_t... J>
inline void swap_round(typename Simd<T>::V* r, std::index_sequence<J...>) {
  constexpr size_t L = Simd<T>::kLanes;
  for (size_t i = 0; i < L; ++i)
    if ((i & G) == 0) {
      const typename Simd<T>::V a = r[i], b = r[i + G];
      r[i] = __builtin_shufflevector(a, b, swap_lo<L, G, J>()...);
      r[i + G] = __builtin_shufflevector(a, b, swap_hi<L, G, J>()...);
    }
}

template <class T, size_t G = 1>
inline void transpose_block(typename Simd<T>::V* r) {
  constexpr size_t L = Simd<T>::kLanes;
  if constexpr (G < L) {
    swap_round<T, G>(r, std::make_index_sequence<L>{});
    transpose_block<T, G * 2>(r);
  }
}

// How a product block lands in C.
enum class Into { store, add_bias, accumulate };  // C = acc | C = acc + bias | C += acc

// c = acc landed into (bias + n: this vector's biases), then relu'd when asked: the activation
// on the value still in a register (tanh runs afterwards, over whole rows: detmath::tanh_array).
template <class T>
inline void land(T* c, typename Simd<T>::V acc, const T* bias, size_t n, Into into,
                 bool relu_after) {
  typename Simd<T>::V v = acc;
  if (into == Into::add_bias) v = acc + load(bias + n);
  if (into == Into::accumulate) v = load(c) + acc;
  store(c, relu_after ? relu<T>(v) : v);
}

template <class T>
inline T land_scalar(T c, T acc, T bias, Into into, bool relu_after) {
  T v = acc;
  if (into == Into::add_bias) v = acc + bias;
  if (into == Into::accumulate) v = c + acc;
  return relu_after ? (v > T(0) ? v : T(0)) : v;
}

// A(m, k) = a[m * a_rs + k * a_cs]; B(k, n) = b[k * ldb + n]; C(m, n) = c[m * ldc + n].
template <class T>
struct Operands {
  const T* a;
  size_t a_rs, a_cs;
  const T* b;
  size_t ldb;
  T* c;
  size_t ldc;
  const T* bias;  // for Into::add_bias
};

// How A is laid out, as a template parameter so that each tile is one loop whose sums stay in
// registers (with the strides at run time GCC versioned the loop and kept a copy of the
// accumulators on the stack): rows contiguous (A = X in a forward pass), columns contiguous
// (A = X transposed, for weight gradients), or any strides.
enum class Layout { rows, columns, any };

// acc = sum over k = 0..K-1 of A(m, k) * B(k, n) for the R rows from m0 and NV vectors from
// n0 (always inlined, so that acc is the caller's registers).
template <class T, int R, int NV, Layout A>
__attribute__((always_inline)) inline void accumulate(const Operands<T>& op, size_t m0, size_t n0,
                                                      size_t K, typename Simd<T>::V (&acc)[R][NV]) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  const T* a = op.a + m0 * op.a_rs;
  const size_t rs = A == Layout::columns ? 1 : op.a_rs, cs = A == Layout::rows ? 1 : op.a_cs;
  const T* b = op.b + n0;
  const size_t ldb = op.ldb;
  for (size_t k = 0; k < K; ++k) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load(b + k * ldb + v * L);
    for (int r = 0; r < R; ++r) {
      const T s = a[r * rs + k * cs];
      for (int v = 0; v < NV; ++v) acc[r][v] += s * bv[v];
    }
  }
}

// C(m0.., n0..) for R rows and NV vectors. The epilogue's mode is a template parameter too,
// so that it is straight-line code.
template <class T, int R, int NV, Layout A, Into I, bool Relu>
inline void tile_of(const Operands<T>& op, size_t m0, size_t n0, size_t K) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  V acc[R][NV];
  accumulate<T, R, NV, A>(op, m0, n0, K, acc);
  // Unrolled, so that acc never leaves the registers (GCC keeps a loop over it on the stack).
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      land(op.c + (m0 + r) * op.ldc + n0 + v * L, acc[r][v], op.bias, n0 + v * L, I, Relu);
}

// Any strides and epilogue (rare shapes): the same sums.
template <class T, int R, int NV>
void tile_any(const Operands<T>& op, size_t m0, size_t n0, size_t K, Into into, bool relu_after,
              std::integral_constant<int, R>, std::integral_constant<int, NV>) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  V acc[R][NV];
  accumulate<T, R, NV, Layout::any>(op, m0, n0, K, acc);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v)
      land(op.c + (m0 + r) * op.ldc + n0 + v * L, acc[r][v], op.bias, n0 + v * L, into, relu_after);
}

// The full-height tiles of a forward pass (rows of A contiguous, a bias, maybe relu) and of
// the weight gradients (A transposed, accumulated) get their own code; anything else, the
// few rows left at the bottom of a product among them, the general one (keeping the binary
// small: docs/edge.md).
template <class T, int R, int NV>
inline void tile(const Operands<T>& op, size_t m0, size_t n0, size_t K, Into into,
                 bool relu_after) {
  if constexpr (R != kTileRows) {
    tile_any(op, m0, n0, K, into, relu_after, std::integral_constant<int, R>{},
             std::integral_constant<int, NV>{});
    return;
  }
  if (op.a_cs == 1 && into == Into::add_bias && relu_after)
    tile_of<T, R, NV, Layout::rows, Into::add_bias, true>(op, m0, n0, K);
  else if (op.a_cs == 1 && into == Into::add_bias)
    tile_of<T, R, NV, Layout::rows, Into::add_bias, false>(op, m0, n0, K);
  else if (op.a_cs == 1 && into == Into::store && !relu_after)
    tile_of<T, R, NV, Layout::rows, Into::store, false>(op, m0, n0, K);
  else if (op.a_rs == 1 && into == Into::accumulate && !relu_after)
    tile_of<T, R, NV, Layout::columns, Into::accumulate, false>(op, m0, n0, K);
  else
    tile_any(op, m0, n0, K, into, relu_after, std::integral_constant<int, R>{},
             std::integral_constant<int, NV>{});
}

// The columns left over after whole vectors (fewer than one vector's lanes), same order. One
// column at a time, so that the R sums stay in registers as independent chains.
template <class T, int R>
inline void tail(const Operands<T>& op, size_t m0, size_t n0, size_t N, size_t K, Into into,
                 bool relu_after) {
  const T* a = op.a + m0 * op.a_rs;
  for (size_t n = n0; n < N; ++n) {
    T acc[R] = {};
    const T* b = op.b + n;
    for (size_t k = 0; k < K; ++k) {
      const T bk = b[k * op.ldb];
      for (int r = 0; r < R; ++r) acc[r] += a[r * op.a_rs + k * op.a_cs] * bk;
    }
    for (int r = 0; r < R; ++r) {
      T& c = op.c[(m0 + r) * op.ldc + n];
      c = land_scalar(c, acc[r], op.bias ? op.bias[n] : T(0), into, relu_after);
    }
  }
}

// The activation that is not fused into the products' stores (tanh; relu is applied as each
// value is stored, identity needs nothing).
template <class T>
void activate_rows(Activation act, T* y, size_t n) {
  if (act == Activation::tanh) detmath::tanh_array(y, n);
}

// Rows m0..m0+R of C, then their tanh while they are still in L1 (needs ldc == N).
template <class T, int R>
void row_block(const Operands<T>& op, size_t m0, size_t N, size_t K, Into into, Activation act) {
  constexpr size_t L = Simd<T>::kLanes;
  const bool r = act == Activation::relu;
  size_t n0 = 0;
  for (; n0 + kTileVecs * L <= N; n0 += kTileVecs * L)
    tile<T, R, kTileVecs>(op, m0, n0, K, into, r);
  for (; n0 + L <= N; n0 += L) tile<T, R, 1>(op, m0, n0, K, into, r);
  if (n0 < N) tail<T, R>(op, m0, n0, N, K, into, r);
  activate_rows(act, op.c + m0 * op.ldc, R * N);
}

template <class T, int R>
void remainder_rows(const Operands<T>& op, size_t m0, size_t rows, size_t N, size_t K, Into into,
                    Activation act) {
  if constexpr (R > 1) {
    if (rows < static_cast<size_t>(R))
      return remainder_rows<T, R - 1>(op, m0, rows, N, K, into, act);
  }
  row_block<T, R>(op, m0, N, K, into, act);
}

// Products with fewer columns than one vector (a critic's value, a small action, the logits of
// up to three actions) and at most kNarrowMax of them: one vector lane per row of C. L rows of A at
// a time are read as L x L blocks and transposed in registers, so that each k is one multiply-add
// per output column for L rows at once; every C(m, n) is still the one sum over ascending k. Needs
// A's rows contiguous (a_cs == 1).
constexpr size_t kNarrowMax = 3;

template <class T, size_t N>
void narrow_rows(const Operands<T>& op, size_t M, size_t K, Into into, Activation act) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  const bool r = act == Activation::relu;
  for (size_t m0 = 0; m0 < M; m0 += L) {
    const size_t rows = std::min(L, M - m0);
    V acc[N];
    for (size_t n = 0; n < N; ++n) acc[n] = V{};
    const T* a = op.a + m0 * op.a_rs;
    // Past K, the terms are 0 * 0 (a zero-padded A, a zero row of B): adding +0 leaves every
    // sum as it was (one that starts at +0 is never -0), and each j is then a constant index,
    // so the block stays in registers.
    static constexpr T zeros[N] = {};
    for (size_t k0 = 0; k0 < K; k0 += L) {
      const size_t cols = std::min(L, K - k0);
      V blk[L];
      if (cols == L) {  // whole rows of the block: loads straight into registers
        for (size_t i = 0; i < L; ++i) blk[i] = i < rows ? load(a + i * op.a_rs + k0) : V{};
      } else {  // the last columns through a zero-padded copy
        alignas(kVecBytes) T part[L * L] = {};
        for (size_t i = 0; i < rows; ++i) std::copy_n(a + i * op.a_rs + k0, cols, part + i * L);
        for (size_t i = 0; i < L; ++i) blk[i] = load(part + i * L);
      }
      transpose_block<T>(blk);  // blk[j] = A(m0 .. m0 + L, k0 + j)
      for (size_t j = 0; j < L; ++j) {
        const T* bk = j < cols ? op.b + (k0 + j) * op.ldb : zeros;
        for (size_t n = 0; n < N; ++n) acc[n] += blk[j] * bk[n];
      }
    }
    for (size_t n = 0; n < N; ++n) {
      T lanes[L];
      store(lanes, acc[n]);
      for (size_t i = 0; i < rows; ++i) {
        T& c = op.c[(m0 + i) * op.ldc + n];
        c = land_scalar(c, lanes[i], op.bias ? op.bias[n] : T(0), into, r);
      }
    }
    activate_rows(act, op.c + m0 * op.ldc, rows * N);
  }
}

template <class T>
bool narrow(const Operands<T>& op, size_t M, size_t N, size_t K, Into into, Activation act) {
  if (op.a_cs != 1 || op.ldc != N) return false;
  switch (N) {
    case 1:
      narrow_rows<T, 1>(op, M, K, into, act);
      return true;
    case 2:
      narrow_rows<T, 2>(op, M, K, into, act);
      return true;
    case 3:
      narrow_rows<T, 3>(op, M, K, into, act);
      return true;
    default:
      return false;
  }
}

// Fewer columns than one vector and no narrow kernel for them: the scalar tail, whose sums are
// chains of dependent adds, so more rows go side by side to hide their latency.
constexpr int kNarrowRows = 8;

// C[M][N] (into) A[M][K] * B[K][N], then C = act(C) (only with ldc == N).
template <class T>
void gemm(const Operands<T>& op, size_t M, size_t N, size_t K, Into into,
          Activation act = Activation::identity) {
  size_t m0 = 0;
  if (N < Simd<T>::kLanes) {
    if (N <= kNarrowMax && narrow(op, M, N, K, into, act)) return;
    const bool r = act == Activation::relu;
    for (; m0 + kNarrowRows <= M; m0 += kNarrowRows) {
      tail<T, kNarrowRows>(op, m0, 0, N, K, into, r);
      activate_rows(act, op.c + m0 * op.ldc, kNarrowRows * N);
    }
  }
  for (; m0 + kTileRows <= M; m0 += kTileRows) row_block<T, kTileRows>(op, m0, N, K, into, act);
  if (m0 < M) remainder_rows<T, kTileRows - 1>(op, m0, M - m0, N, K, into, act);
}

// ---- Row-sparse products ------------------------------------------------------------------
//
// A ReLU output, and a gradient that went back through a ReLU, are about half exact zeros. For
// such an A, each output C(m, n) is the same sum over k in ascending order with the terms of
// A(m, k) == 0 left out. Such a term is 0 * B(k, n) = +-0, and adding +-0 changes no sum that
// started at +0 (a sum of floats that starts at +0 is never -0: x + (-x) rounds to +0), so the
// result has the same bits as gemm() whenever B is finite (with an infinite or NaN weight the
// skipped 0 * inf would have been NaN). The zeros are found per row of A as bit masks; every
// build takes the same path, so builds still agree bit for bit.

// dst[c][r] = src[r][c] for r < rows, c < cols (src rows of length lds, dst rows of ldd):
// whole L x L blocks through registers, the edges by plain copies (a copy, so every build
// gets the same numbers).
template <class T>
void transpose(const T* src, size_t rows, size_t cols, size_t lds, T* dst, size_t ldd) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  size_t r0 = 0;
  for (; r0 + L <= rows; r0 += L) {
    size_t c0 = 0;
    for (; c0 + L <= cols; c0 += L) {
      V blk[L];
      for (size_t i = 0; i < L; ++i) blk[i] = load(src + (r0 + i) * lds + c0);
      transpose_block<T>(blk);
      for (size_t j = 0; j < L; ++j) store(dst + (c0 + j) * ldd + r0, blk[j]);
    }
    for (size_t c = c0; c < cols; ++c)
      for (size_t r = r0; r < r0 + L; ++r) dst[c * ldd + r] = src[r * lds + c];
  }
  for (size_t c = 0; c < cols; ++c)
    for (size_t r = r0; r < rows; ++r) dst[c * ldd + r] = src[r * lds + c];
}

// Whether N output columns fill at least one vector (else the dense kernel's rows in parallel
// are faster).
template <class T>
inline bool sparse_pays(size_t N) {
  return N >= Simd<T>::kLanes;
}

// Bit k of masks[k / 64] = (a[k] != 0) (NaN counts as non-zero), for k < K.
template <class T>
inline void nonzero_masks(const T* a, size_t K, uint64_t* masks) {
  for (size_t k0 = 0; k0 < K; k0 += 64) {
    const size_t kn = K - k0 < 64 ? K - k0 : 64;
    const T* ak = a + k0;
    uint64_t m = 0;
    size_t k = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
      for (; k + 16 <= kn; k += 16) {
        const __mmask16 nz =
            _mm512_cmp_ps_mask(_mm512_loadu_ps(ak + k), _mm512_setzero_ps(), _CMP_NEQ_UQ);
        m |= static_cast<uint64_t>(nz) << k;
      }
    }
#endif
#if defined(__SSE2__)
    if constexpr (std::is_same_v<T, float>) {
#if defined(__AVX__)
      for (; k + 8 <= kn; k += 8) {
        const __m256 nz = _mm256_cmp_ps(_mm256_loadu_ps(ak + k), _mm256_setzero_ps(), _CMP_NEQ_UQ);
        m |= static_cast<uint64_t>(_mm256_movemask_ps(nz)) << k;
      }
#endif
      for (; k + 4 <= kn; k += 4) {
        const __m128 nz = _mm_cmpneq_ps(_mm_loadu_ps(ak + k), _mm_setzero_ps());
        m |= static_cast<uint64_t>(_mm_movemask_ps(nz)) << k;
      }
    }
#endif
    for (; k < kn; ++k) m |= static_cast<uint64_t>(ak[k] != T(0)) << k;
    masks[k0 / 64] = m;
  }
}

// Columns n0 .. n0 + NV vectors of row c: sum over the set bits of masks of a[k] * b[k][n].
template <class T, int NV>
inline void sparse_tile(const T* a, const uint64_t* masks, size_t K, const T* b, size_t ldb, T* c,
                        const T* bias, size_t n0, Into into, bool relu_after) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = V{};
  const T* bn = b + n0;
  for (size_t w = 0; w * 64 < K; ++w)
    for (uint64_t m = masks[w]; m != 0; m &= m - 1) {
      const size_t k = w * 64 + static_cast<size_t>(__builtin_ctzll(m));
      const T s = a[k];
      const T* bk = bn + k * ldb;
      for (int v = 0; v < NV; ++v) acc[v] += s * load(bk + v * L);
    }
  for (int v = 0; v < NV; ++v) land(c + n0 + v * L, acc[v], bias, n0 + v * L, into, relu_after);
}

// The set bits of masks[0..words), in ascending order.
class SetBits {
 public:
  SetBits(const uint64_t* masks, size_t words)
      : masks_(masks), words_(words), cur_(words > 0 ? masks[0] : 0) {
    skip();
  }
  bool any() const { return cur_ != 0; }
  size_t next() {
    const size_t k = w_ * 64 + static_cast<size_t>(__builtin_ctzll(cur_));
    cur_ &= cur_ - 1;
    skip();
    return k;
  }

 private:
  void skip() {
    while (cur_ == 0 && w_ + 1 < words_) cur_ = masks_[++w_];
  }
  const uint64_t* masks_;
  size_t words_, w_ = 0;
  uint64_t cur_;
};

// sparse_tile for two rows at once, their non-zeros taken in step while both have some: each
// row's sums are the same sums in the same order, but the two rows' chains of adds overlap and
// the loop ends (a mispredicted branch) once per two rows.
template <class T, int NV>
inline void sparse_tile2(const T* a0, const T* a1, const uint64_t* m0, const uint64_t* m1, size_t K,
                         const T* b, size_t ldb, T* c0, T* c1, const T* bias, size_t n0, Into into,
                         bool relu_after) {
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  V x[NV], y[NV];
  for (int v = 0; v < NV; ++v) x[v] = y[v] = V{};
  const T* bn = b + n0;
  auto step = [&](V* acc, const T* row, size_t k) {
    const T sk = row[k];
    const T* bk = bn + k * ldb;
    for (int v = 0; v < NV; ++v) acc[v] += sk * load(bk + v * L);
  };
  if (K <= 64) {  // one word per row: the plain bit loops
    uint64_t w0 = m0[0], w1 = m1[0];
    for (; w0 != 0 && w1 != 0; w0 &= w0 - 1, w1 &= w1 - 1) {
      const size_t k0 = static_cast<size_t>(__builtin_ctzll(w0));
      const size_t k1 = static_cast<size_t>(__builtin_ctzll(w1));
      step(x, a0, k0);
      step(y, a1, k1);
    }
    for (; w0 != 0; w0 &= w0 - 1) step(x, a0, static_cast<size_t>(__builtin_ctzll(w0)));
    for (; w1 != 0; w1 &= w1 - 1) step(y, a1, static_cast<size_t>(__builtin_ctzll(w1)));
  } else {
    const size_t words = (K + 63) / 64;
    SetBits i0(m0, words), i1(m1, words);
    while (i0.any() && i1.any()) {
      const size_t k0 = i0.next(), k1 = i1.next();
      step(x, a0, k0);
      step(y, a1, k1);
    }
    while (i0.any()) step(x, a0, i0.next());
    while (i1.any()) step(y, a1, i1.next());
  }
  for (int v = 0; v < NV; ++v) {
    land(c0 + n0 + v * L, x[v], bias, n0 + v * L, into, relu_after);
    land(c1 + n0 + v * L, y[v], bias, n0 + v * L, into, relu_after);
  }
}

// C[m][n] (into) sum_k A[m][k] B[k][n] for m < M, n < N, over the non-zero A[m][k] only, then
// C = act(C) row by row (only with ldc == N); A's rows are contiguous (a[m * lda + k]).
// masks: scratch of 2 * ((K + 63) / 64) words. Rows go in pairs (sparse_tile2) for the whole
// vectors of columns, one by one for the rest.
template <class T>
void sparse_gemm(const T* a, size_t lda, const T* b, size_t ldb, T* c, size_t ldc, const T* bias,
                 size_t M, size_t N, size_t K, Into into, Activation act, uint64_t* masks) {
  constexpr size_t L = Simd<T>::kLanes;
  const bool r = act == Activation::relu;
  const size_t words = (K + 63) / 64;
  size_t m = 0;
  if (N % L == 0 && N >= L) {
    uint64_t* masks1 = masks + words;
    for (; m + 2 <= M; m += 2) {
      const T* a0 = a + m * lda;
      const T* a1 = a0 + lda;
      T* c0 = c + m * ldc;
      T* c1 = c0 + ldc;
      nonzero_masks(a0, K, masks);
      nonzero_masks(a1, K, masks1);
      size_t n0 = 0;
      for (; n0 + 4 * L <= N; n0 += 4 * L)
        sparse_tile2<T, 4>(a0, a1, masks, masks1, K, b, ldb, c0, c1, bias, n0, into, r);
      if (n0 + 2 * L <= N) {
        sparse_tile2<T, 2>(a0, a1, masks, masks1, K, b, ldb, c0, c1, bias, n0, into, r);
        n0 += 2 * L;
      }
      if (n0 + L <= N)
        sparse_tile2<T, 1>(a0, a1, masks, masks1, K, b, ldb, c0, c1, bias, n0, into, r);
      activate_rows(act, c0, N);
      activate_rows(act, c1, N);
    }
  }
  for (; m < M; ++m) {
    const T* am = a + m * lda;
    T* cm = c + m * ldc;
    nonzero_masks(am, K, masks);
    size_t n0 = 0;
    for (; n0 + 8 * L <= N; n0 += 8 * L)
      sparse_tile<T, 8>(am, masks, K, b, ldb, cm, bias, n0, into, r);
    if (n0 + 4 * L <= N) {
      sparse_tile<T, 4>(am, masks, K, b, ldb, cm, bias, n0, into, r);
      n0 += 4 * L;
    }
    if (n0 + 2 * L <= N) {
      sparse_tile<T, 2>(am, masks, K, b, ldb, cm, bias, n0, into, r);
      n0 += 2 * L;
    }
    if (n0 + L <= N) {
      sparse_tile<T, 1>(am, masks, K, b, ldb, cm, bias, n0, into, r);
      n0 += L;
    }
    for (; n0 < N; ++n0) {
      T acc = T(0);
      for (size_t w = 0; w * 64 < K; ++w)
        for (uint64_t mk = masks[w]; mk != 0; mk &= mk - 1) {
          const size_t k = w * 64 + static_cast<size_t>(__builtin_ctzll(mk));
          acc += am[k] * b[k * ldb + n0];
        }
      cm[n0] = land_scalar(cm[n0], acc, bias ? bias[n0] : T(0), into, r);
    }
    activate_rows(act, cm, N);
  }
}

// ---- Per-thread scratch ----------------------------------------------------------------
//
// What one call needs and nothing keeps afterwards: the two gradient buffers and the
// transposes of a backward pass, the layer outputs of predict(), the row masks. One set per
// thread, shared by every network that thread runs (an off-policy learner's five networks
// would otherwise each keep ~0.1 MB of it, and together overflow the core's L2 cache). It only
// grows, so after the first calls of the largest batch nothing is allocated.
template <class T>
struct Scratch {
  AlignedVector<T> a, b, xt, wt;
  std::vector<uint64_t> masks;

  void reserve(size_t rows, size_t width) {
    grow(a, rows * width);
    grow(b, rows * width);
    grow(xt, rows * width);
    grow(wt, width * width);
    const size_t words = 2 * ((std::max(rows, width) + 63) / 64);  // two rows' (sparse_gemm)
    if (masks.size() < words) masks.resize(words);
  }

 private:
  static void grow(AlignedVector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
  }
};

// The calling thread's scratch, made on its first use and freed when the thread ends. A
// pthread key rather than a thread_local object: in a static binary glibc's support for
// thread_local destructors links most of the dynamic loader (about 20 kB).
template <class T>
struct ScratchKey {
  pthread_key_t key;
  ScratchKey() {
    if (pthread_key_create(&key, [](void* p) { delete static_cast<Scratch<T>*>(p); }) != 0)
      throw std::bad_alloc();
  }
};

template <class T>
Scratch<T>& scratch(size_t rows, size_t width) {
  static const ScratchKey<T> k;  // made once, thread-safely (C++11 statics)
  auto* s = static_cast<Scratch<T>*>(pthread_getspecific(k.key));
  if (s == nullptr) {
    s = new Scratch<T>();
    if (pthread_setspecific(k.key, s) != 0) {
      delete s;
      throw std::bad_alloc();
    }
  }
  s->reserve(rows, width);
  return *s;
}

// g = dL/dy * y'(x), from the activation's output y.
template <class T>
void activation_backward(Activation act, const T* y, T* g, size_t n) {
  switch (act) {
    case Activation::tanh:
      for (size_t i = 0; i < n; ++i) g[i] = g[i] * (T(1) - y[i] * y[i]);
      break;
    case Activation::relu:
      for (size_t i = 0; i < n; ++i) g[i] = y[i] > T(0) ? g[i] : T(0);
      break;
    case Activation::identity:
      break;
  }
}

// Orthonormal columns of a tall matrix (rows >= cols, column-major in `m`) by Gram-Schmidt,
// orthogonalising twice for stability. Gives torch's QR with sign(diag R) folded in, i.e. Q of
// the QR whose R has a positive diagonal.
void orthonormalise_columns(std::vector<double>& m, size_t rows, size_t cols) {
  for (size_t j = 0; j < cols; ++j) {
    double* v = &m[j * rows];
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < j; ++i) {
        const double* q = &m[i * rows];
        double d = 0.0;
        for (size_t t = 0; t < rows; ++t) d += q[t] * v[t];
        for (size_t t = 0; t < rows; ++t) v[t] -= d * q[t];
      }
    }
    double n2 = 0.0;
    for (size_t t = 0; t < rows; ++t) n2 += v[t] * v[t];
    const double inv = 1.0 / std::sqrt(n2);
    for (size_t t = 0; t < rows; ++t) v[t] *= inv;
  }
}

std::vector<size_t> widths_of(size_t in_dim, const NetworkConfig& net, size_t out_dim) {
  std::vector<size_t> w{in_dim};
  for (int64_t s : net.layer_sizes) {
    if (s <= 0) throw std::invalid_argument("network layer sizes must be positive");
    w.push_back(static_cast<size_t>(s));
  }
  w.push_back(out_dim);
  return w;
}

}  // namespace

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  throw std::invalid_argument("unknown activation '" + name + "' (expected tanh or relu)");
}

KernelInit parse_kernel_init(const std::string& name) {
  if (name == "orthogonal") return KernelInit::orthogonal;
  if (name == "torch_default") return KernelInit::torch_default;
  throw std::invalid_argument("unknown kernel_init '" + name +
                              "' (expected orthogonal or torch_default)");
}

template <class T>
BasicMlp<T>::BasicMlp(size_t in_dim, const NetworkConfig& net, size_t out_dim, double output_gain)
    : BasicMlp(widths_of(in_dim, net, out_dim), parse_activation(net.activation), output_gain,
               parse_kernel_init(net.kernel_init)) {}

template <class T>
BasicMlp<T>::BasicMlp(std::vector<size_t> widths, Activation hidden, double output_gain,
                      KernelInit kernel_init)
    : kernel_init_(kernel_init) {
  if (widths.size() < 2) throw std::invalid_argument("an MLP needs an input and an output width");
  size_t offset = 0;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    if (widths[l] == 0 || widths[l + 1] == 0)
      throw std::invalid_argument("MLP widths must be positive");
    Layer layer;
    layer.in = widths[l];
    layer.out = widths[l + 1];
    layer.w_offset = offset;
    layer.b_offset = offset + layer.in * layer.out;
    const bool last = l + 2 == widths.size();
    layer.activation = last ? Activation::identity : hidden;
    layer.init_gain = last ? output_gain : std::sqrt(2.0);
    offset = layer.b_offset + layer.out;
    layers_.push_back(layer);
    max_width_ = std::max({max_width_, layer.in, layer.out});
  }
  params_.assign(offset, T(0));
  grads_.assign(offset, T(0));
  hidden_.resize(layers_.size() - 1);
}

template <class T>
void BasicMlp<T>::init(Pcg64& rng) {
  wt_ahead_valid_ = false;
  if (kernel_init_ == KernelInit::torch_default) {
    // nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) on the [out][in] weight, whose
    // bound is 1/sqrt(in), then the bias with the same bound.
    for (const Layer& layer : layers_) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(layer.in));
      T* w = params_.data() + layer.w_offset;
      for (size_t o = 0; o < layer.out; ++o)
        for (size_t i = 0; i < layer.in; ++i)
          w[i * layer.out + o] = static_cast<T>(rng.uniform(-bound, bound));
      T* b = params_.data() + layer.b_offset;
      for (size_t o = 0; o < layer.out; ++o) b[o] = static_cast<T>(rng.uniform(-bound, bound));
    }
    return;
  }
  for (const Layer& layer : layers_) {
    // torch.nn.init.orthogonal_ on the [out][in] weight: orthonormalise the longer side.
    const size_t out = layer.out, in = layer.in;
    std::vector<double> g(out * in);
    for (double& x : g) x = rng.normal();  // g[o * in + i], row-major [out][in]
    const bool tall = out >= in;
    const size_t rows = tall ? out : in, cols = tall ? in : out;
    std::vector<double> m(rows * cols);  // column-major: column j at m[j * rows]
    for (size_t o = 0; o < out; ++o)
      for (size_t i = 0; i < in; ++i) {
        if (tall)
          m[i * rows + o] = g[o * in + i];
        else
          m[o * rows + i] = g[o * in + i];
      }
    orthonormalise_columns(m, rows, cols);
    T* w = params_.data() + layer.w_offset;
    for (size_t i = 0; i < in; ++i)
      for (size_t o = 0; o < out; ++o) {
        const double q = tall ? m[i * rows + o] : m[o * rows + i];
        w[i * out + o] = static_cast<T>(layer.init_gain * q);
      }
    std::fill_n(params_.data() + layer.b_offset, out, T(0));
  }
}

template <class T>
void BasicMlp<T>::reserve(size_t max_batch) {
  if (max_batch <= capacity_) return;
  capacity_ = max_batch;
  input_.resize(capacity_ * in_dim());
  for (size_t l = 0; l + 1 < layers_.size(); ++l) hidden_[l].resize(capacity_ * layers_[l].out);
  scratch<T>(capacity_, max_width_);
}

template <class T>
void BasicMlp<T>::forward(const T* x, size_t batch, T* y) {
  reserve(batch);
  batch_ = batch;
  xt_ahead_valid_ = false;
  std::copy_n(x, batch * in_dim(), input_.data());
  const T* in = input_.data();
  uint64_t* masks = scratch<T>(batch, max_width_).masks.data();
  for (size_t l = 0; l < layers_.size(); ++l) {
    T* out = l + 1 < layers_.size() ? hidden_[l].data() : y;
    layer_forward(l, in, batch, out, masks);
    in = out;
  }
}

template <class T>
void BasicMlp<T>::predict(const T* x, size_t batch, T* y) const {
  Scratch<T>& s = scratch<T>(batch, max_width_);
  const T* in = x;
  for (size_t l = 0; l < layers_.size(); ++l) {
    T* out = l + 1 == layers_.size() ? y : (l % 2 == 0 ? s.a.data() : s.b.data());
    layer_forward(l, in, batch, out, s.masks.data());
    in = out;
  }
}

// out[batch][layer.out] = act(in . W + b) for layer l.
template <class T>
void BasicMlp<T>::layer_forward(size_t l, const T* in, size_t batch, T* out,
                                uint64_t* masks) const {
  const Layer& layer = layers_[l];
  const T* w = params_.data() + layer.w_offset;
  const T* bias = params_.data() + layer.b_offset;
  if (l > 0 && layers_[l - 1].activation == Activation::relu && sparse_pays<T>(layer.out))
    sparse_gemm(in, layer.in, w, layer.out, out, layer.out, bias, batch, layer.out, layer.in,
                Into::add_bias, layer.activation, masks);
  else
    gemm(Operands<T>{in, layer.in, 1, w, layer.out, out, layer.out, bias}, batch, layer.out,
         layer.in, Into::add_bias, layer.activation);
}

// Whether layer l's weight gradients take the sparse path (over its input's non-zeros, from
// the input transposed).
template <class T>
bool BasicMlp<T>::sparse_param_grads(size_t l) const {
  return l > 0 && layers_[l - 1].activation == Activation::relu && sparse_pays<T>(layers_[l].out);
}

template <class T>
void BasicMlp<T>::transpose_ahead(bool for_param_grads) {
  const size_t L = layers_.size();
  if (wt_ahead_.size() != L) {
    wt_ahead_.resize(L);
    xt_ahead_.resize(L);
  }
  for (size_t l = 1; l < L; ++l) {
    const Layer& layer = layers_[l];
    AlignedVector<T>& wt = wt_ahead_[l];
    if (!wt_ahead_valid_) {
      if (wt.size() < layer.in * layer.out) wt.resize(layer.in * layer.out);
      transpose(params_.data() + layer.w_offset, layer.in, layer.out, layer.out, wt.data(),
                layer.in);
    }
    if (for_param_grads && batch_ > 0 && sparse_param_grads(l)) {
      AlignedVector<T>& xt = xt_ahead_[l];
      if (xt.size() < layer.in * capacity_) xt.resize(layer.in * capacity_);
      transpose(hidden_[l - 1].data(), batch_, layer.in, layer.in, xt.data(), batch_);
    }
  }
  wt_ahead_valid_ = true;
  xt_ahead_valid_ = for_param_grads && batch_ > 0;
}

// dW += x^T g and db += column sums of g for one layer (g = dL/d(pre-activation)); xt_ahead:
// x transposed by transpose_ahead(), or null to transpose it here.
template <class T>
void BasicMlp<T>::accumulate_param_grads(const Layer& layer, const T* x, bool x_sparse, const T* g,
                                         size_t batch, const T* xt_ahead) {
  Scratch<T>& s = scratch<T>(batch, max_width_);
  const size_t in = layer.in, out = layer.out;
  T* gw = grads_.data() + layer.w_offset;
  // dW[i][o] += sum_b x[b][i] g[b][o]; vectorised over the wider of in and out (same sums),
  // or, for a ReLU output x, over the non-zero x[b][i] of x transposed.
  if (x_sparse && sparse_pays<T>(out)) {
    const T* xt = xt_ahead;
    if (!xt) {
      transpose(x, batch, in, in, s.xt.data(), batch);
      xt = s.xt.data();
    }
    sparse_gemm(xt, batch, g, out, gw, out, static_cast<const T*>(nullptr), in, out, batch,
                Into::accumulate, Activation::identity, s.masks.data());
  } else if (out >= in) {
    gemm(Operands<T>{x, 1, in, g, out, gw, out, nullptr}, in, out, batch, Into::accumulate);
  } else {
    gemm(Operands<T>{g, 1, out, x, in, s.wt.data(), in, nullptr}, out, in, batch, Into::store);
    for (size_t i = 0; i < in; ++i)
      for (size_t o = 0; o < out; ++o) gw[i * out + o] += s.wt[o * in + i];
  }
  // db[o] += sum_b g[b][o], a vector of columns at a time in registers.
  using V = typename Simd<T>::V;
  constexpr size_t L = Simd<T>::kLanes;
  T* gb = grads_.data() + layer.b_offset;
  size_t o0 = 0;
  for (; o0 + L <= out; o0 += L) {
    V acc = V{};
    for (size_t b = 0; b < batch; ++b) acc += load(g + b * out + o0);
    store(gb + o0, load(gb + o0) + acc);
  }
  for (; o0 < out; ++o0) {
    T acc = T(0);
    for (size_t b = 0; b < batch; ++b) acc += g[b * out + o0];
    gb[o0] += acc;
  }
}

template <class T>
void BasicMlp<T>::backward(const T* dy, size_t batch, T* dx) {
  backward_pass(dy, batch, dx, true, 0, in_dim());
}

template <class T>
void BasicMlp<T>::input_gradient(const T* dy, size_t batch, T* dx) {
  input_gradient(dy, batch, dx, 0, in_dim());
}

template <class T>
void BasicMlp<T>::input_gradient(const T* dy, size_t batch, T* dx, size_t first, size_t count) {
  if (dx == nullptr) throw std::invalid_argument("Mlp::input_gradient: dx is null");
  if (first > in_dim() || count > in_dim() - first || count == 0)
    throw std::invalid_argument("Mlp::input_gradient: columns outside the input");
  backward_pass(dy, batch, dx, false, first, count);
}

template <class T>
void BasicMlp<T>::backward_pass(const T* dy, size_t batch, T* dx, bool param_grads, size_t first,
                                size_t count) {
  if (batch != batch_)
    throw std::invalid_argument("Mlp::backward: batch differs from the last forward");
  Scratch<T>& s = scratch<T>(batch, max_width_);
  const bool wt_ahead = wt_ahead_valid_, xt_ahead = xt_ahead_valid_;
  xt_ahead_valid_ = false;  // the activations' serve one pass; the weights' stay good
  const T* g = dy;          // dL/d(pre-activation) of layer l
  for (size_t l = layers_.size(); l-- > 0;) {
    const Layer& layer = layers_[l];
    const size_t in = layer.in, out = layer.out;
    const T* x = l == 0 ? input_.data() : hidden_[l - 1].data();
    const bool x_sparse = l > 0 && layers_[l - 1].activation == Activation::relu;
    if (param_grads)
      accumulate_param_grads(layer, x, x_sparse, g, batch,
                             xt_ahead && sparse_param_grads(l) ? xt_ahead_[l].data() : nullptr);
    if (l == 0 && dx == nullptr) break;
    // dX[b][i] = sum_o g[b][o] W[i][o], through W transposed so the i are contiguous (for the
    // input, only the columns first .. first + count).
    const T* wt = s.wt.data();
    if (wt_ahead && l > 0)
      wt = wt_ahead_[l].data();
    else
      transpose(params_.data() + layer.w_offset, in, out, out, s.wt.data(), in);
    T* next = l == 0 ? dx : (g == s.a.data() ? s.b.data() : s.a.data());
    const size_t col = l == 0 ? first : 0, cols = l == 0 ? count : in;
    if (layer.activation == Activation::relu && sparse_pays<T>(cols))  // g went through the ReLU
      sparse_gemm(g, out, wt + col, in, next, cols, static_cast<const T*>(nullptr), batch, cols,
                  out, Into::store, Activation::identity, s.masks.data());
    else
      gemm(Operands<T>{g, out, 1, wt + col, in, next, cols, nullptr}, batch, cols, out,
           Into::store);
    if (l > 0) activation_backward(layers_[l - 1].activation, x, next, batch * in);
    g = next;
  }
}

template <class T>
void BasicMlp<T>::zero_grad() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template <class T>
void BasicMlp<T>::check_same_shape(const BasicMlp& other) const {
  bool same = other.layers_.size() == layers_.size();
  for (size_t l = 0; same && l < layers_.size(); ++l)
    same = other.layers_[l].in == layers_[l].in && other.layers_[l].out == layers_[l].out;
  if (!same) throw std::invalid_argument("Mlp: networks have different architectures");
}

template <class T>
void BasicMlp<T>::copy_params_from(const BasicMlp& other) {
  check_same_shape(other);
  params_ = other.params_;
  wt_ahead_valid_ = false;
}

template <class T>
void BasicMlp<T>::polyak_update(const BasicMlp& online, double tau) {
  check_same_shape(online);
  wt_ahead_valid_ = false;
  const T a = static_cast<T>(tau), b = static_cast<T>(1.0 - tau);
  const T* src = online.params_.data();
  T* dst = params_.data();
  for (size_t i = 0; i < params_.size(); ++i) dst[i] = a * src[i] + b * dst[i];
}

template <class T>
void BasicMlp<T>::append_tensors(TensorList& list, const std::string& prefix) {
  wt_ahead_valid_ = false;  // a restore writes the parameters through the list
  list.push_back(tensor_ref(prefix + "/params", params_.data(), {params_.size()}));
}

template class BasicMlp<float>;
template class BasicMlp<double>;

}  // namespace edgerl
