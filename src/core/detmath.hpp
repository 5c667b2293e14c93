// detmath: exp, log, log1p, softplus and tanh for float and double, written with IEEE-754
// basic operations (+ - * /) and bit manipulation only, so they give the same bits on every
// CPU, compiler and C library. libm's versions do not: glibc picks an FMA code path at run
// time by CPU, and other libcs use other polynomials. The network and the distribution heads
// use these functions exclusively.
//
// Every function is branch-free on its main path (special cases are selected at the end), so
// a loop over them vectorises; vectorisation never changes the bits because each lane performs
// the same operations in the same order. Accuracy: within 2 ulp of the correctly rounded result
// over the whole range (tests/test_nn.cpp checks it against long-double libm).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

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

// tanh(x) = sign(x) * E / (E + 2) with E = expm1(2|x|): no cancellation near 0. The clamp
// and the NaN case are integer masks rather than selects: a select lets the compiler split
// off the constant |x| > 20 path as a branch, which stops SSE2 builds from vectorising.
template <class T>
inline T tanh(T x) {
  using Tr = detail::Traits<T>;
  using U = typename Tr::U;
  using I = typename Tr::I;
  constexpr U kSign = U(1) << (sizeof(T) * 8 - 1);
  constexpr U kInfBits = ((U(1) << (sizeof(T) * 8 - 1 - Tr::kMantBits)) - 1) << Tr::kMantBits;
  const U xb = detail::bits_as<U>(x);
  const U ab = xb & ~kSign;
  const U clamp_bits = detail::bits_as<U>(Tr::kTanhClamp);
  const U over = U(0) - static_cast<U>(ab > clamp_bits);  // all ones for |x| > 20 (or NaN)
  const T a = detail::bits_as<T>(static_cast<U>((ab & ~over) | (clamp_bits & over)));
  I n;
  const T r = detail::reduce_ln2(a + a, n);
  const T em1 = r + detail::expm1_tail(r);  // expm1(r)
  const T s = detail::pow2<T>(n);           // n <= 58: 2^n and 2^n - 1 are exact enough
  const T e = s * em1 + (s - T(1));         // expm1(2|x|)
  const U tb = detail::bits_as<U>(e / (e + T(2))) | (xb & kSign);
  const U nan = U(0) - static_cast<U>(ab > kInfBits);
  return detail::bits_as<T>(static_cast<U>((tb & ~nan) | (xb & nan)));
}

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

}  // namespace edgerl::detmath
