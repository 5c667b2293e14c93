// evaluator: runs whole evaluation episodes of a system's current policy on environments of
// its own, with random streams of its own, so evaluating never changes training.
#pragma once

#include <cstdint>
#include <vector>

#include "edgerl/envs.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/policy.hpp"

namespace edgerl {

struct EvalResult {
  std::vector<double> episode_return;  // one per episode, in a fixed order
  std::vector<double> episode_length;
  int64_t steps = 0;  // environment steps taken (sum of the lengths)
  double mean_return = 0;

  // Population standard deviation of episode_return (numpy's np.std).
  double std_return() const;

  // episode_return and episode_length as arrays (reduced to mean, std, min, max).
  Metrics metrics() const;
};

// What an evaluation runs on: the environment, the seed its streams derive from (arch.seed)
// and whether actions are greedy (arch.evaluation_greedy).
struct EvalOptions {
  EnvConfig env;
  uint64_t seed = 0;
  bool greedy = true;
};

// `num_episodes` episodes, each from its own environment's first reset. The environments'
// seeds and the action-sampling stream come from SeedSequence(seed).child(4).child(key), so
// the same key gives the same episodes (the loop uses the eval step; the absolute metric uses
// num_evaluation).
EvalResult evaluate(Policy& policy, const EvalOptions& options, int64_t num_episodes, uint64_t key);

}  // namespace edgerl
