// Benchmarks of the neural core: the 4-64-64-2 tanh MLP that PPO on CartPole trains, at
// batch 1, 64 and 256, forward and forward+backward, in samples/s and GFLOP/s against the
// single-core fp32 peak this build can reach (bench/machine.hpp); plus an Adam step and a plain
// triple loop for comparison.
//
// FLOPs count 2 per multiply-add of the matrix products only (bias, activation and copies are
// not counted): forward 2 * sum(in*out); backward adds dW (2 * sum(in*out)) and dX for every
// layer but the first (the learners pass dx = nullptr for observations).
#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "machine.hpp"

namespace {

using edgerl::bench::keep;
using edgerl::bench::now_seconds;

// Seconds per call: the best of many short timed runs (other processes share the cores; the
// best run is the one they disturbed least).
template <class F>
double time_per_call(F fn) {
  for (int i = 0; i < 3; ++i) fn();  // warm-up: workspaces, caches
  long calls = 1;
  for (double t0 = now_seconds(); now_seconds() - t0 < 0.002; calls *= 2)
    for (long i = 0; i < calls; ++i) fn();
  double best = 1e30;
  for (int run = 0; run < 40; ++run) {
    const double t0 = now_seconds();
    for (long i = 0; i < calls; ++i) fn();
    best = std::min(best, (now_seconds() - t0) / static_cast<double>(calls));
  }
  return best;
}

void bench_mlp() {
  const double peak = edgerl::bench::machine().peak_gflops;

  edgerl::Mlp net({4, 64, 64, 2}, edgerl::Activation::tanh, 0.01);
  edgerl::Pcg64 rng(0);
  net.init(rng);
  double flop_fwd = 0.0, flop_bwd = 0.0;
  for (size_t l = 0; l < net.layers().size(); ++l) {
    const auto& layer = net.layers()[l];
    const double mac = static_cast<double>(layer.in * layer.out);
    flop_fwd += 2 * mac;
    flop_bwd += 2 * mac + (l > 0 ? 2 * mac : 0.0);
  }
  const size_t max_batch = 256;
  std::vector<float> x(max_batch * 4), y(max_batch * 2), dy(max_batch * 2);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : dy) v = static_cast<float>(0.01 * rng.normal());
  net.reserve(max_batch);

  std::printf("4-64-64-2 tanh MLP, %zu params; %.0f flop/sample forward, %.0f forward+backward\n",
              net.num_params(), flop_fwd, flop_fwd + flop_bwd);
  std::printf("%-9s %6s %11s %14s %9s %8s\n", "pass", "batch", "us/call", "samples/s", "GFLOP/s",
              "% peak");
  for (size_t batch : {size_t(1), size_t(64), size_t(256)}) {
    const double fwd = time_per_call([&] {
      net.forward(x.data(), batch, y.data());
      keep(y[0]);
    });
    const double both = time_per_call([&] {
      net.forward(x.data(), batch, y.data());
      net.backward(dy.data(), batch, nullptr);
      keep(net.grads()[0]);
    });
    const struct {
      const char* name;
      double seconds, flop;
    } rows[2] = {{"forward", fwd, flop_fwd}, {"fwd+bwd", both, flop_fwd + flop_bwd}};
    for (const auto& r : rows) {
      const double gflops = r.flop * static_cast<double>(batch) / r.seconds * 1e-9;
      std::printf("%-9s %6zu %11.2f %14.0f %9.2f %7.1f%%\n", r.name, batch, r.seconds * 1e6,
                  static_cast<double>(batch) / r.seconds, gflops, 100.0 * gflops / peak);
    }
  }
}

void bench_adam() {
  edgerl::Mlp net({4, 64, 64, 2}, edgerl::Activation::tanh, 0.01);
  edgerl::Pcg64 rng(0);
  net.init(rng);
  for (size_t i = 0; i < net.num_params(); ++i) net.grads()[i] = static_cast<float>(rng.normal());
  edgerl::Adam adam(net.num_params(), edgerl::AdamOptions{});
  const double t = time_per_call([&] {
    edgerl::clip_grad_norm(net.grads(), net.num_params(), 0.5);
    adam.step(net.params(), net.grads());
  });
  std::printf("clip_grad_norm + Adam step, %zu params: %.2f us\n", net.num_params(), t * 1e6);
}

// The baseline: C[256][64] = A[256][64] * B[64][64] as a plain i-j-k loop.
void bench_plain_loop() {
  const size_t m = 256, k = 64, n = 64;
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
  const double t = time_per_call([&] {
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (size_t p = 0; p < k; ++p) acc += a[i * k + p] * b[p * n + j];
        c[i * n + j] = acc;
      }
    keep(c[0]);
  });
  std::printf("plain triple loop 256x64 * 64x64: %.2f GFLOP/s\n", 2.0 * m * k * n / t * 1e-9);
}

}  // namespace

EDGERL_BENCHMARK("nn/mlp_4_64_64_2", bench_mlp);
EDGERL_BENCHMARK("nn/adam_step", bench_adam);
EDGERL_BENCHMARK("nn/plain_triple_loop", bench_plain_loop);
