// How far apart the two cores a run uses are: the time for one cache line to go from one core
// to the other and back (two threads taking turns on one atomic counter). On a virtual
// machine it changes with where the host places the vCPUs (0.1 us when they share a cache,
// 0.6 us when they do not, on the Zen 5 guest of docs/benchmarks.md), and with it what two
// threads gain: SAC's side-by-side step passes ~10 small hand-overs and a few hundred cache
// lines between the cores every gradient step.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

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

}  // namespace

EDGERL_BENCHMARK("machine/round_trip", bench_round_trip);
