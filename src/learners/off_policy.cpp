#include "learners/off_policy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/memory.hpp"

namespace edgerl {

void check_off_policy_settings(const OffPolicySettings& o, const ArchConfig& a,
                               const std::string& frequency_key) {
  if (o.total_batch_size > o.total_buffer_size)
    throw ConfigError("system.total_batch_size = " + std::to_string(o.total_batch_size) +
                      " exceeds system.total_buffer_size = " + std::to_string(o.total_buffer_size));
  const int64_t per_eval = a.num_envs * o.train_frequency * a.num_evaluation;
  if (a.num_updates == 0 && a.total_timesteps < per_eval)
    throw ConfigError("arch.total_timesteps = " + std::to_string(a.total_timesteps) +
                      " is less than one update per evaluation (arch.num_envs * " + frequency_key +
                      " * arch.num_evaluation = " + std::to_string(per_eval) + ")");
}
namespace {

// total_buffer_size, after checking that the replay buffer fits in memory before it is
// allocated: its bytes, and with checkpoints three times more (the saver's copy of the state,
// the deflated chunks it keeps, and the encoded file).
size_t checked_capacity(const Config& cfg, const OffPolicySettings& s, size_t obs_dim,
                        size_t action_dim) {
  const uint64_t capacity = static_cast<uint64_t>(s.total_buffer_size);
  const uint64_t per_transition = 2 * obs_dim * 4 + (action_dim ? action_dim * 4 : 4) + 4 + 1;
  const uint64_t buffer = capacity * per_transition;
  const uint64_t copies = cfg.checkpointing.save_model ? 4 : 1;
  const uint64_t available = available_memory_bytes();
  if (available > 0 && buffer * copies > available)
    throw ConfigError("system.total_buffer_size = " + std::to_string(capacity) + " needs " +
                      memory_size(buffer * copies) + " (" + std::to_string(buffer * copies) +
                      " bytes: " + memory_size(buffer) + " of replay buffer" +
                      (copies > 1 ? ", three times more for checkpoints" : "") +
                      "), but this machine has " + memory_size(available) + " available: lower it");
  return static_cast<size_t>(capacity);
}

}  // namespace

OffPolicyLearner::OffPolicyLearner(const Config& cfg, const OffPolicySettings& s)
    : settings_(s),
      env_(cfg.env, static_cast<size_t>(cfg.arch.num_envs), cfg.arch.seed),
      E_(static_cast<size_t>(cfg.arch.num_envs)),
      obs_dim_(env_.obs_dim()),
      action_dim_(env_.is_discrete() ? 0 : env_.action_dim()),
      buffer_(checked_capacity(cfg, s, obs_dim_, action_dim_), obs_dim_, action_dim_),
      nstep_(E_, static_cast<size_t>(s.n_step), obs_dim_, action_dim_, s.gamma),
      obs_(E_ * obs_dim_),
      actions_f_(E_ * action_dim_),
      actions_i_(E_) {
  steps_per_update_ = static_cast<int64_t>(E_) * s.train_frequency;
  plan(cfg.arch.num_updates > 0 ? cfg.arch.num_updates
                                : cfg.arch.total_timesteps / steps_per_update_,
       cfg.arch.num_evaluation);
  env_.reset();
}

// One update: train_frequency vector steps, then (after warm-up) `epochs` gradient steps.
void OffPolicyLearner::update() {
  const size_t batch = static_cast<size_t>(settings_.total_batch_size);
  for (int64_t k = 0; k < settings_.train_frequency; ++k) step_envs();
  if (counters_.timestep >= settings_.warmup_steps && buffer_.size() >= batch) {
    for (int64_t epoch = 0; epoch < settings_.epochs; ++epoch) {
      grad_steps_ += 1;
      gradient_step(epoch);
    }
  }
}

size_t OffPolicyLearner::next_buffer_size(int64_t epoch) const {
  if (epoch + 1 < settings_.epochs) return buffer_.size();
  const uint64_t added = static_cast<uint64_t>(steps_per_update_);
  return static_cast<size_t>(
      std::min<uint64_t>(buffer_.capacity(), static_cast<uint64_t>(buffer_.size()) + added));
}

// One vector step with the behaviour policy; every transition goes through the n-step writer
// with its true next observation (the final one where the episode ended).
void OffPolicyLearner::step_envs() {
  std::copy(env_.obs(), env_.obs() + E_ * obs_dim_, obs_.begin());
  behave(obs_.data(), actions_i_.data(), actions_f_.data());
  if (action_dim_ == 0)
    env_.step(actions_i_.data());
  else
    env_.step(actions_f_.data());
  for (size_t e = 0; e < E_; ++e) {
    const bool terminated = env_.terminated()[e] != 0, truncated = env_.truncated()[e] != 0;
    const float* next = (terminated || truncated ? env_.final_obs() : env_.obs()) + e * obs_dim_;
    nstep_.push(e, &obs_[e * obs_dim_], actions_i_[e],
                action_dim_ ? &actions_f_[e * action_dim_] : nullptr, env_.rewards()[e], terminated,
                truncated, next, buffer_);
  }
  for (const EpisodeStats& ep : env_.completed())
    interval_act()
        .append("episode_return", ep.ret)
        .append("episode_length", static_cast<double>(ep.length));
  counters_.timestep += static_cast<int64_t>(E_);
}

void OffPolicyLearner::append_tensors(TensorList& out) {
  append_model_tensors(out);
  buffer_.append_tensors(out, "buffer/");
  nstep_.append_tensors(out, "nstep/");
  append_stream_tensors(out);
  for (TensorRef& t : env_.tensors("env/")) out.push_back(std::move(t));
  append_counter_tensors(out);
  out.push_back(tensor_ref("counters/grad_steps", &grad_steps_, {}));
}

bool OffPolicyLearner::action_ok(int32_t discrete, const float* continuous) const {
  if (action_dim_ == 0) return discrete >= 0 && discrete < env_.num_actions();
  for (size_t d = 0; d < action_dim_; ++d)
    if (!(continuous[d] >= env_.action_low() && continuous[d] <= env_.action_high())) return false;
  return true;
}

void OffPolicyLearner::after_restore() {
  check_restored();
  if (!buffer_.consistent()) throw std::runtime_error("buffer/pos or buffer/size is impossible");
  for (size_t i = 0; i < buffer_.size(); ++i)
    if (!action_ok(action_dim_ == 0 ? buffer_.action(i) : 0,
                   action_dim_ == 0 ? nullptr : buffer_.cont_action(i)))
      throw std::runtime_error("buffer/action holds an action outside the action space");
  env_.check_state();
  nstep_.check(
      env_.elapsed_steps(),
      [](const void* self, int32_t a, const float* c) {
        return static_cast<const OffPolicyLearner*>(self)->action_ok(a, c);
      },
      this);
  check_counters(0);
  if (counters_.timestep != counters_.update * steps_per_update_ || grad_steps_ < 0 ||
      grad_steps_ > counters_.update * settings_.epochs)
    throw std::runtime_error("counters do not fit together");
}

}  // namespace edgerl
