// system: the learner interface the training loop drives (Stoix's learner_setup/learn pair).
// A System owns its whole learner state — parameters, optimizer moments, RNG streams, the
// training environments and their last observations, episode accumulators, counters and, for
// off-policy systems, the replay buffer — and lists it as named tensors, so a checkpoint of
// those tensors continues training bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgerl/logger.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

struct Config;

// Counters every system keeps (saved as tensors "counters/...").
struct Counters {
  int64_t timestep = 0;   // environment steps taken by training so far
  int64_t update = 0;     // gradient updates (PPO: rollouts) done so far
  int64_t eval_step = 0;  // learn() calls completed so far
};

// How an evaluation picks actions.
struct ActRequest {
  const float* obs = nullptr;  // [n][obs_dim], raw observations from the environment
  size_t n = 0;
  bool greedy = true;
  Pcg64* rng = nullptr;         // for sampled (non-greedy) actions
  int32_t* discrete = nullptr;  // [n] when the action space is discrete
  float* continuous = nullptr;  // [n][action_dim] otherwise
};

class System {
 public:
  virtual ~System() = default;

  // One evaluation interval of training: num_updates_per_eval updates. Fills train metrics
  // (losses, per update/minibatch arrays) and act metrics (returns and lengths of the episodes
  // that finished while acting), and advances counters().eval_step by one.
  virtual void learn(Metrics& train, Metrics& act) = 0;

  // The current policy's actions for evaluation observations (never touches training state).
  virtual void act(const ActRequest& request) = 0;

  // The whole learner state as named tensors (views into this object).
  virtual void append_tensors(TensorList& out) = 0;
  // Called after a checkpoint was written into append_tensors()' views: checks the restored
  // values are possible (throws std::runtime_error naming the problem) and refreshes anything
  // derived from them.
  virtual void after_restore() = 0;

  virtual const Counters& counters() const = 0;
  // Updates per learn() call and in the whole run.
  virtual int64_t updates_per_eval() const = 0;
  // Environment steps per update.
  virtual int64_t steps_per_update() const = 0;

  // Called with the timestep after every update inside learn() (the loop moves the console's
  // progress bar with it); empty = nothing.
  void set_progress(std::function<void(int64_t)> fn) { progress_ = std::move(fn); }

 protected:
  void report_progress(int64_t timestep) const {
    if (progress_) progress_(timestep);
  }

 private:
  std::function<void(int64_t)> progress_;
};

// The system named by config.system.system_name. Throws ConfigError for an unusable config
// (e.g. a discrete-action system on a continuous environment, an unknown environment).
std::unique_ptr<System> make_system(const Config& config);

// The registered learners' names (system.system_name's choices), in registration order.
std::vector<std::string> learner_names();

}  // namespace edgerl
