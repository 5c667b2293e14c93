// detmath: exp, log, log1p, softplus and tanh for float and double, and correctly rounded sin and
// cos for double, written with IEEE-754 basic operations (+ - * /) and bit manipulation only,
// so they give the same bits on every CPU, compiler and C library. libm's versions do not:
// glibc picks an FMA code path at run time by CPU (x86-64 with FMA, aarch64 and riscv64 take
// it; armhf and older x86-64 do not, and the two disagree by an ulp in about 1 of 1500 sin/cos
// calls), and other libcs use other polynomials. The network and the distribution heads use
// exp/log/tanh/softplus exclusively, the environments sin and cos.
//
// exp, log, tanh...: every function is branch-free on its main path (special cases are
// selected at the end), so a loop over them vectorises; vectorisation never changes the bits
// because each lane performs the same operations in the same order. Accuracy: within 2 ulp of
// the correctly rounded result over the whole range (tests/test_nn.cpp checks it against
// long-double libm).
//
// sin, cos, sincos (double): correctly rounded (round to nearest) for every double, so the
// result does not depend on how it is computed. See "sin and cos" below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/detmath_trig_tables.hpp"

namespace edgerl::detmath {
namespace detail {

template <class T>
struct Traits;

template <>
struct Traits<float> {
  using U = uint32_t;
  using I = int32_t;
  static constexpr int kMantBits = 23;
  static constexpr I kBias = 127;
  static constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  static constexpr float kLn2Hi = 6.93145751953125e-01f;  // 16 significant bits: n*hi is exact
  static constexpr float kLn2Lo = 1.428606765330187045e-06f;
  static constexpr float kExpLo = -104.0f;  // exp rounds to 0 below, to inf above kExpHi
  static constexpr float kExpHi = 89.0f;
  static constexpr float kTanhClamp = 20.0f;  // tanh rounds to 1 beyond this
  static constexpr U kSqrtHalfBits = 0x3f3504f3u;
  static constexpr float kSubnormalScale = 33554432.0f;  // 2^25
  static constexpr I kSubnormalExp = 25;
  static constexpr int kExpTerms = 6;  // Taylor terms r^2/2! .. r^7/7! for |r| <= ln2/2
  static constexpr int kLogTerms = 5;  // atanh series terms in s^2, |s| <= 0.1716
};

template <>
struct Traits<double> {
  using U = uint64_t;
  using I = int64_t;
  static constexpr int kMantBits = 52;
  static constexpr I kBias = 1023;
  static constexpr double kShifter = 6755399441055744.0;        // 1.5 * 2^52
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
  static constexpr double kExpLo = -746.0;
  static constexpr double kExpHi = 710.0;
  static constexpr double kTanhClamp = 20.0;
  static constexpr U kSqrtHalfBits = 0x3fe6a09e667f3bcdull;
  static constexpr double kSubnormalScale = 18014398509481984.0;  // 2^54
  static constexpr I kSubnormalExp = 54;
  static constexpr int kExpTerms = 13;
  static constexpr int kLogTerms = 11;
};

template <class To, class From>
inline To bits_as(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit cast between different sizes");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

template <class T>
constexpr typename Traits<T>::U kSignBit = typename Traits<T>::U(1) << (sizeof(T) * 8 - 1);
template <class T>
constexpr typename Traits<T>::U kInfBits =
    ((typename Traits<T>::U(1) << (sizeof(T) * 8 - 1 - Traits<T>::kMantBits)) - 1)
    << Traits<T>::kMantBits;

// 2^n for n within the normal exponent range.
template <class T>
inline T pow2(typename Traits<T>::I n) {
  using Tr = Traits<T>;
  using U = typename Tr::U;
  return bits_as<T>(static_cast<U>(static_cast<U>(n + Tr::kBias) << Tr::kMantBits));
}

// Splits x into n*ln2 + r with |r| <= ln2/2 (round to nearest integer n by the shifter trick,
// no float-to-int conversion); returns r and sets n.
template <class T>
inline T reduce_ln2(T x, typename Traits<T>::I& n) {
  using Tr = Traits<T>;
  using I = typename Tr::I;
  constexpr T kLog2e = static_cast<T>(1.44269504088896340736);
  const T t = x * kLog2e + Tr::kShifter;
  const T nf = t - Tr::kShifter;
  n = static_cast<I>(bits_as<typename Tr::U>(t) - bits_as<typename Tr::U>(Tr::kShifter));
  return (x - nf * Tr::kLn2Hi) - nf * Tr::kLn2Lo;
}

// expm1(r) - r for |r| <= ln2/2: r^2 * (1/2! + r/3! + ...), Horner from the highest term.
template <class T>
inline T expm1_tail(T r) {
  constexpr int kTerms = Traits<T>::kExpTerms;
  T inv_fact[kTerms] = {};
  double f = 2.0;
  for (int k = 0; k < kTerms; ++k) {  // 1/(k+2)!, folded to constants by the compiler
    inv_fact[k] = static_cast<T>(1.0 / f);
    f *= static_cast<double>(k + 3);
  }
  T p = inv_fact[kTerms - 1];
  for (int k = kTerms - 2; k >= 0; --k) p = p * r + inv_fact[k];
  return (r * r) * p;
}

}  // namespace detail

// e^x. Overflows to +inf, underflows through the subnormals to 0, NaN stays NaN. The clamp is
// integer masks on the bits (as in tanh below): a float compare-and-select would keep loops
// over exp from vectorising (-ftrapping-math).
template <class T>
inline T exp(T x) {
  using Tr = detail::Traits<T>;
  using U = typename Tr::U;
  using I = typename Tr::I;
  const U xb = detail::bits_as<U>(x), ab = xb & ~detail::kSignBit<T>;
  const U neg = U(0) - (xb >> (sizeof(T) * 8 - 1));
  const U nan = U(0) - static_cast<U>(ab > detail::kInfBits<T>);
  const U hi = detail::bits_as<U>(Tr::kExpHi), lo = detail::bits_as<U>(Tr::kExpLo);
  const U to_hi = ~neg & ~nan & (U(0) - static_cast<U>(ab > hi));
  const U to_lo = neg & ~nan & (U(0) - static_cast<U>(ab > (lo & ~detail::kSignBit<T>)));
  const T xc =
      detail::bits_as<T>(static_cast<U>((xb & ~(to_hi | to_lo)) | (hi & to_hi) | (lo & to_lo)));
  I n;
  const T r = detail::reduce_ln2(xc, n);
  const T p = T(1) + (r + detail::expm1_tail(r));
  // Scale by 2^n in two exact steps so that subnormal results round only once.
  const I n1 = n / 2;
  return (p * detail::pow2<T>(n1)) * detail::pow2<T>(n - n1);
}

namespace detail {

// tanh in three stages, so that tanh_array below can run each stage over a block of elements:
// (1) 2|x| (clamped) split into n*ln2 + r, returning r and setting s = 2^n; (2) expm1(2|x|) from
// r and s; (3) the quotient, the sign and the NaN case.
template <class T>
inline T tanh_reduce(T x, T& s) {
  using Tr = Traits<T>;
  using U = typename Tr::U;
  using I = typename Tr::I;
  const U ab = bits_as<U>(x) & ~kSignBit<T>;
  const U clamp_bits = bits_as<U>(Tr::kTanhClamp);
  const U over = U(0) - static_cast<U>(ab > clamp_bits);  // all ones for |x| > 20 (or NaN)
  const T a = bits_as<T>(static_cast<U>((ab & ~over) | (clamp_bits & over)));
  I n;
  const T r = reduce_ln2(a + a, n);
  s = pow2<T>(n);  // n <= 58: 2^n and 2^n - 1 are exact enough
  return r;
}

template <class T>
inline T tanh_expm1(T r, T s) {
  const T em1 = r + expm1_tail(r);  // expm1(r)
  return s * em1 + (s - T(1));      // expm1(2|x|)
}

template <class T>
inline T tanh_finish(T x, T e) {
  using U = typename Traits<T>::U;
  const U xb = bits_as<U>(x);
  const U ab = xb & ~kSignBit<T>;
  const U tb = bits_as<U>(e / (e + T(2))) | (xb & kSignBit<T>);
  const U nan = U(0) - static_cast<U>(ab > kInfBits<T>);
  return bits_as<T>(static_cast<U>((tb & ~nan) | (xb & nan)));
}

}  // namespace detail

// tanh(x) = sign(x) * E / (E + 2) with E = expm1(2|x|): no cancellation near 0. The clamp
// and the NaN case are integer masks rather than selects: a select lets the compiler split
// off the constant |x| > 20 path as a branch, which stops SSE2 builds from vectorising.
template <class T>
inline T tanh(T x) {
  T s;
  const T r = detail::tanh_reduce(x, s);
  return detail::tanh_finish(x, detail::tanh_expm1(r, s));
}

// y[i] = tanh(y[i]) for i < n, the same bits as tanh() element by element. One vectorised loop
// over tanh() is a chain of ~30 dependent operations per vector, and the out-of-order core
// holds too few of those chains at once to keep its units busy; a loop per stage over a block
// of kTanhBlock elements has short chains, so the same operations run ~1.6x faster (PPO
// CartPole's profile on an AVX-512 Xeon; the stages' intermediates stay in L1).
#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX512F__)
#define EDGERL_DETMATH_WIDE_VECTORS 1
// GCC tunes Intel targets for 256-bit vectors (-mprefer-vector-width=256); this loop gains from
// 512-bit ones, which change no bits (each lane does the same operations).
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
#endif
template <class T>
inline void tanh_array(T* y, size_t n) {
  constexpr size_t kTanhBlock = 256;
  T r[kTanhBlock], s[kTanhBlock];
  for (size_t b0 = 0; b0 < n; b0 += kTanhBlock) {
    const size_t m = n - b0 < kTanhBlock ? n - b0 : kTanhBlock;
    T* x = y + b0;
    for (size_t i = 0; i < m; ++i) r[i] = detail::tanh_reduce(x[i], s[i]);
    for (size_t i = 0; i < m; ++i) r[i] = detail::tanh_expm1(r[i], s[i]);
    for (size_t i = 0; i < m; ++i) x[i] = detail::tanh_finish(x[i], r[i]);
  }
}
#ifdef EDGERL_DETMATH_WIDE_VECTORS
#pragma GCC pop_options
#undef EDGERL_DETMATH_WIDE_VECTORS
#endif

// Natural logarithm: log(0) = -inf, log(x < 0) = NaN, log(inf) = inf. Special cases are
// selected with integer masks (vectorisable, as exp above).
template <class T>
inline T log(T x) {
  using Tr = detail::Traits<T>;
  using U = typename Tr::U;
  using I = typename Tr::I;
  constexpr U kMantMask = (U(1) << Tr::kMantBits) - 1;
  constexpr U kOneBits = static_cast<U>(Tr::kBias) << Tr::kMantBits;
  const U xb = detail::bits_as<U>(x), ab = xb & ~detail::kSignBit<T>;
  const U neg = U(0) - (xb >> (sizeof(T) * 8 - 1));
  const U nan = U(0) - static_cast<U>(ab > detail::kInfBits<T>);
  const U zero = U(0) - static_cast<U>(ab == 0);
  const U inf = U(0) - static_cast<U>(ab == detail::kInfBits<T>);
  // x < the smallest normal (negative numbers and -0 included, NaN not): scale it up first.
  const U sub =
      ~nan &
      (neg | (U(0) - static_cast<U>(ab < detail::bits_as<U>(std::numeric_limits<T>::min()))));
  const T scaled = x * Tr::kSubnormalScale;
  const U xs_bits = (detail::bits_as<U>(scaled) & sub) | (xb & ~sub);
  // x = 2^k * m with m in [sqrt(1/2), sqrt(2)).
  U u = xs_bits + (kOneBits - Tr::kSqrtHalfBits);
  const I k = static_cast<I>(u >> Tr::kMantBits) - Tr::kBias -
              static_cast<I>(static_cast<U>(Tr::kSubnormalExp) & sub);
  u = (u & kMantMask) + Tr::kSqrtHalfBits;
  const T f = detail::bits_as<T>(u) - T(1);
  // log(1+f) = f - f^2/2 + s*(f^2/2 + R), s = f/(2+f), R = 2s^2/3 + 2s^4/5 + ...
  const T s = f / (T(2) + f);
  const T z = s * s;
  constexpr int kTerms = Tr::kLogTerms;
  T p = static_cast<T>(2.0 / (2 * kTerms + 1));
  for (int j = kTerms - 1; j >= 1; --j) p = p * z + static_cast<T>(2.0 / (2 * j + 1));
  const T big_r = z * p;
  const T hfsq = T(0.5) * f * f;
  const T dk = static_cast<T>(k);
  const T y = (((s * (hfsq + big_r) + dk * Tr::kLn2Lo) - hfsq) + f) + dk * Tr::kLn2Hi;
  // 0 -> -inf; x < 0 or NaN -> quiet NaN; +inf -> +inf; else y.
  const U minus_inf = detail::kInfBits<T> | detail::kSignBit<T>;
  const U qnan = detail::bits_as<U>(std::numeric_limits<T>::quiet_NaN());
  const U is_nan_out = ~zero & (nan | neg);
  const U normal = ~zero & ~nan & ~neg & ~inf;
  const U out = (detail::bits_as<U>(y) & normal) | (minus_inf & zero) | (qnan & is_nan_out) |
                (xb & inf & ~neg);
  return detail::bits_as<T>(out);
}

// log(1 + x), accurate for small x: log(u) corrected by the rounding error of u = 1 + x.
template <class T>
inline T log1p(T x) {
  using U = typename detail::Traits<T>::U;
  const T u = T(1) + x;
  const T c = (u - T(1)) - x;
  const T lu = log(u);
  const T y = lu - c / u;
  const U xb = detail::bits_as<U>(x);
  const U edge =
      U(0) - static_cast<U>((xb == detail::kInfBits<T>) | (xb == detail::bits_as<U>(T(-1))));
  return detail::bits_as<T>(
      static_cast<U>((detail::bits_as<U>(lu) & edge) | (detail::bits_as<U>(y) & ~edge)));
}

// softplus(x) = log(1 + e^x), without overflow.
template <class T>
inline T softplus(T x) {
  using U = typename detail::Traits<T>::U;
  const U xb = detail::bits_as<U>(x), ab = xb & ~detail::kSignBit<T>;
  const U neg = U(0) - (xb >> (sizeof(T) * 8 - 1));
  const U nan = U(0) - static_cast<U>(ab > detail::kInfBits<T>);
  // |x| (x < 0 ? -x : x, a NaN unchanged) and max(x, 0) (x > 0 ? x : +0).
  const T ax = detail::bits_as<T>(static_cast<U>(xb ^ (detail::kSignBit<T> & neg & ~nan)));
  const U pos = ~neg & ~nan & (U(0) - static_cast<U>(ab != 0));
  const T relu = detail::bits_as<T>(static_cast<U>(xb & pos));
  return relu + log1p(exp(-ax));
}

// ---------------------------------------------------------------------------------------------
// sin and cos
//
// Correctly rounded for every double x, by Ziv's strategy:
//
// - |x| < 2^-26: sin x rounds to x (|sin x - x| < |x|^3/6 is below half an ulp of x, even
//   below a power of two) and, for |x| < 2^-27, cos x rounds to 1. This covers 0, -0 and the
//   subnormals.
// - 2^-26 <= |x| <= 2^20, the fast path (inline below): Cody-Waite reduction by pi/1024,
//   |x| = j pi/1024 + d + dl, with pi/1024 in four pieces (three of 24 bits, so j * piece is
//   exact for j < 2^29) and d + dl a double-double within 2^-108 of the exact value; j's low 9
//   bits index a table of sin and cos of m pi/1024 as double-doubles and its next 2 bits give
//   the quadrant, so the table load overlaps the reduction. Then
//     sin(m pi/1024 + d + dl) = S cos(d + dl) + C sin(d + dl)
//   with the leading product exact (two_prod_err: one FMA where the CPU has it, else Dekker's
//   product with Veltkamp's splits; both give the same, unique, error term), the small
//   polynomials in double (|d| <= pi/2048). The result hi + lo is within 2^-69.2 |y| + 2^-108 of
//   the true y (derived term by term in eval_trig); the rounding test
//   hi + (lo + eps) == hi + (lo - eps), with eps above that bound, proves that every value in
//   the error interval rounds to hi. It fails for about 1 argument in 20000 (measured by
//   tools/check_detmath_trig.cpp), which then takes the slow path. The path is branch-free but
//   for that test.
// - Otherwise (|x| > 2^20, or the rounding test failed): the slow path (detmath.cpp), an exact
//   Payne-Hanek reduction with 2/pi to 1312 bits and Taylor series in 256-bit fixed point
//   (integer arithmetic), accurate to 2^-246 absolute, i.e. 2^-180 relative to the smallest
//   |sin x| of any double (about 2^-61: no double is closer than that to a multiple of pi/2),
//   then rounded in integers. Known worst cases for correct rounding of sin and cos in double
//   need about 2^-(53+66) (Lefevre and Muller), so the slow path always decides. It takes a few
//   microseconds.
// - inf and NaN give NaN (a NaN argument is returned with its quiet bit set).
//
// The environments call these for every sin and cos of their float64 dynamics; std::sin and
// std::cos would not be the same bits on every target (see docs/environments.md).
namespace detail {

// a + b = s + e exactly (Knuth's TwoSum).
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// a + b = s + e exactly when a == 0 or exponent(a) >= exponent(b) (Dekker's Fast2Sum).
inline void fast_two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  e = b - (s - a);
}

// a = hi + lo with hi and lo of at most 26 significant bits each (Veltkamp), |a| < 2^995.
inline void split(double a, double& hi, double& lo) {
  const double c = 134217729.0 * a;  // 2^27 + 1
  hi = c - (c - a);
  lo = a - hi;
}

inline double abs_bits(double a) {
  return bits_as<double>(bits_as<uint64_t>(a) & 0x7fffffffffffffffull);
}

// The rounding error e of p = fl(a b), a b = p + e exactly, for |a|, |b| < 2^995 and a b zero or
// above 2^-969 (so that e is representable). e is a unique double, so the two ways give the same
// bits: one fused multiply-add where the CPU has it (a correctly rounded fma of an exactly
// representable result is exact), else Dekker's product with Veltkamp's splits (no FMA).
inline double two_prod_err(double a, double b, double p) {
#ifdef __FP_FAST_FMA
  return __builtin_fma(a, b, -p);
#else
  double ah, al, bh, bl;
  split(a, ah, al);
  split(b, bh, bl);
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

constexpr double kTrigShifter = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
constexpr double kTrigTiny = 0x1p-26;
constexpr double kTrigFastMax = 0x1p20;
// The fast path's error bounds (derived in eval_trig): relative to the result (the derivation
// gives 2^-69.2; the tests measure at most 2^-70.3) and absolute (the reduction's 2^-108).
constexpr double kTrigErrRel = 0x1p-68;
constexpr double kTrigErrAbs = 0x1p-106;

// |x| = j pi/1024 + d + dl with j = 512 n + m, so that sin |x| = [sin v, cos v, -sin v,
// -cos v][n mod 4] and cos |x| = [cos v, -sin v, -cos v, sin v][n mod 4], v = m pi/1024 + d + dl.
struct TrigArg {
  double d, dl;  // |d| <= pi/2048 + 2^-33, |dl| <= 2^-56.3 (d + dl is not normalised)
  uint32_t m, n;
};

// The fast path's reduction, for |ax| <= kTrigFastMax (so j < 2^29).
inline void reduce_trig(double ax, TrigArg& a) {
  // j = round(ax 1024/pi); the product's rounding may give the other neighbour near a
  // half-integer, which only lets |d| exceed pi/2048 by 2^-33.
  constexpr double k1024OverPi = 0x1.45f306dc9c883p+8;
  const double jt = ax * k1024OverPi + kTrigShifter;
  const double j = jt - kTrigShifter;
  const uint32_t jbits = static_cast<uint32_t>(bits_as<uint64_t>(jt));
  a.m = jbits & 0x1ffu;
  a.n = (jbits >> 9) & 3u;
  // ax - j P0 is exact (Sterbenz: j P0 is within a factor 2 of ax for j >= 1, and exact);
  // c = j P1 + j P2 + j P3 as a double-double alongside (j P1, j P2 exact, Fast2Sum exact, j P3
  // and the low sum rounded: 2^-110 + 2^-109.4); d = ax - j P0 - c_hi by an exact TwoSum, and
  // dl = its error - c_lo (rounded: 2^-109.3). With pi/1024's missing tail (j 2^-139.5 <
  // 2^-111.1) the reduction is within 2^-108 of the exact |x| - j pi/1024.
  const double a1 = ax - j * kPi1024[0];
  double ch, cl;
  fast_two_sum(j * kPi1024[1], j * kPi1024[2], ch, cl);
  cl = cl + j * kPi1024[3];
  double e;
  two_sum(a1, -ch, a.d, e);
  a.dl = e - cl;
}

// sin v (cos_v false) or cos v as hi + lo, and approx (within 2^-17 of it, relatively). With
// (A, B) = (S, C) for sin v and (C, -S) for cos v, where S + Sl = sin(m pi/1024) and C + Cl =
// cos(m pi/1024) (the table), and q = d^2 (rounded, <= 2^-18.7):
//   y = A cos(d + dl) + B sin(d + dl)
//     = A + B d - A q/2 + A cmt + B sm + dl y' + O(dl^2)
//   sm  = sin d - d         = d q (-1/6 + q/120 - q^2/5040)  |sm| <= 2^-30.6, truncation 2^-102
//   cmt = cos d - 1 + d^2/2 = q^2 (1/24 - q/720)             |cmt| <= 2^-42, truncation 2^-90
//   y'  = B cos d - A sin d ~ B - d (A + B d/2)               (error < 2^-30.6 |dl| < 2^-86)
// B d is an exact product (two_prod_err) and A + B d an exact Fast2Sum (A = 0, or
// |A| >= sin(pi/1024) > 2 |d| >= |B d|). Error relative to |y| (|y| >= 0.64 |d| when A = 0, else
// |y| >= max(A/2, sin(pi/2048))): B sm, with relative error 6.75 * 2^-53 (q, -1/6, the sum, two
// products, B ~ its double) and |B sm| <= |d|^3/6, 2^-71.5; A q/2, three roundings (q, the
// product, A ~ its double) with A q/2 <= 2^-18.7 |y|, 2^-70.1; the low sum's last two additions
// (the small terms first) 2^-71.5 and 2^-74.2; the table (2^-106) and the truncations (2^-90):
// 2^-69.24 in all. The reduction adds at most 2^-108 absolute.
inline void eval_trig(const TrigArg& a, bool cos_v, double& hi, double& lo, double& approx) {
  // Indexed loads and a sign mask rather than selects, which the compiler may turn into
  // branches on the quadrant.
  const double* tab = kSinCosPi1024[a.m];
  const uint32_t oa = cos_v ? 2u : 0u;
  const uint64_t b_sign = static_cast<uint64_t>(cos_v) << 63;
  const double ah = tab[oa], al = tab[oa + 1];
  const double bh = bits_as<double>(bits_as<uint64_t>(tab[2 - oa]) ^ b_sign);
  const double bl = bits_as<double>(bits_as<uint64_t>(tab[3 - oa]) ^ b_sign);
  const double d = a.d;
  const double pb = bh * d;
  const double pb_err = two_prod_err(bh, d, pb);
  const double q = d * d;
  const double sm = (d * q) * (-1.0 / 6.0 + q * (1.0 / 120.0 - q * (1.0 / 5040.0)));
  const double cmt = (q * q) * (1.0 / 24.0 - q * (1.0 / 720.0));
  const double slope = bh - d * (ah + bh * (0.5 * d));
  double y1, e1;
  fast_two_sum(ah, pb, y1, e1);
  approx = y1;
  const double small = ((((e1 + pb_err) + al) + bl * d) + ah * cmt) + a.dl * slope;
  const double low = (small + bh * sm) - 0.5 * (ah * q);
  fast_two_sum(y1, low, hi, lo);
}

// Whether every value within eps of hi + lo rounds to hi (= fl(hi + lo)): by monotonicity of
// rounding it suffices that both ends do. (fl(lo +- eps) moves the ends by at most 2^-106 |hi|,
// far inside the margin of the bounds above.)
inline bool rounds_to_hi(double hi, double lo, double eps) {
  return hi + (lo + eps) == hi + (lo - eps);
}

// The slow path (detmath.cpp): the correctly rounded sin x (want_cos false) or cos x for any
// finite |x| >= 2^-26, by exact reduction and 256-bit fixed point.
double sincos_slow(double x, bool want_cos);

// For the tests: the slow path's result with *decided false if its error bound straddled a
// rounding boundary, and its value (within 2^-246) as a sum of three doubles, truncated.
double sincos_slow_checked(double x, bool want_cos, bool* decided);
void sincos_slow_value(double x, bool want_cos, double out[3]);

// sin x or cos x for |x| > kTrigFastMax, inf and NaN (detmath.cpp).
double sincos_outside(double x, bool want_cos);

}  // namespace detail

// sin x, correctly rounded.
inline double sin(double x) {
  const uint64_t xb = detail::bits_as<uint64_t>(x);
  const uint64_t sign = xb & 0x8000000000000000ull;
  const double ax = detail::bits_as<double>(xb ^ sign);
  if (ax < detail::kTrigTiny) return x;
  if (!(ax <= detail::kTrigFastMax)) return detail::sincos_outside(x, false);
  detail::TrigArg a;
  detail::reduce_trig(ax, a);
  double hi, lo, approx;
  detail::eval_trig(a, (a.n & 1u) != 0, hi, lo, approx);
  const double eps = detail::kTrigErrRel * detail::abs_bits(approx) + detail::kTrigErrAbs;
  if (!detail::rounds_to_hi(hi, lo, eps)) return detail::sincos_slow(x, false);
  const uint64_t neg = static_cast<uint64_t>(a.n >> 1) << 63;  // n = 2, 3
  return detail::bits_as<double>(detail::bits_as<uint64_t>(hi) ^ sign ^ neg);
}

// cos x, correctly rounded.
inline double cos(double x) {
  const uint64_t xb = detail::bits_as<uint64_t>(x);
  const double ax = detail::bits_as<double>(xb & 0x7fffffffffffffffull);
  if (ax < 0x1p-27) return 1.0;  // the fast path covers 2^-27 <= |x| < 2^-26 too
  if (!(ax <= detail::kTrigFastMax)) return detail::sincos_outside(x, true);
  detail::TrigArg a;
  detail::reduce_trig(ax, a);
  double hi, lo, approx;
  detail::eval_trig(a, (a.n & 1u) == 0, hi, lo, approx);
  const double eps = detail::kTrigErrRel * detail::abs_bits(approx) + detail::kTrigErrAbs;
  if (!detail::rounds_to_hi(hi, lo, eps)) return detail::sincos_slow(x, true);
  const uint64_t neg = static_cast<uint64_t>((a.n ^ (a.n >> 1)) & 1u) << 63;  // n = 1, 2
  return detail::bits_as<double>(detail::bits_as<uint64_t>(hi) ^ neg);
}

// *s = sin x and *c = cos x, both correctly rounded, sharing the reduction.
inline void sincos(double x, double* s, double* c) {
  const uint64_t xb = detail::bits_as<uint64_t>(x);
  const uint64_t sign = xb & 0x8000000000000000ull;
  const double ax = detail::bits_as<double>(xb ^ sign);
  if (!(ax >= detail::kTrigTiny && ax <= detail::kTrigFastMax)) {
    *s = sin(x);
    *c = cos(x);
    return;
  }
  detail::TrigArg a;
  detail::reduce_trig(ax, a);
  const bool odd = (a.n & 1u) != 0;
  double s_hi, s_lo, s_approx, c_hi, c_lo, c_approx;
  detail::eval_trig(a, odd, s_hi, s_lo, s_approx);
  detail::eval_trig(a, !odd, c_hi, c_lo, c_approx);
  const double s_eps = detail::kTrigErrRel * detail::abs_bits(s_approx) + detail::kTrigErrAbs;
  const double c_eps = detail::kTrigErrRel * detail::abs_bits(c_approx) + detail::kTrigErrAbs;
  const uint64_t s_neg = static_cast<uint64_t>(a.n >> 1) << 63;
  const uint64_t c_neg = static_cast<uint64_t>((a.n ^ (a.n >> 1)) & 1u) << 63;
  *s = detail::rounds_to_hi(s_hi, s_lo, s_eps)
           ? detail::bits_as<double>(detail::bits_as<uint64_t>(s_hi) ^ sign ^ s_neg)
           : detail::sincos_slow(x, false);
  *c = detail::rounds_to_hi(c_hi, c_lo, c_eps)
           ? detail::bits_as<double>(detail::bits_as<uint64_t>(c_hi) ^ c_neg)
           : detail::sincos_slow(x, true);
}

}  // namespace edgerl::detmath
