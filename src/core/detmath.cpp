// detmath's slow path for sin and cos (see "sin and cos" in detmath.hpp): exact Payne-Hanek
// reduction and Taylor series in 256-bit fixed point, all in 32-bit-limb integer arithmetic
// (no __int128, so armhf computes exactly the same), then rounded to the nearest double.
#include "core/detmath.hpp"

#include <array>

namespace edgerl::detmath::detail {
namespace {

// An unsigned fixed-point number: value = sum limb[j] 2^(32 j) / 2^256 (limb 8 is the integer
// part), least significant limb first.
constexpr int kLimbs = 9;
constexpr int kFracLimbs = 8;
using Fixed = std::array<uint32_t, kLimbs>;

// a * b, truncated to 2^-256 (the true product is at most one unit above). Needs a * b < 2^32.
Fixed mul(const Fixed& a, const Fixed& b) {
  uint32_t prod[2 * kLimbs] = {};
  for (int i = 0; i < kLimbs; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < kLimbs; ++j) {
      const uint64_t t = static_cast<uint64_t>(a[i]) * b[j] + prod[i + j] + carry;
      prod[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    prod[i + kLimbs] = static_cast<uint32_t>(carry);
  }
  Fixed r;
  for (int j = 0; j < kLimbs; ++j) r[j] = prod[j + kFracLimbs];
  return r;
}

// a / d, truncated.
Fixed div_small(const Fixed& a, uint32_t d) {
  Fixed r;
  uint64_t rem = 0;
  for (int j = kLimbs - 1; j >= 0; --j) {
    const uint64_t cur = (rem << 32) | a[j];
    r[j] = static_cast<uint32_t>(cur / d);
    rem = cur % d;
  }
  return r;
}

Fixed add(const Fixed& a, const Fixed& b) {
  Fixed r;
  uint64_t carry = 0;
  for (int j = 0; j < kLimbs; ++j) {
    const uint64_t t = static_cast<uint64_t>(a[j]) + b[j] + carry;
    r[j] = static_cast<uint32_t>(t);
    carry = t >> 32;
  }
  return r;
}

Fixed sub(const Fixed& a, const Fixed& b) {  // a >= b
  Fixed r;
  uint64_t borrow = 0;
  for (int j = 0; j < kLimbs; ++j) {
    const uint64_t t = static_cast<uint64_t>(a[j]) - b[j] - borrow;
    r[j] = static_cast<uint32_t>(t);
    borrow = (t >> 32) & 1u;
  }
  return r;
}

bool is_zero(const Fixed& a) {
  for (uint32_t v : a)
    if (v != 0) return false;
  return true;
}

int bit(const Fixed& a, int i) {
  return static_cast<int>((a[i / 32] >> (i % 32)) & 1u);
}

// sin r (want_cos false) or cos r for 0 <= r <= pi/4 + 2^-30. Each term is the previous one
// times r^2 / (n (n+1)), so its error stays below 2 units; with r's own error (below 4 units,
// amplified at most 2x) the sum of ~30 terms is within 2^8 units of the true value.
Fixed sin_or_cos_series(const Fixed& r, bool want_cos) {
  const Fixed r2 = mul(r, r);
  Fixed term{};
  if (want_cos) {
    term[kFracLimbs] = 1;
  } else {
    term = r;
  }
  Fixed sum = term;
  for (uint32_t n = want_cos ? 1u : 2u, k = 1; !is_zero(term); n += 2, ++k) {
    term = div_small(mul(term, r2), n * (n + 1));
    sum = (k % 2 == 1) ? sub(sum, term) : add(sum, term);
  }
  return sum;
}

// The fixed-point value v (0 < v < 2, within kErrBits units of the true value) rounded to the
// nearest double; *decided is false when the true value could lie on the other side of a
// rounding boundary (never for a double argument, see detmath.hpp).
constexpr int kErrBits = 10;  // error bound 2^10 units, 4x the series' 2^8

double round_fixed(const Fixed& v, bool* decided) {
  int p = kLimbs * 32 - 1;
  while (p >= 0 && bit(v, p) == 0) --p;
  if (p < 0) {
    *decided = false;
    return 0.0;
  }
  // p >= 194 for every argument (|sin x| > 2^-62); 53 bits from p down, then the round bit.
  uint64_t mant = 0;
  for (int i = p; i > p - 53; --i) mant = (mant << 1) | static_cast<uint64_t>(bit(v, i));
  const int round_bit = bit(v, p - 53);
  // Undecided when the bits between the round bit and the error bound are all equal to the
  // complement of the round bit, i.e. v is within 2^kErrBits units of the half-way point.
  bool all_same = true;
  for (int i = p - 54; i >= kErrBits; --i)
    if (bit(v, i) == round_bit) {
      all_same = false;
      break;
    }
  *decided = !all_same;
  mant += static_cast<uint64_t>(round_bit);  // mant <= 2^53, exact as a double
  // v = mant * 2^(p - 52 - 256); p - 308 >= -114, so 2^(p-308) is a normal double.
  return static_cast<double>(mant) * pow2<double>(p - 52 - 256);
}

// Payne-Hanek: |x| * 2/pi = n + f exactly up to 2^-258, with n mod 4 and the 256-bit fraction
// f. x = m 2^e (m the 53-bit integer significand). The bits of 2/pi whose products with m
// 2^e are multiples of 4 (bit positions j <= e - 2) are skipped; those beyond bit e + 311
// contribute less than 2^(53 + e - (e + 312)) = 2^-259 and are dropped.
void reduce(double ax, uint32_t* quadrant, Fixed* frac) {
  const uint64_t b = bits_as<uint64_t>(ax);
  const uint64_t m = (b & 0x000fffffffffffffull) | 0x0010000000000000ull;
  const int e = static_cast<int>(b >> 52) - 1075;      // ax >= 2^-26 is normal
  const int fe = e >= 0 ? e / 32 : -((-e + 31) / 32);  // floor(e / 32)
  const int shift = e - 32 * fe;                       // 0 .. 31
  // m << shift as three limbs, so that the product's binary point falls on a limb boundary.
  const uint64_t lo = m << shift;
  const uint64_t hi = shift == 0 ? 0 : m >> (64 - shift);
  const uint32_t ms[3] = {static_cast<uint32_t>(lo), static_cast<uint32_t>(lo >> 32),
                          static_cast<uint32_t>(hi)};
  const int w0 = e >= 2 ? (e - 2) / 32 : 0;  // first table word used (bits 32 w0 + 1 ...)
  const int w1 = (e + 311 + 31) / 32;        // one past the last word; e + 311 > 0
  // The window of 2/pi as an integer, least significant limb first.
  uint32_t t[16] = {};
  const int nt = w1 - w0;
  for (int k = 0; k < nt; ++k) t[k] = kTwoOverPi[w1 - 1 - k];
  uint32_t prod[20] = {};
  for (int i = 0; i < 3; ++i) {
    uint64_t carry = 0;
    for (int k = 0; k < nt; ++k) {
      const uint64_t v = static_cast<uint64_t>(ms[i]) * t[k] + prod[i + k] + carry;
      prod[i + k] = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    prod[i + nt] = static_cast<uint32_t>(carry);
  }
  // |x| 2/pi = prod * 2^(e - 32 w1) (mod 4) = prod / 2^(32 nf): nf fraction limbs (>= 10).
  const int nf = w1 - fe;
  *quadrant = prod[nf] & 3u;
  Fixed f{};
  for (int j = 0; j < kFracLimbs; ++j) f[j] = prod[nf - kFracLimbs + j];
  *frac = f;
}

}  // namespace

namespace {

// |sin x| or |cos x| in fixed point (within 2^10 units), and its sign.
Fixed slow_value(double x, bool want_cos, bool* neg) {
  const uint64_t xb = bits_as<uint64_t>(x);
  const bool x_neg = (xb >> 63) != 0;
  const double ax = bits_as<double>(xb & 0x7fffffffffffffffull);
  uint32_t n;
  Fixed f;
  reduce(ax, &n, &f);
  // f in [1/2, 1): take f - 1 and the next quadrant, so that |r| <= pi/4.
  bool r_neg = false;
  if ((f[kFracLimbs - 1] >> 31) != 0) {
    Fixed one{};
    one[kFracLimbs] = 1;
    f = sub(one, f);
    n = (n + 1) & 3u;
    r_neg = true;
  }
  Fixed pio2;
  for (int j = 0; j < kLimbs; ++j) pio2[j] = kPio2Fixed[j];
  const Fixed r = mul(f, pio2);  // |r| = f pi/2 <= pi/4, within 3 units
  // sin |x| = [sin r, cos r, -sin r, -cos r][n], cos |x| = [cos r, -sin r, -cos r, sin r][n],
  // with sin r = -sin |r| when r_neg; sin x = -sin |x| for negative x.
  const bool series_cos = ((n & 1u) != 0) != want_cos;
  if (want_cos) {
    *neg = (((n ^ (n >> 1)) & 1u) != 0) != (!series_cos && r_neg);
  } else {
    *neg = ((((n >> 1) & 1u) != 0) != (!series_cos && r_neg)) != x_neg;
  }
  return sin_or_cos_series(r, series_cos);
}

}  // namespace

double sincos_slow_checked(double x, bool want_cos, bool* decided) {
  bool neg;
  const double v = round_fixed(slow_value(x, want_cos, &neg), decided);
  return neg ? -v : v;
}

double sincos_slow(double x, bool want_cos) {
  bool decided;
  return sincos_slow_checked(x, want_cos, &decided);
}

void sincos_slow_value(double x, bool want_cos, double out[3]) {
  bool neg;
  const Fixed v = slow_value(x, want_cos, &neg);
  int p = kLimbs * 32 - 1;
  while (p >= 0 && bit(v, p) == 0) --p;
  for (int part = 0; part < 3; ++part) {
    uint64_t mant = 0;
    for (int i = p; i > p - 53; --i)
      mant = (mant << 1) | static_cast<uint64_t>(i >= 0 ? bit(v, i) : 0);
    const double d = static_cast<double>(mant) * pow2<double>(p - 52 - 128) * 0x1p-128;
    out[part] = neg ? -d : d;
    p -= 53;
  }
}

double sincos_outside(double x, bool want_cos) {
  const uint64_t xb = bits_as<uint64_t>(x);
  const uint64_t ab = xb & 0x7fffffffffffffffull;
  if (ab > 0x7ff0000000000000ull) return bits_as<double>(xb | 0x0008000000000000ull);  // NaN
  if (ab == 0x7ff0000000000000ull) return std::numeric_limits<double>::quiet_NaN();    // inf
  return sincos_slow(x, want_cos);
}

}  // namespace edgerl::detmath::detail
