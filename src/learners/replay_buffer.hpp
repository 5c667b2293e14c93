// replay_buffer: a fixed-capacity ring of transitions in flat arrays (so it is saved and
// restored as tensors like every other piece of learner state), with uniform sampling.
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

  // Adds one transition; next_obs is the true next observation (the final one when the
  // episode ended), terminated says whether to bootstrap from it.
  void add(const float* obs, const float* next_obs, int32_t action, const float* cont_action,
           float reward, bool terminated);

  // Draws `batch` indices uniformly (with replacement) from the stored transitions.
  void sample(Pcg64& rng, size_t batch, uint32_t* indices) const;

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

  // Every array plus the write position and fill level, as "<prefix>obs", ...
  void append_tensors(TensorList& out, const std::string& prefix);

 private:
  size_t capacity_, obs_dim_, action_dim_;
  std::vector<float> obs_, next_obs_, cont_actions_, rewards_;
  std::vector<int32_t> actions_;
  std::vector<uint8_t> terminated_;
  uint64_t pos_ = 0, size_ = 0;
};

}  // namespace edgerl
