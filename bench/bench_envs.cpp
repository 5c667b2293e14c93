// Environment steps per second: one VecEnv of 64 on one core, as the learners step it, with
// actions drawn beforehand (uniform over the action space) so only the environments are timed.
#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/rng.hpp"

namespace {

constexpr size_t kNumEnvs = 64;
constexpr size_t kActionRows = 256;  // distinct action rows, cycled
constexpr double kSeconds = 0.4;

void bench_env(const std::string& name) {
  edgerl::VecEnv env(name, kNumEnvs, 0);
  const edgerl::EnvInfo& info = env.info();
  edgerl::Pcg64 rng(1);
  std::vector<int32_t> discrete(kActionRows * kNumEnvs);
  std::vector<float> continuous(kActionRows * kNumEnvs);
  for (size_t i = 0; i < discrete.size(); ++i) {
    if (info.discrete)
      discrete[i] = static_cast<int32_t>(rng.below(static_cast<uint64_t>(info.num_actions)));
    else
      continuous[i] = static_cast<float>(rng.uniform(info.action_low, info.action_high));
  }
  env.reset();
  uint64_t steps = 0, episodes = 0;
  const double start = edgerl::bench::now_seconds();
  double elapsed = 0.0;
  do {
    for (size_t r = 0; r < kActionRows; ++r) {
      if (info.discrete)
        env.step(&discrete[r * kNumEnvs]);
      else
        env.step(&continuous[r * kNumEnvs]);
      episodes += env.completed().size();
    }
    steps += kActionRows * kNumEnvs;
    elapsed = edgerl::bench::now_seconds() - start;
  } while (elapsed < kSeconds);
  edgerl::bench::keep(env.obs()[0]);
  std::printf("  %-26s %8.2f M steps/s  (%.1f ns/step, VecEnv of %zu, %llu episodes)\n",
              name.c_str(), steps / elapsed / 1e6, elapsed / steps * 1e9, kNumEnvs,
              static_cast<unsigned long long>(episodes));
}

}  // namespace

EDGERL_BENCHMARK("envs/CartPole-v1", [] { bench_env("CartPole-v1"); });
EDGERL_BENCHMARK("envs/Acrobot-v1", [] { bench_env("Acrobot-v1"); });
EDGERL_BENCHMARK("envs/MountainCar-v0", [] { bench_env("MountainCar-v0"); });
EDGERL_BENCHMARK("envs/MountainCarContinuous-v0", [] { bench_env("MountainCarContinuous-v0"); });
EDGERL_BENCHMARK("envs/Pendulum-v1", [] { bench_env("Pendulum-v1"); });
