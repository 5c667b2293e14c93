// learners/off_policy: the loop every off-policy learner shares (DQN now; SAC, TD3 and DDPG on
// the same base): step the training environments with the learner's behaviour policy, write
// the transitions through the n-step writer into the replay buffer, and after warm-up run
// `epochs` gradient steps every train_frequency vector steps; plus the counters, the episode
// statistics and the checks of restored state that go with it. A learner supplies only what
// differs: how it acts while training, what one gradient step does, its metrics and the
// tensors of its networks, optimisers and random streams.
//
// One update = train_frequency vector steps (num_envs * train_frequency env steps), followed by
// `epochs` gradient steps once warmup_steps env steps are taken and the buffer holds a batch.
// Checkpoint tensors, in this order: the learner's model tensors, buffer/*, nstep/*, the
// learner's random streams, env/*, counters/* (System's, then grad_steps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/system.hpp"
#include "learners/common.hpp"
#include "learners/replay_buffer.hpp"

namespace edgerl {

// The skeleton's keys, read from the learner's own config struct.
struct OffPolicySettings {
  int64_t warmup_steps = 0;       // env steps before the first gradient step
  int64_t train_frequency = 1;    // vector steps per update
  int64_t epochs = 1;             // gradient steps per update
  int64_t total_buffer_size = 1;  // replay capacity in transitions
  int64_t total_batch_size = 1;   // transitions per gradient step
  int64_t n_step = 1;
  double gamma = 0.99;
};

// The checks every off-policy config needs, by the settings read from it: the batch fits the
// buffer, and the run holds at least one update per evaluation. frequency_key names the key
// behind train_frequency (system.train_frequency, system.rollout_length). Throws ConfigError.
void check_off_policy_settings(const OffPolicySettings& o, const ArchConfig& a,
                               const std::string& frequency_key);

class OffPolicyLearner : public System {
 public:
  void append_tensors(TensorList& out) final;
  void after_restore() final;
  int64_t steps_per_update() const final { return steps_per_update_; }

 protected:
  OffPolicyLearner(const Config& cfg, const OffPolicySettings& settings);

  // Actions of the training environments for observations obs [E][obs_dim]: discrete[E] or
  // continuous[E][action_dim] (inside the action space).
  virtual void behave(const float* obs, int32_t* discrete, float* continuous) = 0;
  // One gradient step (number grad_steps(), counted from 1) of update number
  // counters().update, `epoch` of `epochs`, on batches sampled from buffer(); it appends what
  // it measured to interval_train(), and the learner's end_interval() adds the scalars.
  virtual void gradient_step(int64_t epoch) = 0;
  // Networks and optimisers; random streams (see the order above).
  virtual void append_model_tensors(TensorList& out) = 0;
  virtual void append_stream_tensors(TensorList& out) = 0;
  // Checks the learner's own restored state; throws std::runtime_error naming the problem.
  virtual void check_restored() = 0;

  const VecEnv& env() const { return env_; }
  const ReplayBuffer& buffer() const { return buffer_; }
  const NStepWriter& nstep() const { return nstep_; }
  int64_t grad_steps() const { return grad_steps_; }
  size_t num_envs() const { return E_; }
  size_t obs_dim() const { return obs_dim_; }
  // 0 for discrete actions.
  size_t action_dim() const { return action_dim_; }
  const OffPolicySettings& settings() const { return settings_; }
  // The buffer's size at the gradient step after this one (`epoch` of `epochs`), if each
  // environment step in between stores one transition (as with n_step = 1): a guess, for work
  // prepared ahead that checks it before use (BatchAhead).
  size_t next_buffer_size(int64_t epoch) const;

 private:
  void update() final;
  void step_envs();
  bool action_ok(int32_t discrete, const float* continuous) const;

  const OffPolicySettings settings_;
  VecEnv env_;
  const size_t E_, obs_dim_, action_dim_;
  ReplayBuffer buffer_;
  NStepWriter nstep_;
  int64_t grad_steps_ = 0;
  int64_t steps_per_update_ = 0;
  // Per-step scratch, sized once.
  std::vector<float> obs_, actions_f_;
  std::vector<int32_t> actions_i_;
};

}  // namespace edgerl
