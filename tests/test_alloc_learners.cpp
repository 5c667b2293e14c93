// No heap allocation per environment step or per update once a learner has warmed up, for
// every learner: the allocation counter (alloc_counter.cpp replaces operator new) is read
// between every two updates of later evaluation intervals (each update steps the environments
// and trains), and must not move.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "edgerl/config.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/system.hpp"

using namespace edgerl;

namespace {

struct Case {
  const char* config;
  std::vector<std::string> overrides;
};

// Allocations in each update after the first interval (warm-up: buffers, metric arrays and the
// replay buffer's first filling grow there), and the updates they were counted over.
void check_no_allocation(const Case& c) {
  std::vector<std::string> o = c.overrides;
  o.push_back("arch.num_evaluation=4");
  o.push_back("arch.num_threads=2");  // the worker pool allocates nothing per update either
  const Config cfg = load_config_text(builtin_config_text(c.config), c.config, o);
  auto sys = make_system(cfg);
  Metrics train, act;
  REQUIRE(sys->learn(train, act));  // interval 0: warm-up
  uint64_t last = 0, counted = 0, allocating = 0;
  bool first = true;
  const auto stop = [&] {
    const uint64_t now = testing::allocation_count();
    if (!first) {
      counted += 1;
      if (now != last) allocating += 1;
    }
    first = false;
    last = testing::allocation_count();
    return false;
  };
  for (int k = 1; k < 4; ++k) {
    first = true;
    REQUIRE(sys->learn(train, act, stop));
  }
  CHECK(counted >= 6);
  CHECK(allocating == 0);
}

}  // namespace

TEST_CASE("no allocation per environment step or update after warm-up, for every learner") {
  const Case cases[] = {
      {"ppo_cartpole.ini", {"arch.total_timesteps=40960"}},  // 4 x 128 steps per update
      {"ppo_acrobot.ini", {"arch.total_timesteps=40960"}},
      {"ppo_pendulum.ini",
       {"arch.total_timesteps=163840", "system.normalize_observations=true"}},  // 4 x 1024
      // DQN: one environment step and one gradient step per update, the buffer filled past
      // its warm-up in interval 0 and not yet full (appends), then full (overwrites).
      {"dqn_cartpole.ini",
       {"arch.total_timesteps=8000", "system.warmup_steps=500", "system.total_buffer_size=3000",
        "system.n_step=3"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.config);
    check_no_allocation(c);
  }
}
