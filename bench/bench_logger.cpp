// The cost of logging one evaluation cycle at the default settings (console, CSV and
// TensorBoard all on), with metrics shaped like the default config's (configs/ppo_cartpole.ini):
// 48 updates x 4 epochs x 4 minibatches of six PPO losses, the rollout's finished episodes,
// 32 evaluation episodes and the throughput line. Training must spend at least 100 times this
// per evaluation for logging to stay under 1% of wall time.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "bench.hpp"
#include "edgerl/logger.hpp"

namespace {

using edgerl::bench::now_seconds;

constexpr int kCycles = 200;
constexpr int64_t kStepsPerEval = 24576;  // 4 envs x 128 steps x 48 updates

struct CycleMetrics {
  edgerl::Metrics train, act, eval;
};

CycleMetrics make_metrics(int cycle) {
  CycleMetrics m;
  const size_t minibatches = 48 * 4 * 4;
  for (const char* name :
       {"total_loss", "value_loss", "actor_loss", "entropy", "approx_kl", "clipfrac"}) {
    std::vector<double> v(minibatches);
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.001 * static_cast<double>(i % 97) + cycle;
    m.train.add(name, std::move(v));
  }
  std::vector<double> act_returns(245), eval_returns(32);
  for (size_t i = 0; i < act_returns.size(); ++i)
    act_returns[i] = 20.0 + static_cast<double>(i % 50);
  for (size_t i = 0; i < eval_returns.size(); ++i) eval_returns[i] = 100.0 + static_cast<double>(i);
  m.act.add("episode_return", act_returns).add("episode_length", act_returns);
  m.eval.add("episode_return", eval_returns).add("episode_length", eval_returns);
  return m;
}

// Seconds per cycle of every cycle, logging into a fresh run folder with these sinks (and with
// Logger::sync(), the fsync the loop does before each checkpoint, if `sync`).
std::vector<double> time_cycles(bool console, bool csv, bool tensorboard, bool sync = false) {
  char tmpl[] = "/tmp/edgerl-bench-logger-XXXXXX";
  if (!mkdtemp(tmpl)) return {};
  FILE* devnull = std::fopen("/dev/null", "w");
  edgerl::LoggerConfig cfg;
  cfg.base_exp_path = tmpl;
  cfg.console.enabled = console;
  cfg.csv.enabled = csv;
  cfg.tensorboard.enabled = tensorboard;
  edgerl::RunInfo run{"ff_ppo", "CartPole-v1", "bench", kStepsPerEval * kCycles, kCycles, -1};
  edgerl::LoggerIo io;
  io.console = devnull;  // not a terminal: plain lines, as in CI
  std::vector<CycleMetrics> metrics;
  for (int c = 0; c < kCycles; ++c) metrics.push_back(make_metrics(c));
  std::vector<double> seconds;
  {
    edgerl::Logger logger(cfg, run, io);
    for (int c = 0; c < kCycles; ++c) {
      const int64_t t = kStepsPerEval * (c + 1);
      const double start = now_seconds();
      logger.log(metrics[c].train, t, c, edgerl::LogEvent::TRAIN);
      logger.log(metrics[c].act, t, c, edgerl::LogEvent::ACT);
      logger.log(metrics[c].eval, t, c, edgerl::LogEvent::EVAL);
      logger.log_throughput({kStepsPerEval, 1.5, 3200, 0.1}, t, c);
      if (sync) logger.sync();
      seconds.push_back(now_seconds() - start);
    }
  }
  std::fclose(devnull);
  std::filesystem::remove_all(tmpl);
  return seconds;
}

void report(const char* what, std::vector<double> s) {
  if (s.empty()) return void(std::printf("  %-32s could not create a temporary folder\n", what));
  const double first = s.front();
  std::sort(s.begin(), s.end());
  double mean = 0;
  for (const double v : s) mean += v;
  mean /= static_cast<double>(s.size());
  std::printf("  %-32s median %7.1f us  mean %7.1f us  p99 %7.1f us  first %7.1f us\n", what,
              s[s.size() / 2] * 1e6, mean * 1e6, s[s.size() * 99 / 100] * 1e6, first * 1e6);
}

void bench_logger() {
  std::printf("  one evaluation cycle = TRAIN (6 x 768 values) + ACT + EVAL + MISC, %d cycles\n",
              kCycles);
  const auto all = time_cycles(true, true, true);
  report("console + csv + tensorboard", all);
  report("console only", time_cycles(true, false, false));
  report("csv only", time_cycles(false, true, false));
  report("tensorboard only", time_cycles(false, false, true));
  const auto synced = time_cycles(true, true, true, true);
  report("all + sync() (fsync in /tmp)", synced);
  for (const auto* s : {&all, &synced}) {
    if (s->empty()) continue;
    double mean = 0;
    for (const double v : *s) mean += v;
    mean /= static_cast<double>(s->size());
    std::printf(
        "  %s: under 1%% of training while one evaluation cycle of training (%lld env steps\n"
        "    at the default config) takes more than %.1f ms, i.e. below %.0f env steps/s\n",
        s == &all ? "logging" : "logging + sync", static_cast<long long>(kStepsPerEval),
        mean * 100 * 1e3, static_cast<double>(kStepsPerEval) / (mean * 100));
  }
}

EDGERL_BENCHMARK("logger/evaluation_cycle", bench_logger);

}  // namespace
