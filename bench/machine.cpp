#include "machine.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "bench.hpp"

namespace edgerl::bench {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBits = 512;
#elif defined(__AVX__)
constexpr int kVectorBits = 256;
#elif defined(__SSE2__) || defined(__ARM_NEON)
constexpr int kVectorBits = 128;
#else
constexpr int kVectorBits = 0;
#endif
#if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
constexpr bool kHasFma = true;
#else
constexpr bool kHasFma = false;
#endif

constexpr int kLanes = kVectorBits ? kVectorBits / 32 : 1;
// Read through volatiles so that the compiler cannot fold the peak loops away.
volatile float g_one = 1.0f, g_tiny = 1e-7f;
volatile long g_iterations = 20000;
typedef float Vec __attribute__((vector_size(kLanes * 4)));

std::string cpuinfo(const char* key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "";
}

// Best seconds of `runs` calls of fn (other processes share the cores).
template <class F>
double best_of(int runs, F fn) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const double t0 = now_seconds();
    fn();
    best = std::min(best, now_seconds() - t0);
  }
  return best;
}

// A chain of dependent 64-bit multiplies: 3 cycles each on every x86-64 core of the last
// decade, and never fused or eliminated (unlike a chain of add-immediates, which some cores run
// faster than one per cycle).
double imul_ghz() {
#if defined(__x86_64__)
  const long iterations = 100000;
  const double t = best_of(60, [&] {
    unsigned long x = 3, m = 0x9E3779B97F4A7C15ul;
    long n = iterations;
    asm volatile(
        "1:\n\t"
        "imul %2, %0\n\timul %2, %0\n\timul %2, %0\n\timul %2, %0\n\t"
        "imul %2, %0\n\timul %2, %0\n\timul %2, %0\n\timul %2, %0\n\t"
        "dec %1\n\tjnz 1b"
        : "+r"(x), "+r"(n)
        : "r"(m));
    keep(x);
  });
  return 3.0 * 8.0 * static_cast<double>(iterations) / t * 1e-9;
#else
  return 0.0;
#endif
}

// fp32 GFLOP/s of independent multiply chains beside independent add chains (one flop per lane
// per operation): the peak of code that keeps multiplies and adds apart, as edgerl's does.
__attribute__((noinline)) double mul_add_peak() {
  constexpr int kChains = kVectorBits >= 512 ? 8 : 6;
  const long iterations = g_iterations;
  Vec m, c;
  for (int i = 0; i < kLanes; ++i) m[i] = g_one, c[i] = g_tiny;
  const double t = best_of(30, [&] {
    Vec a[2 * kChains];
    for (int k = 0; k < 2 * kChains; ++k)
      for (int i = 0; i < kLanes; ++i) a[k][i] = 1.0f + 0.001f * static_cast<float>(k);
    for (long n = 0; n < iterations; ++n) {
      for (int k = 0; k < kChains; ++k) a[k] = a[k] * m;
      for (int k = kChains; k < 2 * kChains; ++k) a[k] = a[k] + c;
    }
    for (int k = 0; k < 2 * kChains; ++k) keep(a[k]);
  });
  return 2.0 * kChains * kLanes * static_cast<double>(iterations) / t * 1e-9;
}

// The same with fused multiply-adds (two flops per lane each).
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, optimize("fp-contract=fast")))
#else
__attribute__((noinline))
#endif
double
fma_peak() {
  constexpr int kChains = 10;
  const long iterations = g_iterations;
  Vec m, c;
  for (int i = 0; i < kLanes; ++i) m[i] = g_one, c[i] = g_tiny;
  const double t = best_of(30, [&] {
    Vec a[kChains];
    for (int k = 0; k < kChains; ++k)
      for (int i = 0; i < kLanes; ++i) a[k][i] = 1.0f + 0.001f * static_cast<float>(k);
    for (long n = 0; n < iterations; ++n) {
      for (int k = 0; k < kChains; ++k) a[k] = a[k] * m + c;
    }
    for (int k = 0; k < kChains; ++k) keep(a[k]);
  });
  return 2.0 * kChains * kLanes * static_cast<double>(iterations) / t * 1e-9;
}

Machine measure() {
  Machine m;
  m.cpu = cpuinfo("model name");
  if (m.cpu.empty()) m.cpu = "unknown CPU";
  m.vector_bits = kVectorBits;
#if defined(EDGERL_FMA)
  m.contracts = true;
#endif
  m.has_fma = kHasFma;
  m.ghz = imul_ghz();
  m.clock_source = "dependent imul chain";
  if (m.ghz <= 0) {
    const std::string mhz = cpuinfo("cpu MHz");
    m.ghz = mhz.empty() ? 0.0 : std::atof(mhz.c_str()) / 1000.0;
    m.clock_source = mhz.empty() ? "unknown" : "the OS's figure (/proc/cpuinfo)";
  }
  m.peak_gflops = mul_add_peak();
  m.peak_fma_gflops = kHasFma ? fma_peak() : 0.0;
  return m;
}

}  // namespace

const Machine& machine() {
  static const Machine m = measure();
  return m;
}

std::string describe(const Machine& m) {
  char buf[512];
  const char* width = m.vector_bits == 512   ? "AVX-512"
                      : m.vector_bits == 256 ? "AVX2"
                      : m.vector_bits == 128 ? "SSE2/NEON"
                                             : "scalar";
  char fma[64] = "no FMA instructions";
  if (m.has_fma) std::snprintf(fma, sizeof fma, "FMA peak %.1f GFLOP/s", m.peak_fma_gflops);
  std::snprintf(buf, sizeof buf,
                "%s; build: %s (%d-bit), %s; clock %.2f GHz (%s); one-core fp32 peak "
                "%.1f GFLOP/s with separate multiplies and adds (%.1f flop/cycle), %s",
                m.cpu.c_str(), width, m.vector_bits,
                m.contracts ? "FMA contraction on" : "no FMA contraction (-ffp-contract=off)",
                m.ghz, m.clock_source, m.peak_gflops, m.ghz > 0 ? m.peak_gflops / m.ghz : 0.0, fma);
  return buf;
}

}  // namespace edgerl::bench
