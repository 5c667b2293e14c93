// bench/machine: what the benchmarks run on, measured rather than assumed: the vector width and
// FMA use of this build, the core's clock under load, and the fp32 peaks this build can reach
// on one core (measured with independent multiply and add chains, and fused multiply-adds
// where the target has them). Figures are reported as a percentage of these peaks.
#pragma once

#include <string>

namespace edgerl::bench {

struct Machine {
  std::string cpu;         // /proc/cpuinfo's model name
  int vector_bits = 0;     // widest SIMD of this build: 512, 256, 128 (0: scalar)
  bool contracts = false;  // whether this build fuses a*b+c (no: -ffp-contract=off)
  bool has_fma = false;    // whether this build's target has FMA instructions
  double ghz = 0;          // measured clock under load (0 when it cannot be measured)
  const char* clock_source = "";
  double peak_gflops = 0;      // separate multiplies and adds: what edgerl's kernels can reach
  double peak_fma_gflops = 0;  // fused multiply-adds (0 without FMA): what an FMA=1 build could
};

// Measured once, on first use.
const Machine& machine();
// "AMD EPYC, AVX-512 (512-bit), no FMA contraction, 3.69 GHz (dependent imul chain), peak
// 118 GFLOP/s (FMA 118)".
std::string describe(const Machine& m);

}  // namespace edgerl::bench
