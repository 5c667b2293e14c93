// learners/common: the small pieces the learners share: the learning-rate schedule and the
// target-network update (the counters and the interval plan are System's).
#pragma once

#include <cstdint>

#include "edgerl/nn.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

// A learning rate that stays at lr0 or, with decay (system.decay_learning_rates), falls
// linearly to 0 over `total` steps (CleanRL's annealing): lr0 * (1 - step / total).
struct LrSchedule {
  double lr0 = 0;
  bool decay = false;
  int64_t total = 1;
  double at(int64_t step) const {
    if (!decay) return lr0;
    return lr0 * (1.0 - static_cast<double>(step) / static_cast<double>(total));
  }
};

// A target network that follows its online network every `period` gradient steps: a hard copy
// when tau >= 1, else Polyak averaging target = tau * online + (1 - tau) * target.
struct TargetUpdate {
  double tau = 1.0;
  int64_t period = 1;
  // Called after gradient step number `grad_steps` (counted from 1).
  void after_step(int64_t grad_steps, Mlp& target, const Mlp& online) const {
    if (grad_steps % period != 0) return;
    if (tau >= 1.0)
      target.copy_params_from(online);
    else
      target.polyak_update(online, tau);
  }
};

}  // namespace edgerl
