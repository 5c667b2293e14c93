#include "learners/replay_buffer.hpp"

#include <algorithm>
#include <stdexcept>

namespace edgerl {

ReplayBuffer::ReplayBuffer(size_t capacity, size_t obs_dim, size_t action_dim)
    : capacity_(capacity),
      obs_dim_(obs_dim),
      action_dim_(action_dim),
      obs_(capacity * obs_dim),
      next_obs_(capacity * obs_dim),
      cont_actions_(capacity * action_dim),
      rewards_(capacity),
      actions_(action_dim == 0 ? capacity : 0),
      terminated_(capacity) {
  if (capacity == 0) throw std::invalid_argument("replay buffer capacity must be positive");
}

void ReplayBuffer::add(const float* obs, const float* next_obs, int32_t action,
                       const float* cont_action, float reward, bool terminated) {
  const size_t i = static_cast<size_t>(pos_);
  std::copy(obs, obs + obs_dim_, &obs_[i * obs_dim_]);
  std::copy(next_obs, next_obs + obs_dim_, &next_obs_[i * obs_dim_]);
  if (action_dim_ == 0)
    actions_[i] = action;
  else
    std::copy(cont_action, cont_action + action_dim_, &cont_actions_[i * action_dim_]);
  rewards_[i] = reward;
  terminated_[i] = terminated ? 1 : 0;
  pos_ = (pos_ + 1) % capacity_;
  if (size_ < capacity_) ++size_;
}

void ReplayBuffer::sample(Pcg64& rng, size_t batch, uint32_t* indices) const {
  if (size_ == 0) throw std::logic_error("sampling from an empty replay buffer");
  for (size_t b = 0; b < batch; ++b) indices[b] = static_cast<uint32_t>(rng.below(size_));
}

bool ReplayBuffer::consistent() const {
  return pos_ < capacity_ && size_ <= capacity_ && (size_ == capacity_ || pos_ == size_);
}

void ReplayBuffer::append_tensors(TensorList& out, const std::string& prefix) {
  const uint64_t cap = capacity_;
  out.push_back(tensor_ref(prefix + "obs", obs_.data(), {cap, obs_dim_}));
  out.push_back(tensor_ref(prefix + "next_obs", next_obs_.data(), {cap, obs_dim_}));
  if (action_dim_ == 0)
    out.push_back(tensor_ref(prefix + "action", actions_.data(), {cap}));
  else
    out.push_back(tensor_ref(prefix + "action", cont_actions_.data(), {cap, action_dim_}));
  out.push_back(tensor_ref(prefix + "reward", rewards_.data(), {cap}));
  out.push_back(tensor_ref(prefix + "terminated", terminated_.data(), {cap}));
  out.push_back(tensor_ref(prefix + "pos", &pos_, {}));
  out.push_back(tensor_ref(prefix + "size", &size_, {}));
}

}  // namespace edgerl
