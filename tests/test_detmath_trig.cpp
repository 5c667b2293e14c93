// detmath::sin, cos and sincos: correctly rounded on the hard cases that
// tools/check_detmath_trig.cpp found and verified against libquadmath (it checks 10^7 random
// arguments; this keeps the cases that matter), the slow path alone, special values, symmetry,
// sincos against sin and cos, and long double where it has 64 bits.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ios>
#include <limits>

#include "core/detmath.hpp"
#include "edgerl/rng.hpp"

namespace dm = edgerl::detmath;
namespace dd = edgerl::detmath::detail;

namespace {

struct TrigCase {
  uint64_t x, sin, cos;
};

// {x, sin x, cos x}: arguments where the fast path cannot decide the rounding and falls back
// to the slow path, where glibc (x86-64, FMA) is not correctly rounded, and boundary values.
constexpr TrigCase kCases[] = {
#include "detmath_trig_cases.inc"
};

uint64_t bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}

double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, 8);
  return x;
}

// Arguments over the ranges the environments and the slow path see.
double draw(edgerl::Pcg64& rng, int range) {
  switch (range) {
    case 0:
      return rng.uniform(-M_PI / 4, M_PI / 4);
    case 1:
      return rng.uniform(-100.0, 100.0);
    case 2:
      return rng.uniform(-2e6, 2e6);  // past the fast path's 2^20
    case 3:
      return std::ldexp(rng.uniform(-1.0, 1.0), static_cast<int>(rng.below(60)) - 30);
    default: {
      for (;;) {  // any finite double, huge ones included
        const double v = from_bits(rng.next_u64());
        if (std::isfinite(v)) return v;
      }
    }
  }
}

}  // namespace

TEST_CASE("detmath sin and cos are correctly rounded on the hard cases") {
  REQUIRE(sizeof(kCases) / sizeof(kCases[0]) > 2000);
  int slow = 0;
  for (const TrigCase& c : kCases) {
    const double x = from_bits(c.x);
    INFO("x = " << std::hexfloat << x);
    double s, co;
    dm::sincos(x, &s, &co);
    if (!std::isfinite(x)) {  // inf: NaN
      CHECK(std::isnan(dm::sin(x)));
      CHECK(std::isnan(dm::cos(x)));
      CHECK(std::isnan(s));
      CHECK(std::isnan(co));
      continue;
    }
    CHECK(bits(dm::sin(x)) == c.sin);
    CHECK(bits(dm::cos(x)) == c.cos);
    CHECK(bits(s) == c.sin);
    CHECK(bits(co) == c.cos);
    // The slow path alone decides and agrees.
    if (std::fabs(x) >= dd::kTrigTiny) {
      ++slow;
      bool decided_s = false, decided_c = false;
      CHECK(bits(dd::sincos_slow_checked(x, false, &decided_s)) == c.sin);
      CHECK(bits(dd::sincos_slow_checked(x, true, &decided_c)) == c.cos);
      CHECK(decided_s);
      CHECK(decided_c);
    }
  }
  CHECK(slow > 2000);
}

TEST_CASE("detmath sin and cos of special values") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(bits(dm::sin(0.0)) == bits(0.0));
  CHECK(bits(dm::sin(-0.0)) == bits(-0.0));
  CHECK(dm::cos(0.0) == 1.0);
  CHECK(dm::cos(-0.0) == 1.0);
  for (double v : {inf, -inf, nan, -nan}) {
    CHECK(std::isnan(dm::sin(v)));
    CHECK(std::isnan(dm::cos(v)));
    double s, c;
    dm::sincos(v, &s, &c);
    CHECK(std::isnan(s));
    CHECK(std::isnan(c));
  }
  const double tiny[] = {std::numeric_limits<double>::denorm_min(), 0x1.8p-1060,
                         std::numeric_limits<double>::min(), 0x1.fffffffffffffp-27};
  for (double v : tiny) {
    CHECK(dm::sin(v) == v);
    CHECK(dm::sin(-v) == -v);
  }
  // cos x rounds to 1 while x^2/2 < 2^-54 (half an ulp below 1), then to 1 - 2^-53.
  CHECK(dm::cos(0x1.fffffffffffffp-28) == 1.0);
  CHECK(dm::cos(0x1.6a09e667f3bccp-27) == 1.0);
  CHECK(dm::cos(0x1.fffffffffffffp-27) == 1.0 - 0x1p-53);
  // The largest double and the double closest to a multiple of pi/2 (Kahan, McDonald).
  // (Values from libquadmath.)
  const double big = std::numeric_limits<double>::max();
  CHECK(bits(dm::sin(big)) == 0x3f7452fc98b34e97u);
  CHECK(bits(dm::cos(big)) == 0xbfefffe62ecfab75u);
  const double near_odd_pio2 = 6381956970095103.0 * std::ldexp(1.0, 797);
  CHECK(dm::sin(near_odd_pio2) == 1.0);
  CHECK(bits(dm::cos(near_odd_pio2)) == 0xbc214ae72e6ba22fu);  // -4.7e-19
}

TEST_CASE("detmath sincos equals sin and cos; sin is odd and cos even") {
  edgerl::Pcg64 rng(13);
  for (int range = 0; range < 5; ++range) {
    for (int i = 0; i < 20000; ++i) {
      const double x = draw(rng, range);
      double s, c;
      dm::sincos(x, &s, &c);
      const double sx = dm::sin(x), cx = dm::cos(x);
      INFO("x = " << std::hexfloat << x);
      REQUIRE(bits(s) == bits(sx));
      REQUIRE(bits(c) == bits(cx));
      REQUIRE(bits(dm::sin(-x)) == bits(-sx));
      REQUIRE(bits(dm::cos(-x)) == bits(cx));
      REQUIRE(std::fabs(sx) <= 1.0);
      REQUIRE(std::fabs(cx) <= 1.0);
    }
  }
}

TEST_CASE("detmath fast path agrees with the slow path and with 64-bit long double") {
  edgerl::Pcg64 rng(17);
  const bool long_double_64 = std::numeric_limits<long double>::digits >= 64;
  int compared = 0;
  for (int range = 0; range < 5; ++range) {
    for (int i = 0; i < 4000; ++i) {
      const double x = draw(rng, range);
      if (std::fabs(x) < dd::kTrigTiny) continue;
      INFO("x = " << std::hexfloat << x);
      REQUIRE(bits(dm::sin(x)) == bits(dd::sincos_slow(x, false)));
      REQUIRE(bits(dm::cos(x)) == bits(dd::sincos_slow(x, true)));
      if (!long_double_64 || std::fabs(x) > 1e6) continue;  // sinl's reduction loses bits there
      // sinl is within about an ulp of 2^-64: where that cannot straddle a rounding boundary of
      // the double, it decides.
      for (int want_cos = 0; want_cos < 2; ++want_cos) {
        const long double y = want_cos ? cosl(x) : sinl(x);
        const long double eps = fabsl(y) * 0x1p-60L;
        const double lo = static_cast<double>(y - eps), hi = static_cast<double>(y + eps);
        if (lo != hi) continue;
        ++compared;
        REQUIRE(bits(want_cos ? dm::cos(x) : dm::sin(x)) == bits(lo));
      }
    }
  }
  if (long_double_64) CHECK(compared > 20000);
}
