// envs: Gymnasium's classic-control environments (CartPole-v1, Acrobot-v1, MountainCar-v0,
// MountainCarContinuous-v0, Pendulum-v1), one at a time (Env) or vectorised with same-step
// auto-reset (VecEnv).
//
// Each environment follows Gymnasium 1.x's constants, update equations, arithmetic order and
// precision, so the same initial state and actions give the same float32 observations; its time
// limit is Gymnasium's TimeLimit. Every environment owns a numpy-compatible PCG64: seeding with
// s is Gymnasium's reset(seed=s), later resets continue that stream. docs/environments.md lists
// the facts each environment follows and what is float32 or float64.
//
// All state that stepping depends on lives in plain arrays that tensors() lists as named views,
// so a checkpoint can save them and a restore (writing through the same views) continues
// bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/error.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

namespace detail {
struct EnvKind;   // one environment type's physics and facts (src/envs/env_kind.hpp)
struct VecBatch;  // a VecEnv's arrays as its batched step loop sees them
}  // namespace detail

// [env], [env.scenario] and [env.kwargs] of the config: which environment, with which limit.
struct EnvConfig {
  std::string env_name = "classic_control";
  std::string scenario_name = "CartPole-v1";  // [env.scenario] name
  std::string task_name = "cartpole";         // [env.scenario] task_name
  int64_t max_episode_steps = 0;              // [env.kwargs]; 0 = Gymnasium's time limit
};

// A bad environment name, action, state or call order: what() is one line for the user.
struct EnvError : Error {
  using Error::Error;
};

// What an environment is, as Gymnasium's spaces and registration describe it.
struct EnvInfo {
  std::string name;                      // Gymnasium id, e.g. "CartPole-v1"
  size_t obs_dim = 0;                    // float32 observation length
  size_t state_dim = 0;                  // internal (float64) state length
  std::vector<std::string> state_names;  // e.g. {"x", "x_dot", "theta", "theta_dot"}
  bool discrete = true;
  int32_t num_actions = 0;  // discrete: actions are 0 .. num_actions-1; continuous: 0
  size_t action_dim = 1;    // values per action (1 for every classic-control env)
  float action_low = 0.0f, action_high = 0.0f;  // continuous: the Box bounds
  int64_t max_episode_steps = 0;                // Gymnasium's TimeLimit
};

// The registered names, in a fixed order.
const std::vector<std::string>& env_names();
// Throws EnvError naming the valid environments when `name` is not one of them.
const EnvInfo& env_info(const std::string& name);

// One environment behind Gymnasium's single-env API, with its TimeLimit. No auto-reset: after
// an episode ends, step() throws until reset() is called.
class Env {
 public:
  struct Step {
    double reward = 0.0;  // Gymnasium's Python float
    bool terminated = false;
    bool truncated = false;
  };

  // max_episode_steps 0 = Gymnasium's limit. Throws EnvError for an unknown name.
  explicit Env(const std::string& name, int64_t max_episode_steps = 0);
  explicit Env(const EnvConfig& cfg);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const EnvInfo& info() const;
  int64_t max_episode_steps() const { return max_episode_steps_; }

  // reset(seed=s): re-seeds the generator through SeedSequence(s), then draws the initial state.
  void reset(uint64_t seed);
  // reset(): draws the next initial state from the same stream (seed 0 if never seeded).
  void reset();
  // Discrete environments only; throws EnvError for an action outside 0..num_actions-1.
  Step step(int32_t action);
  // Continuous environments only: the action as Gymnasium's float32 Box holds it (clipped
  // inside as Gymnasium clips it).
  Step step(float action);

  const float* obs() const { return obs_.data(); }
  const double* state() const { return state_.data(); }
  int64_t elapsed_steps() const { return elapsed_; }
  // Overwrites the internal state (as assigning env.unwrapped.state in Python would, with a
  // float64 array) and recomputes the observation; the step counter is kept.
  void set_state(const double* values);

  // "<prefix>state" f64[state_dim], "<prefix>obs" f32[obs_dim], "<prefix>elapsed_steps" i64[1],
  // "<prefix>rng" u64[6], "<prefix>needs_reset" u8[1]: views into this object.
  TensorList tensors(const std::string& prefix = "env/");

 private:
  const detail::EnvKind* kind_;
  int64_t max_episode_steps_;
  Pcg64 rng_scratch_;  // loaded from and stored back to rng_ around each reset
  std::vector<double> state_;
  std::vector<float> obs_;
  uint64_t rng_[6];
  int64_t elapsed_ = 0;
  uint8_t needs_reset_ = 1;
};

// An episode that ended during the last VecEnv::step().
struct EpisodeStats {
  size_t env = 0;           // which environment
  double ret = 0.0;         // undiscounted return (float64 sum of the float64 rewards)
  int64_t length = 0;       // steps
  bool terminated = false;  // false: the time limit truncated it
};

// num_envs copies of one environment stepped together with SAME-STEP auto-reset: when an
// episode terminates or is truncated, step() resets that environment at once, obs() holds the
// new episode's first observation and final_obs() the observation the episode ended with
// (Gymnasium <= 0.29 semantics; Gymnasium 1.x's vector envs default to next-step reset, which
// needs an extra dummy step per episode). Environment i is seeded with seed + i (Gymnasium's
// vector-env convention); its later resets continue its own stream.
//
// Construction allocates every buffer; reset() and step() never allocate. The pointers returned
// below stay valid for the object's lifetime; their contents change on each step().
class VecEnv {
 public:
  // max_episode_steps 0 = Gymnasium's limit. Throws EnvError for an unknown name, num_envs 0
  // or a negative limit.
  VecEnv(const std::string& name, size_t num_envs, uint64_t seed, int64_t max_episode_steps = 0);
  VecEnv(const EnvConfig& cfg, size_t num_envs, uint64_t seed);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const EnvInfo& info() const;
  size_t num_envs() const { return num_envs_; }
  size_t obs_dim() const;
  bool is_discrete() const;
  int32_t num_actions() const;
  size_t action_dim() const;
  float action_low() const;
  float action_high() const;
  int64_t max_episode_steps() const { return max_episode_steps_; }

  // Resets every environment from its own stream (the first time: reset(seed=seed+i)) and
  // returns the observations [num_envs x obs_dim].
  const float* reset();
  // Re-seeds environment i with seed + i, then resets all.
  const float* reset(uint64_t seed);

  // One step of every environment. Discrete: actions[num_envs], each in 0..num_actions-1
  // (else EnvError, nothing stepped). Continuous: actions[num_envs x action_dim], clipped as
  // Gymnasium clips them. Throws EnvError before the first reset().
  void step(const int32_t* actions);
  void step(const float* actions);

  const float* obs() const { return obs_.data(); }                  // [num_envs x obs_dim]
  const float* rewards() const { return rewards_.data(); }          // [num_envs]
  const uint8_t* terminated() const { return terminated_.data(); }  // [num_envs], 0/1
  const uint8_t* truncated() const { return truncated_.data(); }    // [num_envs], 0/1
  // [num_envs x obs_dim]; row i is meaningful where terminated[i] or truncated[i].
  const float* final_obs() const { return final_obs_.data(); }
  // Episodes that ended in the last step(), in environment order.
  const std::vector<EpisodeStats>& completed() const { return completed_; }

  const double* state() const { return state_.data(); }  // [num_envs x state_dim]
  const int64_t* elapsed_steps() const { return elapsed_.data(); }
  const double* episode_returns() const { return episode_return_.data(); }

  // Views into this object's state, for the checkpointer:
  //   <prefix>state f64[n, state_dim]   <prefix>obs f32[n, obs_dim]
  //   <prefix>elapsed_steps i64[n]      <prefix>episode_return f64[n]
  //   <prefix>rng u64[n, 6]             <prefix>needs_reset u8[n]
  // After writing restored values through them, call check_state().
  TensorList tensors(const std::string& prefix = "env/");
  // Throws EnvError naming the first value that cannot come from a real run (an invalid RNG
  // word, a step counter outside 0..max_episode_steps, a non-finite state, a flag not 0/1).
  void check_state() const;

 private:
  void check_ready() const;
  detail::VecBatch batch();

  const detail::EnvKind* kind_;
  size_t num_envs_;
  int64_t max_episode_steps_;
  std::vector<double> state_;
  std::vector<float> obs_;
  std::vector<int64_t> elapsed_;
  std::vector<double> episode_return_;
  std::vector<uint64_t> rng_;
  std::vector<uint8_t> needs_reset_;
  std::vector<float> rewards_;
  std::vector<uint8_t> terminated_;
  std::vector<uint8_t> truncated_;
  std::vector<float> final_obs_;
  std::vector<EpisodeStats> completed_;
  Pcg64 rng_scratch_;  // loaded from and stored back to rng_ around each reset
};

}  // namespace edgerl
