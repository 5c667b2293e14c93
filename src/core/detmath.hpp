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

// e^x. Overflows to +inf, underflows through the subnormals to 0, NaN stays NaN.
template <class T>
inline T exp(T x) {
  using Tr = detail::Traits<T>;
  using I = typename Tr::I;
  const T xc = x < Tr::kExpLo ? Tr::kExpLo : (x > Tr::kExpHi ? Tr::kExpHi : x);
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

// Natural logarithm: log(0) = -inf, log(x < 0) = NaN, log(inf) = inf.
template <class T>
inline T log(T x) {
  using Tr = detail::Traits<T>;
  using U = typename Tr::U;
  using I = typename Tr::I;
  constexpr U kMantMask = (U(1) << Tr::kMantBits) - 1;
  constexpr U kOneBits = static_cast<U>(Tr::kBias) << Tr::kMantBits;
  constexpr T kMinNormal = std::numeric_limits<T>::min();
  const bool sub = x < kMinNormal;
  const T xs = sub ? x * Tr::kSubnormalScale : x;
  // x = 2^k * m with m in [sqrt(1/2), sqrt(2)).
  U u = detail::bits_as<U>(xs) + (kOneBits - Tr::kSqrtHalfBits);
  const I k = static_cast<I>(u >> Tr::kMantBits) - Tr::kBias - (sub ? Tr::kSubnormalExp : 0);
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
  constexpr T kInf = std::numeric_limits<T>::infinity();
  const T special =
      x == T(0) ? -kInf
                : (x < T(0) || x != x ? std::numeric_limits<T>::quiet_NaN() : x);  // x is +inf here
  return (x > T(0) && x < kInf) ? y : special;
}

// log(1 + x), accurate for small x: log(u) corrected by the rounding error of u = 1 + x.
template <class T>
inline T log1p(T x) {
  const T u = T(1) + x;
  const T c = (u - T(1)) - x;
  const T y = log(u) - c / u;
  constexpr T kInf = std::numeric_limits<T>::infinity();
  return (x == kInf || x == T(-1)) ? log(u) : y;
}

// softplus(x) = log(1 + e^x), without overflow.
template <class T>
inline T softplus(T x) {
  const T ax = x < T(0) ? -x : x;
  return (x > T(0) ? x : T(0)) + log1p(exp(-ax));
}

}  // namespace edgerl::detmath
