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
#include "edgerl/policy.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

struct Config;

// Counters every system keeps (saved as tensors "counters/...").
struct Counters {
  int64_t timestep = 0;   // environment steps taken by training so far
  int64_t update = 0;     // updates (PPO: rollouts; DQN: train_frequency steps) done so far
  int64_t eval_step = 0;  // evaluation intervals completed so far
  // Where the current plan of intervals starts: 0 and 0, or the update and interval at which
  // a resumed run was given a new length (see System::replan).
  int64_t plan_update = 0;
  int64_t plan_eval_step = 0;
};

// A learner. Training runs in evaluation intervals: interval k ends after update
// interval_end(k); the updates of the whole run are split evenly over arch.num_evaluation
// intervals (updates_per_eval each, the remainder dropped, as Stoix does).
class System {
 public:
  virtual ~System() = default;

  // Trains to the end of interval counters().eval_step, one update at a time. After each
  // update that does not end the interval `stop` (if given) is asked whether to stop there.
  // Returns true when the interval is complete: train then holds its metrics (losses, per
  // update or minibatch arrays, learning rates), act the returns and lengths of the episodes
  // that finished while acting, and counters().eval_step has advanced. Returns false when
  // stopped inside the interval: its metrics so far stay pending (interval_tensors) and the
  // next learn() goes on from there, so the interval's metrics are those of an uninterrupted
  // one.
  bool learn(Metrics& train, Metrics& act, const std::function<bool()>& stop = {});

  // A copy of the current policy: what evaluation and export use (never touches training
  // state; acting on it after more training still acts as the policy of this moment).
  virtual std::unique_ptr<Policy> policy() const = 0;
  // policy()->act(request): for tests and tools (it copies the policy at every call).
  void act(const ActRequest& request) const { policy()->act(request); }

  // The whole learner state as named tensors (views into this object).
  virtual void append_tensors(TensorList& out) = 0;
  // Called after a checkpoint was written into append_tensors()' views: checks the restored
  // values are possible (throws std::runtime_error naming the problem) and refreshes anything
  // derived from them.
  virtual void after_restore() = 0;

  // The metrics of an interval in progress, as owned tensors "interval/train/<name>" and
  // "interval/act/<name>" (f64 arrays; none between intervals), and back. Throws
  // std::runtime_error for a tensor that cannot be such a metric.
  std::vector<Tensor> interval_tensors() const;
  void set_interval_tensors(const std::vector<Tensor>& tensors);

  const Counters& counters() const { return counters_; }
  // The update after which interval k ends, and the updates of the whole run.
  int64_t interval_end(int64_t k) const;
  int64_t total_updates() const { return interval_end(num_evaluation_ - 1); }
  // Updates per interval under the current plan.
  int64_t updates_per_eval() const;
  // Environment steps per update.
  virtual int64_t steps_per_update() const = 0;
  // The threads its updates run on (arch.num_threads, capped at what it can use).
  virtual int threads() const { return 1; }
  // With two threads: the gradient steps this process ran on one, because the other was held
  // back (the cores were busy elsewhere: PairGuard), and in *of (if given) all its steps that
  // could have run on two. The results are the same either way.
  virtual int64_t steps_alone(int64_t* of = nullptr) const {
    if (of) *of = 0;
    return 0;
  }

  // Gives a restored run the length of the config it was built from: from the current update
  // and interval on, the updates left (the config's updates - counters().update) are split
  // evenly over the intervals left (arch.num_evaluation - counters().eval_step). The learner's
  // schedules (learning-rate decay, exploration) follow the config's totals.
  void replan();
  // Updates of the whole run and evaluation intervals, as the config asks.
  int64_t planned_updates() const { return num_updates_; }
  int64_t planned_evaluations() const { return num_evaluation_; }

  // Called with the timestep after every update inside learn() (the loop moves the console's
  // progress bar with it); empty = nothing.
  void set_progress(std::function<void(int64_t)> fn) { progress_ = std::move(fn); }

 protected:
  // num_updates: updates of the whole run (arch.num_updates, or derived from
  // arch.total_timesteps); num_evaluation: arch.num_evaluation.
  void plan(int64_t num_updates, int64_t num_evaluation);
  int64_t num_updates() const { return num_updates_; }

  // One update: the learner advances counters_.timestep and appends its per-update metrics
  // to interval_train() and interval_act() (Metrics::append); counters_.update is the
  // number of updates before this one.
  virtual void update() = 0;
  // The interval's scalars (learning rates, epsilon), added at its end.
  virtual void end_interval(Metrics& train) { (void)train; }

  Metrics& interval_train() { return interval_train_; }
  Metrics& interval_act() { return interval_act_; }

  // "counters/timestep", "counters/update", "counters/eval_step", "counters/plan_update",
  // "counters/plan_eval_step" (i64 scalars).
  void append_counter_tensors(TensorList& out);
  // Throws std::runtime_error when restored counters cannot come from a real run.
  void check_counters(int64_t steps_per_update) const;

  Counters counters_;

 private:
  void report_progress(int64_t timestep) const {
    if (progress_) progress_(timestep);
  }

  int64_t num_updates_ = 0, num_evaluation_ = 1;
  Metrics interval_train_, interval_act_;
  std::function<void(int64_t)> progress_;
};

// The names of the counter tensors a checkpoint of an older edgerl may lack (they are zero).
const std::vector<std::string>& optional_counter_tensors();

// The system named by config.system.system_name. Throws ConfigError for an unusable config
// (e.g. a discrete-action system on a continuous environment, an unknown environment).
std::unique_ptr<System> make_system(const Config& config);

// The registered learners' names (system.system_name's choices), in registration order.
std::vector<std::string> learner_names();

}  // namespace edgerl
