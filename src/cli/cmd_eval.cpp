// `edgerl eval`: the policy stored in a checkpoint, evaluated on fresh environments.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/train.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl eval CHECKPOINT [--best] [--episodes N] [--greedy | --stochastic]\n"
    "                              [--seed S] [--trace FILE] [--render ascii [--fps N]]\n"
    "\n"
    "Evaluates the policy stored in a checkpoint file with the config stored in it, on fresh\n"
    "environments, and prints episode_return and episode_length (mean, std, min, max).\n"
    "\n"
    "  --best          the run's best policy instead: the one of its best evaluation up to\n"
    "                  this checkpoint's, which the absolute metric measures\n"
    "  --trace FILE    also write every step of the episodes as CSV: episode, t, the\n"
    "                  observation, the action, reward, terminated, truncated (floats with\n"
    "                  %.9g: they read back exactly); never onto a checkpoint or a run's\n"
    "                  log files (refused, exit status 2)\n"
    "  --render ascii  draw the episodes as text frames (CartPole, Pendulum, MountainCar,\n"
    "                  Acrobot), for a terminal on a board without a screen; one episode\n"
    "                  unless --episodes says otherwise\n"
    "  --fps N         frames per second of --render (default 30)\n";

// The key of `edgerl eval`'s evaluation streams (the training loop uses the eval step).
constexpr uint64_t kEvalKey = 0x65766131u;

// The episodes one at a time on one environment, each from the initial state the evaluation's
// episode of the same number starts from, written to `trace` and/or drawn.
EvalResult run_episodes(Policy& policy, const Config& cfg, int64_t episodes, FILE* trace,
                        bool render, int fps) {
  const SeedSequence seq = SeedSequence(cfg.arch.seed).child(4).child(kEvalKey);
  const uint64_t base = seq.child(0).generate_state_u64(1)[0];
  Pcg64 rng(seq.child(1));
  Env env(cfg.env);
  const EnvInfo& info = env.info();
  const size_t adim = info.discrete ? 1 : info.action_dim;
  if (trace) {
    std::fprintf(trace, "episode,t");
    for (size_t j = 0; j < info.obs_dim; ++j) std::fprintf(trace, ",obs_%zu", j);
    for (size_t j = 0; j < adim; ++j) std::fprintf(trace, ",action_%zu", j);
    std::fprintf(trace, ",reward,terminated,truncated\n");
  }
  EvalResult r;
  std::vector<float> obs(info.obs_dim), cont(adim);
  int32_t disc = 0;
  for (int64_t e = 0; e < episodes; ++e) {
    env.reset(base + static_cast<uint64_t>(e));
    double ret = 0;
    int64_t t = 0;
    for (bool done = false; !done; ++t) {
      std::copy(env.obs(), env.obs() + info.obs_dim, obs.begin());
      ActRequest req;
      req.obs = obs.data();
      req.n = 1;
      req.greedy = cfg.arch.evaluation_greedy;
      req.rng = &rng;
      req.discrete = &disc;
      req.continuous = cont.data();
      policy.act(req);
      const Env::Step step = info.discrete ? env.step(disc) : env.step(cont[0]);
      ret += step.reward;
      done = step.terminated || step.truncated;
      if (trace) {
        std::fprintf(trace, "%lld,%lld", static_cast<long long>(e), static_cast<long long>(t));
        for (float x : obs) std::fprintf(trace, ",%.9g", static_cast<double>(x));
        if (info.discrete)
          std::fprintf(trace, ",%d", disc);
        else
          for (float a : cont) std::fprintf(trace, ",%.9g", static_cast<double>(a));
        std::fprintf(trace, ",%.17g,%d,%d\n", step.reward, step.terminated ? 1 : 0,
                     step.truncated ? 1 : 0);
      }
      if (render) {
        char status[160];
        std::snprintf(status, sizeof status, "%s  episode %lld  step %lld  return %.2f",
                      info.name.c_str(), static_cast<long long>(e), static_cast<long long>(t + 1),
                      ret);
        std::printf("\033[H\033[2J%s", render_ascii(env, 72, 18, status).c_str());
        std::fflush(stdout);
        ::usleep(static_cast<useconds_t>(1000000 / fps));
      }
    }
    r.episode_return.push_back(ret);
    r.episode_length.push_back(static_cast<double>(t));
    r.steps += t;
  }
  double sum = 0;
  for (double x : r.episode_return) sum += x;
  r.mean_return = sum / static_cast<double>(r.episode_return.size());
  return r;
}

}  // namespace

int cmd_eval(const Args& args) {
  std::string episodes, seed, trace_path, render, fps_text;
  bool has_episodes = false, has_seed = false, greedy = false, stochastic = false;
  bool has_trace = false, has_render = false, has_fps = false, best = false;
  std::vector<std::string> paths;
  ArgParser p("eval");
  p.option("--episodes", &episodes, "", &has_episodes)
      .flag("--greedy", &greedy)
      .flag("--stochastic", &stochastic)
      .flag("--best", &best)
      .option("--seed", &seed, "", &has_seed)
      .option("--trace", &trace_path, "", &has_trace)
      .option("--render", &render, "", &has_render)
      .option("--fps", &fps_text, "", &has_fps)
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
  if (has_render && render != "ascii") throw UsageError("--render " + render + ": only ascii");
  if (has_fps && !has_render) throw UsageError("--fps needs --render ascii");
  const int fps = has_fps ? static_cast<int>(parse_int_option("--fps", fps_text, 1, 1000)) : 30;
  if (has_trace) check_output_file("--trace", trace_path, paths);

  RestoredSystem r = restore_system(posix_fs(), path);
  Config& cfg = r.config;
  if (has_episodes) cfg.arch.num_eval_episodes = n;
  if (greedy || stochastic) cfg.arch.evaluation_greedy = greedy;
  if (has_seed) cfg.arch.seed = s;
  const auto t0 = std::chrono::steady_clock::now();
  const std::unique_ptr<Policy> own = best ? nullptr : r.system->policy();
  Policy* policy = best ? &r.best->policy() : own.get();
  EvalResult e;
  if (has_trace || has_render) {
    if (has_render && !has_episodes) cfg.arch.num_eval_episodes = 1;
    FILE* trace = nullptr;
    if (has_trace && !(trace = std::fopen(trace_path.c_str(), "w")))
      throw UsageError("cannot write " + trace_path + ": " + std::strerror(errno));
    e = run_episodes(*policy, cfg, cfg.arch.num_eval_episodes, trace, has_render, fps);
    if (trace && (std::fflush(trace) != 0 || std::ferror(trace))) {
      const int err = errno;
      std::fclose(trace);
      throw UsageError("cannot write " + trace_path + ": " + std::strerror(err));
    }
    if (trace) std::fclose(trace);
  } else {
    e = evaluate(*policy, eval_options(cfg), cfg.arch.num_eval_episodes, kEvalKey);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double mn = e.episode_return[0], mx = mn, len = 0;
  for (double x : e.episode_return) mn = std::min(mn, x), mx = std::max(mx, x);
  for (double x : e.episode_length) len += x;
  std::string which;
  if (best)
    which = ", the best policy (" +
            (r.best->eval_step() < 0 ? std::string("the initial one")
                                     : "eval step " + std::to_string(r.best->eval_step())) +
            ")";
  std::printf("%s: %s on %s, timestep %lld%s, %lld %s episodes\n", path.c_str(),
              cfg.system.system_name.c_str(), cfg.env.scenario_name.c_str(),
              static_cast<long long>(r.info.meta.timestep), which.c_str(),
              static_cast<long long>(cfg.arch.num_eval_episodes),
              cfg.arch.evaluation_greedy ? "greedy" : "stochastic");
  std::printf(
      "episode_return %.3f ± %.3f (min %.3f, max %.3f), episode_length %.1f, %.0f steps/s\n",
      e.mean_return, e.std_return(), mn, mx, len / static_cast<double>(e.episode_length.size()),
      secs > 0 ? static_cast<double>(e.steps) / secs : 0.0);
  return kExitOk;
}

}  // namespace edgerl::cli
