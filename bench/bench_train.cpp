// Whole-run benchmarks: PPO on CartPole-v1 with the default config, timed end to end
// (rollouts, updates, every evaluation), with the network FLOPs that work implies; and what
// checkpointing and logging at every evaluation add to the wall time.
//
// FLOPs count 2 per multiply-add of the matrix products (as bench_nn): a forward pass costs
// 2 * W flops for a network with W weights, a backward pass about 4 * W (dW, and dX for every
// layer but the first).

#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "edgerl/config.hpp"
#include "edgerl/train.hpp"
#include "machine.hpp"
#include "runs.hpp"

namespace {

using edgerl::Config;
using edgerl::TrainSummary;
using edgerl::bench::best_of;
using edgerl::bench::int_list;
using edgerl::bench::quiet;

// Multiply-adds of the first layer (its input gradient is never computed: dx = nullptr).
double first_layer(size_t in, const std::vector<int64_t>& hidden, size_t out) {
  return static_cast<double>(in) * static_cast<double>(hidden.empty() ? out : hidden[0]);
}

double weights(size_t in, const std::vector<int64_t>& hidden, size_t out) {
  double w = 0;
  size_t prev = in;
  for (int64_t h : hidden) w += static_cast<double>(prev) * h, prev = static_cast<size_t>(h);
  return w + static_cast<double>(prev) * out;
}

void bench_ppo_cartpole() {
  const Config cfg = edgerl::default_config();
  const TrainSummary s = best_of(3, cfg, quiet());
  const double epochs = std::stod(edgerl::config_value(cfg, "system.epochs"));
  const auto actor_hidden =
      int_list(edgerl::config_value(cfg, "network.actor_network.layer_sizes"));
  const auto critic_hidden =
      int_list(edgerl::config_value(cfg, "network.critic_network.layer_sizes"));
  const double actor = weights(4, actor_hidden, 2), critic = weights(4, critic_hidden, 1);
  // Forward 2 flop per multiply-add; backward 2 for dW and 2 for dX, but no dX at layer 1.
  const double first = first_layer(4, actor_hidden, 2) + first_layer(4, critic_hidden, 1);
  const double steps = static_cast<double>(s.timesteps);
  const double rollout = steps * 2 * (actor + critic);
  const double training = steps * epochs * (6 * (actor + critic) - 2 * first);
  // Evaluation: greedy actor forwards, one per evaluation env step (500 steps per episode
  // once solved; an upper bound before).
  const double eval_steps =
      500.0 * static_cast<double>(cfg.arch.num_eval_episodes) *
      static_cast<double>(cfg.arch.num_evaluation + (cfg.arch.absolute_metric ? 10 : 0));
  const double evaluation = eval_steps * 2 * actor;
  const double flops = rollout + training + evaluation;
  std::printf("PPO CartPole-v1, default config, %lld env steps, no logging or checkpoints\n",
              static_cast<long long>(s.timesteps));
  std::printf("  wall %.3f s (best of 3, including %lld evaluations and the absolute metric)\n",
              s.wall_seconds, static_cast<long long>(cfg.arch.num_evaluation));
  std::printf("  %.0f training env steps/s; final return %.1f, absolute %.1f\n", s.steps_per_second,
              s.episode_return_mean, s.absolute_episode_return_mean);
  std::printf(
      "  network FLOPs: rollout %.1f G, updates %.1f G, evaluation <= %.1f G; "
      "%.1f GFLOP/s over the run (%.0f%% of the build's peak)\n",
      rollout * 1e-9, training * 1e-9, evaluation * 1e-9, flops * 1e-9 / s.wall_seconds,
      100.0 * flops * 1e-9 / s.wall_seconds / edgerl::bench::machine().peak_gflops);
}

void bench_overheads() {
  const Config cfg = edgerl::default_config();
  const TrainSummary base = best_of(3, cfg, quiet());
  std::vector<std::string> ckpt = quiet();
  ckpt.back() = "logger.checkpointing.save_model=true";
  const TrainSummary with_ckpt = best_of(3, cfg, ckpt);
  const TrainSummary with_logs = best_of(
      3, cfg, {"logger.loggers.console.enabled=false", "logger.checkpointing.save_model=false"});
  const TrainSummary all = best_of(3, cfg, {"logger.loggers.console.enabled=false"});
  auto pct = [&](const TrainSummary& s) {
    return 100.0 * (s.wall_seconds - base.wall_seconds) / base.wall_seconds;
  };
  std::printf("PPO CartPole-v1 default config, wall seconds (best of 3), %lld evaluations\n",
              static_cast<long long>(cfg.arch.num_evaluation));
  std::printf("  no logs, no checkpoints       %.3f s\n", base.wall_seconds);
  std::printf("  + checkpoint every evaluation %.3f s (%+.2f%%)\n", with_ckpt.wall_seconds,
              pct(with_ckpt));
  std::printf("  + CSV and TensorBoard logs    %.3f s (%+.2f%%)\n", with_logs.wall_seconds,
              pct(with_logs));
  std::printf("  + both (default but console)  %.3f s (%+.2f%%)\n", all.wall_seconds, pct(all));
}

}  // namespace

EDGERL_BENCHMARK("train/ppo_cartpole", bench_ppo_cartpole);
EDGERL_BENCHMARK("train/overheads", bench_overheads);
