// `edgerl eval`: the policy stored in a checkpoint, evaluated on fresh environments.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/commands.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/train.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl eval CHECKPOINT [--episodes N] [--greedy | --stochastic] [--seed S]\n"
    "\n"
    "Evaluates the policy stored in a checkpoint file with the config stored in it, on fresh\n"
    "environments, and prints episode_return and episode_length (mean, std, min, max).\n";

// The key of `edgerl eval`'s evaluation streams (the training loop uses the eval step).
constexpr uint64_t kEvalKey = 0x65766131u;

}  // namespace

int cmd_eval(const Args& args) {
  std::string episodes, seed;
  bool has_episodes = false, has_seed = false, greedy = false, stochastic = false;
  std::vector<std::string> paths;
  ArgParser p("eval");
  p.option("--episodes", &episodes, "", &has_episodes)
      .flag("--greedy", &greedy)
      .flag("--stochastic", &stochastic)
      .option("--seed", &seed, "", &has_seed)
      .operands(&paths);
  if (!p.parse(args)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (paths.empty()) throw UsageError("needs a checkpoint file (see edgerl eval --help)");
  if (paths.size() > 1) throw UsageError("unexpected argument '" + paths[1] + "'");
  if (greedy && stochastic) throw UsageError("--greedy and --stochastic exclude each other");
  const std::string& path = paths[0];
  const int64_t n = has_episodes ? parse_int_option("--episodes", episodes, 1, 1 << 24) : 0;
  const uint64_t s = has_seed ? parse_u64_option("--seed", seed) : 0;

  RestoredSystem r = restore_system(posix_fs(), path);
  Config& cfg = r.config;
  if (has_episodes) cfg.arch.num_eval_episodes = n;
  if (greedy || stochastic) cfg.arch.evaluation_greedy = greedy;
  if (has_seed) cfg.arch.seed = s;
  const auto t0 = std::chrono::steady_clock::now();
  const EvalResult e = evaluate(*r.system, eval_options(cfg), cfg.arch.num_eval_episodes, kEvalKey);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double mn = e.episode_return[0], mx = mn, len = 0;
  for (double x : e.episode_return) mn = std::min(mn, x), mx = std::max(mx, x);
  for (double x : e.episode_length) len += x;
  std::printf("%s: %s on %s, timestep %lld, %lld %s episodes\n", path.c_str(),
              cfg.system.system_name.c_str(), cfg.env.scenario_name.c_str(),
              static_cast<long long>(r.info.meta.timestep),
              static_cast<long long>(cfg.arch.num_eval_episodes),
              cfg.arch.evaluation_greedy ? "greedy" : "stochastic");
  std::printf(
      "episode_return %.3f ± %.3f (min %.3f, max %.3f), episode_length %.1f, %.0f steps/s\n",
      e.mean_return, e.std_return(), mn, mx, len / static_cast<double>(e.episode_length.size()),
      secs > 0 ? static_cast<double>(e.steps) / secs : 0.0);
  return kExitOk;
}

}  // namespace edgerl::cli
