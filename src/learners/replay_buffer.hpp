// replay_buffer: a fixed-capacity ring of transitions in flat arrays (so it is saved and
// restored as tensors like every other piece of learner state), with uniform sampling; and the
// n-step writer that turns each environment's steps into the transitions it stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

class ReplayBuffer {
 public:
  // action_dim 0 = one discrete action (int32) per transition; > 0 = that many floats.
  ReplayBuffer(size_t capacity, size_t obs_dim, size_t action_dim);
  // Its tensors point at rows_, which points into the buffer.
  ReplayBuffer(const ReplayBuffer&) = delete;
  ReplayBuffer& operator=(const ReplayBuffer&) = delete;

  // Adds one transition; next_obs is the true next observation (the final one when the
  // episode ended), terminated says whether to bootstrap from it.
  void add(const float* obs, const float* next_obs, int32_t action, const float* cont_action,
           float reward, bool terminated);

  // Draws `batch` indices uniformly (with replacement) from the stored transitions.
  void sample(Pcg64& rng, size_t batch, uint32_t* indices) const;
  // What sample() draws when the buffer holds `size` transitions (for a draw made ahead).
  static void sample_from(uint64_t size, Pcg64& rng, size_t batch, uint32_t* indices);

  // add() calls of this object so far (not state: a restore leaves it).
  uint64_t adds() const { return adds_; }
  // Whether any row indices[0..n) has been written by the add() calls since adds() was
  // adds_then (every row, if it has wrapped round since).
  bool written_since(uint64_t adds_then, const uint32_t* indices, size_t n) const;

  size_t size() const { return static_cast<size_t>(size_); }
  size_t capacity() const { return capacity_; }
  size_t obs_dim() const { return obs_dim_; }
  const float* obs(size_t i) const { return &obs_[i * obs_dim_]; }
  const float* next_obs(size_t i) const { return &next_obs_[i * obs_dim_]; }
  int32_t action(size_t i) const { return actions_[i]; }
  const float* cont_action(size_t i) const { return &cont_actions_[i * action_dim_]; }
  float reward(size_t i) const { return rewards_[i]; }
  bool terminated(size_t i) const { return terminated_[i] != 0; }

  // False when restored counters are impossible (a damaged or foreign checkpoint).
  bool consistent() const;

  // Every array plus the write position and fill level, as "<prefix>obs", ...; the arrays
  // say that add() writes them row by row in ring order (TensorRef::rows), so that a saver
  // copies only the transitions added since its last copy.
  void append_tensors(TensorList& out, const std::string& prefix);

 private:
  size_t capacity_, obs_dim_, action_dim_;
  std::vector<float> obs_, next_obs_, cont_actions_, rewards_;
  std::vector<int32_t> actions_;
  std::vector<uint8_t> terminated_;
  uint64_t pos_ = 0, size_ = 0;
  uint64_t adds_ = 0;  // add() calls of this object (not state: a restore leaves it)
  const RowRing rows_{&adds_, &pos_};
};

// Per environment, a queue of its last steps; a transition enters the buffer once its n-step
// window is complete (or its episode ends): reward = sum_k gamma^k r_k (summed in double), the
// observation after the window, and whether the episode terminated inside it (then no
// bootstrap is needed). A window cut short by the time limit would need its own bootstrap
// discount, so it is dropped (at most n - 1 per truncated episode). With n = 1 every step is
// stored as it happens.
class NStepWriter {
 public:
  // action_dim 0 = discrete actions.
  NStepWriter(size_t num_envs, size_t n, size_t obs_dim, size_t action_dim, double gamma);

  // Queues environment e's step (the observation it acted on, the action, the reward) and
  // stores every window it completes. `next_obs` is the observation after the step (the final
  // one when the episode ended).
  void push(size_t e, const float* obs, int32_t action, const float* cont_action, float reward,
            bool terminated, bool truncated, const float* next_obs, ReplayBuffer& buffer);

  // gamma^n as float: the discount of the bootstrap value of a stored window.
  float bootstrap_discount() const { return gamma_n_; }

  // "<prefix>obs" [E, n, obs_dim], "<prefix>action" [E, n] (i32) or [E, n, action_dim] (f32),
  // "<prefix>reward" [E, n], "<prefix>count" [E].
  void append_tensors(TensorList& out, const std::string& prefix);
  // After a restore: between steps queue e holds min(elapsed_steps[e], n - 1) entries, with
  // finite values and actions that `action_ok` accepts. Throws std::runtime_error otherwise.
  void check(const int64_t* elapsed_steps,
             bool (*action_ok)(const void* ctx, int32_t, const float*), const void* ctx) const;

 private:
  void store_window(size_t e, size_t i, const float* next, bool terminated, ReplayBuffer& buffer);
  void pop_oldest(size_t e);

  size_t E_, n_, obs_dim_, action_dim_;
  double gamma_;
  float gamma_n_ = 1;
  // Queue of env e: entries e*n .. e*n + count[e] - 1, oldest first.
  std::vector<float> obs_, reward_, cont_action_;
  std::vector<int32_t> action_;
  std::vector<int64_t> count_;
};

}  // namespace edgerl
