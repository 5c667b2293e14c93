#include "learners/replay_buffer.hpp"

#include <algorithm>
#include <cmath>
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
  ++adds_;
}

void ReplayBuffer::sample(Pcg64& rng, size_t batch, uint32_t* indices) const {
  if (size_ == 0) throw std::logic_error("sampling from an empty replay buffer");
  sample_from(size_, rng, batch, indices);
}

void ReplayBuffer::sample_from(uint64_t size, Pcg64& rng, size_t batch, uint32_t* indices) {
  for (size_t b = 0; b < batch; ++b) indices[b] = static_cast<uint32_t>(rng.below(size));
}

bool ReplayBuffer::written_since(uint64_t adds_then, const uint32_t* indices, size_t n) const {
  const uint64_t written = adds_ - adds_then;
  if (written == 0) return false;
  if (written >= capacity_) return true;
  // The last `written` rows before pos_, in ring order: row i was written iff it lies within
  // `written` rows behind pos_. That distance, pos_ + capacity_ - 1 - i, lies in
  // [0, 2 capacity_ - 1) for i, pos_ < capacity_, so one subtraction reduces it (no division).
  bool any = false;
  for (size_t b = 0; b < n; ++b) {
    uint64_t back = pos_ + capacity_ - 1 - indices[b];
    back -= back >= capacity_ ? capacity_ : 0;
    any |= back < written;
  }
  return any;
}

bool ReplayBuffer::consistent() const {
  return pos_ < capacity_ && size_ <= capacity_ && (size_ == capacity_ || pos_ == size_);
}

void ReplayBuffer::append_tensors(TensorList& out, const std::string& prefix) {
  const uint64_t cap = capacity_;
  const size_t first = out.size();
  out.push_back(tensor_ref(prefix + "obs", obs_.data(), {cap, obs_dim_}));
  out.push_back(tensor_ref(prefix + "next_obs", next_obs_.data(), {cap, obs_dim_}));
  if (action_dim_ == 0)
    out.push_back(tensor_ref(prefix + "action", actions_.data(), {cap}));
  else
    out.push_back(tensor_ref(prefix + "action", cont_actions_.data(), {cap, action_dim_}));
  out.push_back(tensor_ref(prefix + "reward", rewards_.data(), {cap}));
  out.push_back(tensor_ref(prefix + "terminated", terminated_.data(), {cap}));
  for (size_t i = first; i < out.size(); ++i) out[i].rows = &rows_;
  out.push_back(tensor_ref(prefix + "pos", &pos_, {}));
  out.push_back(tensor_ref(prefix + "size", &size_, {}));
}

NStepWriter::NStepWriter(size_t num_envs, size_t n, size_t obs_dim, size_t action_dim, double gamma)
    : E_(num_envs),
      n_(n),
      obs_dim_(obs_dim),
      action_dim_(action_dim),
      gamma_(gamma),
      obs_(num_envs * n * obs_dim),
      reward_(num_envs * n),
      cont_action_(num_envs * n * action_dim),
      action_(action_dim == 0 ? num_envs * n : 0),
      count_(num_envs) {
  if (n == 0) throw std::invalid_argument("n-step windows need n >= 1");
  double gn = 1;
  for (size_t k = 0; k < n_; ++k) gn *= gamma_;
  gamma_n_ = static_cast<float>(gn);
}

void NStepWriter::push(size_t e, const float* obs, int32_t action, const float* cont_action,
                       float reward, bool terminated, bool truncated, const float* next_obs,
                       ReplayBuffer& buffer) {
  // Queue the step, then store every window that is complete: the oldest one once it spans n
  // steps; at an episode's end every queued window if the episode terminated (no bootstrap
  // needed), else only a full one.
  const size_t c = static_cast<size_t>(count_[e]), slot = e * n_ + c;
  std::copy(obs, obs + obs_dim_, &obs_[slot * obs_dim_]);
  if (action_dim_ == 0)
    action_[slot] = action;
  else
    std::copy(cont_action, cont_action + action_dim_, &cont_action_[slot * action_dim_]);
  reward_[slot] = reward;
  count_[e] = static_cast<int64_t>(c + 1);
  if (terminated || truncated) {
    for (size_t i = 0; i <= c; ++i)
      if (terminated || i + n_ == c + 1) store_window(e, i, next_obs, terminated, buffer);
    count_[e] = 0;
  } else if (c + 1 == n_) {
    store_window(e, 0, next_obs, false, buffer);
    pop_oldest(e);
  }
}

// Adds queue e's window from entry i to its newest entry to the buffer.
void NStepWriter::store_window(size_t e, size_t i, const float* next, bool terminated,
                               ReplayBuffer& buffer) {
  const size_t end = e * n_ + static_cast<size_t>(count_[e]);
  double ret = 0, discount = 1;
  for (size_t k = e * n_ + i; k < end; ++k) {
    ret += discount * reward_[k];
    discount *= gamma_;
  }
  const size_t first = e * n_ + i;
  buffer.add(&obs_[first * obs_dim_], next, action_dim_ == 0 ? action_[first] : 0,
             action_dim_ == 0 ? nullptr : &cont_action_[first * action_dim_],
             static_cast<float>(ret), terminated);
}

void NStepWriter::pop_oldest(size_t e) {
  const size_t b = e * n_, c = static_cast<size_t>(count_[e]);
  std::copy(&obs_[(b + 1) * obs_dim_], &obs_[(b + c) * obs_dim_], &obs_[b * obs_dim_]);
  if (action_dim_ == 0)
    std::copy(&action_[b + 1], &action_[b + c], &action_[b]);
  else
    std::copy(&cont_action_[(b + 1) * action_dim_], &cont_action_[(b + c) * action_dim_],
              &cont_action_[b * action_dim_]);
  std::copy(&reward_[b + 1], &reward_[b + c], &reward_[b]);
  count_[e] = static_cast<int64_t>(c - 1);
}

void NStepWriter::append_tensors(TensorList& out, const std::string& prefix) {
  out.push_back(tensor_ref(prefix + "obs", obs_.data(), {E_, n_, obs_dim_}));
  if (action_dim_ == 0)
    out.push_back(tensor_ref(prefix + "action", action_.data(), {E_, n_}));
  else
    out.push_back(tensor_ref(prefix + "action", cont_action_.data(), {E_, n_, action_dim_}));
  out.push_back(tensor_ref(prefix + "reward", reward_.data(), {E_, n_}));
  out.push_back(tensor_ref(prefix + "count", count_.data(), {E_}));
}

void NStepWriter::check(const int64_t* elapsed_steps,
                        bool (*action_ok)(const void* ctx, int32_t, const float*),
                        const void* ctx) const {
  for (size_t e = 0; e < E_; ++e) {
    if (count_[e] != std::min<int64_t>(elapsed_steps[e], static_cast<int64_t>(n_) - 1))
      throw std::runtime_error("nstep/count does not match the environments' step counters");
    for (int64_t i = 0; i < count_[e]; ++i) {
      const size_t k = e * n_ + static_cast<size_t>(i);
      bool ok = std::isfinite(reward_[k]) &&
                action_ok(ctx, action_dim_ == 0 ? action_[k] : 0,
                          action_dim_ == 0 ? nullptr : &cont_action_[k * action_dim_]);
      for (size_t d = 0; d < obs_dim_; ++d) ok = ok && std::isfinite(obs_[k * obs_dim_ + d]);
      if (!ok) throw std::runtime_error("nstep/obs, nstep/action or nstep/reward is impossible");
    }
  }
}

}  // namespace edgerl
