// One-off check that detmath::sin, cos and sincos are correctly rounded, against libquadmath
// (GCC's, x86-64: sincosq is accurate to about 1 ulp of its 113-bit significand, 2^-112
// relative, far finer than the 2^-53 of a double). Not part of the library or of its tests:
//
//   g++ -std=gnu++17 -O2 -ffp-contract=off -Isrc tools/check_detmath_trig.cpp src/core/detmath.cpp
//   \
//       -lquadmath -o /tmp/check_detmath_trig
//   /tmp/check_detmath_trig [inputs per range, default 1250000] [--emit
//   tests/detmath_trig_cases.inc]
//
// For every input x it rounds sinq(x) and cosq(x) to double; when the quad value lies within
// 2^-104 |y| of a double half-way point (sincosq's error times 2^8) the reference counts as
// undecided and the input is skipped (never happens in practice). It then counts how often
// detmath's sin, cos and sincos, glibc's sin and cos, and detmath's slow path alone (on a
// subset) differ from the reference, and how often detmath's fast path could not decide and
// fell back to the slow path. --emit writes the regression cases of tests/test_detmath_trig.cpp:
// inputs where the fast path fell back, where glibc is not correctly rounded, and special and
// boundary values, each with its correctly rounded sin and cos.
#include <quadmath.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/detmath.hpp"

namespace dm = edgerl::detmath;
namespace dd = edgerl::detmath::detail;

namespace {

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

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b);
}

// The correctly rounded double of the quad value q (error below 2^-112 |q|); false if undecided.
bool round_ref(__float128 q, double* out) {
  if (isnanq(q)) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const __float128 eps = fabsq(q) * 0x1p-104Q;
  const double lo = static_cast<double>(q - eps), hi = static_cast<double>(q + eps);
  *out = static_cast<double>(q);
  return lo == hi;  // (== so that the signs of a zero q +- 0 do not matter)
}

// Whether the fast path (as sin and cos in detmath.hpp) decides x's sin (want_cos false) or cos.
bool fast_decides(double x, bool want_cos) {
  const double ax = std::fabs(x);
  if (!(ax >= dd::kTrigTiny && ax <= dd::kTrigFastMax)) return true;  // not the fast path
  dd::TrigArg a;
  dd::reduce_trig(ax, a);
  double hi, lo, approx;
  const bool odd = (a.n & 1u) != 0;
  dd::eval_trig(a, want_cos ? !odd : odd, hi, lo, approx);
  const double eps = dd::kTrigErrRel * dd::abs_bits(approx) + dd::kTrigErrAbs;
  return dd::rounds_to_hi(hi, lo, eps);
}

struct Counts {
  long n = 0, undecided_ref = 0, fallback_sin = 0, fallback_cos = 0;
  long bad_sin = 0, bad_cos = 0, bad_sincos = 0, glibc_sin_wrong = 0, glibc_cos_wrong = 0;
  long glibc_vs_detmath = 0, slow_checked = 0, slow_bad = 0, slow_undecided = 0;
  long kept_fallback = 0, kept_glibc = 0;
};

struct Case {
  double x, s, c;
};

std::vector<Case> g_cases;
std::set<uint64_t> g_case_x;

void add_case(double x, double s, double c) {
  if (g_case_x.insert(bits(x)).second) g_cases.push_back({x, s, c});
}

void check(double x, Counts& k, bool slow_too, bool keep) {
  __float128 qs, qc;
  sincosq(static_cast<__float128>(x), &qs, &qc);
  double rs, rc;
  if (!round_ref(qs, &rs) || !round_ref(qc, &rc)) {
    ++k.undecided_ref;
    std::printf("  reference undecided at x = %a\n", x);
    return;
  }
  ++k.n;
  const double ds = dm::sin(x), dc = dm::cos(x);
  double ss, sc;
  dm::sincos(x, &ss, &sc);
  const bool fs = fast_decides(x, false), fc = fast_decides(x, true);
  if (!fs) ++k.fallback_sin;
  if (!fc) ++k.fallback_cos;
  if (!same(ds, rs)) {
    if (++k.bad_sin <= 20) std::printf("  WRONG sin(%a) = %a, want %a\n", x, ds, rs);
  }
  if (!same(dc, rc)) {
    if (++k.bad_cos <= 20) std::printf("  WRONG cos(%a) = %a, want %a\n", x, dc, rc);
  }
  if (!same(ss, rs) || !same(sc, rc)) ++k.bad_sincos;
  const double gs = std::sin(x), gc = std::cos(x);
  const bool gs_wrong = !same(gs, rs), gc_wrong = !same(gc, rc);
  k.glibc_sin_wrong += gs_wrong;
  k.glibc_cos_wrong += gc_wrong;
  k.glibc_vs_detmath += !same(gs, ds) + !same(gc, dc);
  if (slow_too && std::isfinite(x) && std::fabs(x) >= dd::kTrigTiny) {
    for (int want_cos = 0; want_cos < 2; ++want_cos) {
      bool decided = false;
      const double v = dd::sincos_slow_checked(x, want_cos != 0, &decided);
      ++k.slow_checked;
      if (!decided) ++k.slow_undecided;
      if (!same(v, want_cos ? rc : rs)) ++k.slow_bad;
    }
  }
  // At most 400 fallback and 250 other cases per range, so that the test stays small.
  if (keep && (!fs || !fc) && k.kept_fallback < 400) {
    ++k.kept_fallback;
    add_case(x, rs, rc);
  } else if (keep && (gs_wrong || gc_wrong) && k.kept_glibc < 250) {
    ++k.kept_glibc;
    add_case(x, rs, rc);
  }
}

void report(const char* name, const Counts& k) {
  std::printf(
      "%-34s n=%ld ref-undecided=%ld | detmath wrong: sin %ld cos %ld sincos %ld | "
      "fast-path fallbacks: sin %ld cos %ld | glibc wrong: sin %ld cos %ld | glibc != detmath %ld "
      "| slow path alone: %ld checked, %ld wrong, %ld undecided\n",
      name, k.n, k.undecided_ref, k.bad_sin, k.bad_cos, k.bad_sincos, k.fallback_sin,
      k.fallback_cos, k.glibc_sin_wrong, k.glibc_cos_wrong, k.glibc_vs_detmath, k.slow_checked,
      k.slow_bad, k.slow_undecided);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  long per_range = 1250000;
  const char* emit = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--emit") == 0 && i + 1 < argc) {
      emit = argv[++i];
    } else {
      per_range = std::atol(argv[i]);
    }
  }
  std::mt19937_64 rng(20240613);
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1p-53);
  };
  auto signed_ = [&](double v) { return (rng() & 1) ? -v : v; };
  struct Range {
    const char* name;
    std::function<double()> draw;
  };
  const Range ranges[] = {
      {"|x| < pi/4 uniform", [&] { return uniform(-M_PI / 4, M_PI / 4); }},
      {"2^-30 < |x| < 1 log-uniform", [&] { return signed_(std::exp2(uniform(-30, 0))); }},
      {"|x| < 100 uniform", [&] { return uniform(-100, 100); }},
      {"|x| < 1e6 uniform", [&] { return uniform(-1e6, 1e6); }},
      {"2^19 < |x| < 2^40 log-uniform", [&] { return signed_(std::exp2(uniform(19, 40))); }},
      {"huge: random finite bit patterns",
       [&] {
         for (;;) {
           const double v = from_bits(rng());
           if (std::isfinite(v)) return v;
         }
       }},
      {"subnormal and tiny (< 2^-26)",
       [&] {
         return (rng() & 1) ? from_bits(rng() & 0x800fffffffffffffull)
                            : signed_(std::exp2(uniform(-1074, -26)));
       }},
      {"near multiples of pi/2 (k < 2^24)",
       [&] {
         const double k = static_cast<double>(rng() % (1u << 24) + 1);
         const double v = static_cast<double>(k * M_PIq / 2);
         const uint64_t b = bits(v) + (rng() % 9) - 4;  // the nearest double and 4 either side
         return signed_(from_bits(b));
       }},
  };
  Counts total;
  for (const Range& r : ranges) {
    Counts k;
    for (long i = 0; i < per_range; ++i) check(r.draw(), k, i < per_range / 50, true);
    report(r.name, k);
    total.n += k.n;
    total.undecided_ref += k.undecided_ref;
    total.bad_sin += k.bad_sin;
    total.bad_cos += k.bad_cos;
    total.bad_sincos += k.bad_sincos;
    total.fallback_sin += k.fallback_sin;
    total.fallback_cos += k.fallback_cos;
    total.glibc_sin_wrong += k.glibc_sin_wrong;
    total.glibc_cos_wrong += k.glibc_cos_wrong;
    total.glibc_vs_detmath += k.glibc_vs_detmath;
    total.slow_checked += k.slow_checked;
    total.slow_bad += k.slow_bad;
    total.slow_undecided += k.slow_undecided;
  }
  // Special and boundary values.
  Counts k;
  std::vector<double> specials = {0.0,
                                  1.0,
                                  M_PI / 4,
                                  M_PI / 2,
                                  M_PI,
                                  2 * M_PI,
                                  0x1p-26,
                                  0x1p-27,
                                  0x1p20,
                                  std::numeric_limits<double>::min(),
                                  std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::max(),
                                  6381956970095103.0 * std::ldexp(1.0, 797),  // closest to k pi/2
                                  std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::quiet_NaN()};
  for (double base : {0x1p-27, 0x1p-26, 0x1p20, M_PI / 4, M_PI / 2, M_PI}) {
    for (int d = -3; d <= 3; ++d) specials.push_back(from_bits(bits(base) + d));
  }
  for (double v : std::vector<double>(specials)) {
    for (double s : {v, -v}) {
      check(s, k, true, false);
      if (!std::isnan(s)) {
        __float128 qs, qc;
        sincosq(static_cast<__float128>(s), &qs, &qc);
        double rs, rc;
        round_ref(qs, &rs);
        round_ref(qc, &rc);
        add_case(s, rs, rc);
      }
    }
  }
  report("specials and boundaries", k);
  std::printf(
      "TOTAL: %ld inputs, detmath wrong: sin %ld cos %ld sincos %ld (slow path alone %ld of "
      "%ld), glibc wrong: sin %ld cos %ld, glibc != detmath: %ld, reference undecided: %ld, "
      "fast-path fallbacks: sin %ld cos %ld\n",
      total.n + k.n, total.bad_sin + k.bad_sin, total.bad_cos + k.bad_cos,
      total.bad_sincos + k.bad_sincos, total.slow_bad + k.slow_bad,
      total.slow_checked + k.slow_checked, total.glibc_sin_wrong + k.glibc_sin_wrong,
      total.glibc_cos_wrong + k.glibc_cos_wrong, total.glibc_vs_detmath + k.glibc_vs_detmath,
      total.undecided_ref + k.undecided_ref, total.fallback_sin, total.fallback_cos);
  if (emit) {
    FILE* f = std::fopen(emit, "w");
    if (!f) return 2;
    std::fprintf(
        f,
        "// Generated by tools/check_detmath_trig.cpp (--emit) from libquadmath's sincosq. "
        "Do not edit.\n// {x, sin x, cos x} correctly rounded: inputs where detmath's fast "
        "path falls back to the\n// slow path, where glibc is not correctly rounded, and "
        "special and boundary values.\n");
    for (const Case& c : g_cases)
      std::fprintf(f, "{0x%016" PRIx64 "u, 0x%016" PRIx64 "u, 0x%016" PRIx64 "u},\n", bits(c.x),
                   bits(c.s), bits(c.c));
    std::fclose(f);
    std::printf("wrote %zu cases to %s\n", g_cases.size(), emit);
  }
  const bool ok = total.bad_sin + total.bad_cos + total.bad_sincos + total.slow_bad + k.bad_sin +
                      k.bad_cos + k.bad_sincos + k.slow_bad ==
                  0;
  std::printf("%s\n", ok ? "OK: every result correctly rounded" : "FAILED");
  return ok ? 0 : 1;
}
