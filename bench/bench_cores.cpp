// How far apart the two cores a run uses are: the time for one cache line to go from one core
// to the other and back (two threads taking turns on one atomic counter). On a virtual
// machine it changes with where the host places the vCPUs (0.1 us when they share a cache,
// 0.6 us when they do not, on the Zen 5 guest of docs/benchmarks.md), and with it what two
// threads gain: SAC's side-by-side step passes ~10 small hand-overs and a few hundred cache
// lines between the cores every gradient step.
//
// And how fast each core is: a virtual machine's vCPUs need not be equally fast, and one may
// lose a quarter of its speed for minutes while the host runs something beside it (SAC alone
// on one vCPU: 1.40 s against 1.09 s on the other, session 27). Two threads wait for the slower.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace {

// Nanoseconds per round trip, best of 5 batches of `trips`.
double round_trip_ns(long trips) {
  alignas(64) std::atomic<long> ping{0};
  alignas(64) std::atomic<long> pong{0};
  double best = 1e30;
  long base = 0;
  for (int batch = 0; batch < 5; ++batch, base += trips) {
    std::thread other([&] {
      for (long i = base + 1; i <= base + trips; ++i) {
        while (ping.load(std::memory_order_acquire) != i) {
        }
        pong.store(i, std::memory_order_release);
      }
    });
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = base + 1; i <= base + trips; ++i) {
      ping.store(i, std::memory_order_release);
      while (pong.load(std::memory_order_acquire) != i) {
      }
    }
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    other.join();
    if (ns / static_cast<double>(trips) < best) best = ns / static_cast<double>(trips);
  }
  return best;
}

void bench_round_trip() {
  if (std::thread::hardware_concurrency() < 2) {
    std::printf("  one core: nothing to measure\n");
    return;
  }
  std::printf("  cache-line round trip between two threads: %.0f ns\n", round_trip_ns(20000));
}

// Multiply-adds per nanosecond of the MLP kernels' inner loop (a row of 64 floats of a 16 KB
// matrix, picked by a bit mask, times a scalar, added to 64 sums: loads, multiplies and adds
// as in docs/nn.md's row-sparse products), run for `seconds` on the calling thread. Mean, not
// best: a core that the host slows for a while is slow for whole runs.
double kernel_rate(double seconds) {
  constexpr int kK = 64, kN = 64;
  std::vector<float> b(kK * kN), a(kK), c(kN, 0.0f);
  for (int i = 0; i < kK * kN; ++i) b[static_cast<size_t>(i)] = 1e-3f * static_cast<float>(i % 97);
  for (int k = 0; k < kK; ++k) a[static_cast<size_t>(k)] = k % 3 == 0 ? 0.0f : 1e-3f;
  uint64_t mask = 0;
  for (int k = 0; k < kK; ++k)
    if (a[static_cast<size_t>(k)] != 0.0f) mask |= uint64_t{1} << k;
  const int nonzeros = __builtin_popcountll(mask);
  long rows = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int r = 0; r < 1000; ++r, ++rows) {
      float acc[kN] = {};
      for (uint64_t m = mask; m != 0; m &= m - 1) {
        const int k = __builtin_ctzll(m);
        const float s = a[static_cast<size_t>(k)];
        const float* bk = &b[static_cast<size_t>(k * kN)];
        for (int n = 0; n < kN; ++n) acc[n] += s * bk[n];
      }
      for (int n = 0; n < kN; ++n) c[static_cast<size_t>(n)] += acc[n];
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  edgerl::bench::keep(c);
  return static_cast<double>(rows) * nonzeros * kN / (elapsed * 1e9);
}

void bench_cores() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    std::printf("  cannot read this process's cores\n");
    return;
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  std::vector<double> rate;
  for (int c : cpus) {
    double r = 0;
    std::thread t([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(c, &one);
      r = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? kernel_rate(0.2) : 0;
    });
    t.join();
    rate.push_back(r);
  }
  const double fastest = *std::max_element(rate.begin(), rate.end());
  for (size_t i = 0; i < cpus.size(); ++i)
    std::printf(
        "  cpu %d: %.1f G multiply-adds/s in the MLP kernels' inner loop (%.0f%% of the fastest)\n",
        cpus[i], rate[i], fastest > 0 ? 100.0 * rate[i] / fastest : 0.0);
}

}  // namespace

EDGERL_BENCHMARK("machine/round_trip", bench_round_trip);
EDGERL_BENCHMARK("machine/cores", bench_cores);
