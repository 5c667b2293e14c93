// learners/rollout: an on-policy learner's storage for one rollout of T steps of E
// environments, rows laid out [t][e]: what the policy saw and did, what GAE needs, and what it
// gives. It lists itself as tensors (for inspection and tests; a checkpoint is taken between
// updates, when a rollout holds nothing that is still needed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/tensor.hpp"

namespace edgerl {

struct Rollout {
  // action_dim 0: one discrete action per step (actions_i); else that many floats (actions_f).
  Rollout(size_t steps, size_t envs, size_t obs_dim, size_t action_dim)
      : T(steps),
        E(envs),
        obs_dim(obs_dim),
        action_dim(action_dim),
        obs(steps * envs * obs_dim),
        actions_f(steps * envs * action_dim),
        actions_i(action_dim == 0 ? steps * envs : 0),
        log_probs(steps * envs),
        values(steps * envs),
        next_values(steps * envs),
        rewards(steps * envs),
        terminated(steps * envs),
        truncated(steps * envs),
        advantages(steps * envs),
        returns(steps * envs) {}

  size_t size() const { return T * E; }
  // Where the time limit cut an episode (GAE bootstraps from its final observation there).
  bool truncated_only(size_t i) const { return truncated[i] && !terminated[i]; }

  // "<prefix>obs" [T, E, obs_dim], "<prefix>action", "<prefix>log_prob", "<prefix>value",
  // "<prefix>next_value", "<prefix>reward", "<prefix>terminated", "<prefix>truncated",
  // "<prefix>advantage", "<prefix>return" [T, E].
  void append_tensors(TensorList& out, const std::string& prefix) {
    out.push_back(tensor_ref(prefix + "obs", obs.data(), {T, E, obs_dim}));
    if (action_dim == 0)
      out.push_back(tensor_ref(prefix + "action", actions_i.data(), {T, E}));
    else
      out.push_back(tensor_ref(prefix + "action", actions_f.data(), {T, E, action_dim}));
    out.push_back(tensor_ref(prefix + "log_prob", log_probs.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "value", values.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "next_value", next_values.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "reward", rewards.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "terminated", terminated.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "truncated", truncated.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "advantage", advantages.data(), {T, E}));
    out.push_back(tensor_ref(prefix + "return", returns.data(), {T, E}));
  }

  const size_t T, E, obs_dim, action_dim;
  std::vector<float> obs, actions_f;
  std::vector<int32_t> actions_i;
  std::vector<float> log_probs, values, next_values, rewards;
  std::vector<uint8_t> terminated, truncated;
  std::vector<float> advantages, returns;
};

}  // namespace edgerl
