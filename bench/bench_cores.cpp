// How far apart the two cores a run uses are: the time for one cache line to go from one core
// to the other and back (two threads taking turns on one atomic counter). On a virtual
// machine it changes with where the host places the vCPUs (0.1 us when they share a cache,
// 0.6 us when they do not, on the Zen 5 guest of docs/benchmarks.md), and with it what two
// threads gain: SAC's side-by-side step passes ~10 small hand-overs and a few hundred cache
// lines between the cores every gradient step.
//
// And how fast each core is (machine/cores): a virtual machine's vCPUs need not be equally fast,
// and one may lose a quarter of its speed for minutes while the host runs something beside it (SAC
// alone on one vCPU: 1.40 s against 1.09 s on the other, session 27). Two threads wait for the
// slower.
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "edgerl/nn.hpp"

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

// Microseconds per forward and backward pass of a critic as SAC's on Pendulum trains it (4-64-64-1
// ReLU, batch 100: the row-sparse kernels that take most of a step), run for `seconds` on the
// calling thread. Mean, not best: a core the host slows for a while is slow for whole runs.
double critic_pass_us(double seconds) {
  constexpr size_t kBatch = 100;
  edgerl::Mlp net({4, 64, 64, 1}, edgerl::Activation::relu, 1.0);
  edgerl::Pcg64 rng(0);
  net.init(rng);
  net.reserve(kBatch);
  std::vector<float> x(kBatch * 4), y(kBatch), dy(kBatch);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : dy) v = static_cast<float>(0.01 * rng.normal());
  long passes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int r = 0; r < 100; ++r, ++passes) {
      net.forward(x.data(), kBatch, y.data());
      net.zero_grad();
      net.backward(dy.data(), kBatch, nullptr);
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  edgerl::bench::keep(net.grads()[0]);
  return elapsed * 1e6 / static_cast<double>(passes);
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
  std::vector<double> us;  // per core; 0 where this thread could not be moved
  for (int c : cpus) {
    double t = 0;
    std::thread probe([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(c, &one);
      if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0) t = critic_pass_us(0.3);
    });
    probe.join();
    us.push_back(t);
  }
  double fastest = 0;
  for (double t : us)
    if (t > 0 && (fastest == 0 || t < fastest)) fastest = t;
  for (size_t i = 0; i < cpus.size(); ++i)
    if (us[i] > 0)
      std::printf(
          "  cpu %d: %.2f us per forward+backward of a 4-64-64-1 ReLU critic at batch 100 "
          "(%.0f%% of the fastest core's speed)\n",
          cpus[i], us[i], 100.0 * fastest / us[i]);
    else
      std::printf("  cpu %d: cannot run there\n", cpus[i]);
}

}  // namespace

EDGERL_BENCHMARK("machine/round_trip", bench_round_trip);
EDGERL_BENCHMARK("machine/cores", bench_cores);
