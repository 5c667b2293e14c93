// VecEnv: num_envs environments of one type stepped together with same-step auto-reset. The
// batched loop itself is detail::vec_step<Physics> (env_kind.hpp), one instantiation per
// environment type so its physics inlines; this file owns the buffers and the checks.
#include <cstring>
#include <string>

#include "env_kind.hpp"

namespace edgerl {
namespace {

constexpr size_t kW = Pcg64::kStateWords;

size_t checked_num_envs(size_t n) {
  if (n == 0) throw EnvError("num_envs must be at least 1");
  return n;
}

}  // namespace

VecEnv::VecEnv(const std::string& name, size_t num_envs, uint64_t seed, int64_t max_episode_steps)
    : kind_(&detail::find_kind(name)),
      num_envs_(checked_num_envs(num_envs)),
      max_episode_steps_(detail::resolve_time_limit(*kind_, max_episode_steps)),
      state_(num_envs * kind_->info.state_dim, 0.0),
      obs_(num_envs * kind_->info.obs_dim, 0.0f),
      elapsed_(num_envs, 0),
      episode_return_(num_envs, 0.0),
      rng_(num_envs * kW, 0),
      needs_reset_(num_envs, 1),
      rewards_(num_envs, 0.0f),
      terminated_(num_envs, 0),
      truncated_(num_envs, 0),
      final_obs_(num_envs * kind_->info.obs_dim, 0.0f),
      rng_scratch_(0) {
  completed_.reserve(num_envs);
  for (size_t i = 0; i < num_envs; ++i) {
    const auto w = Pcg64(seed + i).state();
    std::memcpy(&rng_[i * kW], w.data(), sizeof w);
  }
}

VecEnv::VecEnv(const EnvConfig& cfg, size_t num_envs, uint64_t seed)
    : VecEnv(cfg.scenario_name, num_envs, seed, cfg.max_episode_steps) {}

VecEnv::~VecEnv() = default;

const EnvInfo& VecEnv::info() const {
  return kind_->info;
}
size_t VecEnv::obs_dim() const {
  return kind_->info.obs_dim;
}
bool VecEnv::is_discrete() const {
  return kind_->info.discrete;
}
int32_t VecEnv::num_actions() const {
  return kind_->info.num_actions;
}
size_t VecEnv::action_dim() const {
  return kind_->info.action_dim;
}
float VecEnv::action_low() const {
  return kind_->info.action_low;
}
float VecEnv::action_high() const {
  return kind_->info.action_high;
}

const float* VecEnv::reset() {
  const size_t sd = kind_->info.state_dim, od = kind_->info.obs_dim;
  for (size_t i = 0; i < num_envs_; ++i) {
    std::array<uint64_t, kW> w;
    std::memcpy(w.data(), &rng_[i * kW], sizeof w);
    if (!rng_scratch_.set_state(w))
      throw EnvError("environment " + std::to_string(i) +
                     ": invalid random generator state (a corrupt restore?)");
    kind_->reset(&state_[i * sd], &obs_[i * od], rng_scratch_);
    w = rng_scratch_.state();
    std::memcpy(&rng_[i * kW], w.data(), sizeof w);
    elapsed_[i] = 0;
    episode_return_[i] = 0.0;
    needs_reset_[i] = 0;
    rewards_[i] = 0.0f;
    terminated_[i] = 0;
    truncated_[i] = 0;
  }
  completed_.clear();
  return obs_.data();
}

const float* VecEnv::reset(uint64_t seed) {
  for (size_t i = 0; i < num_envs_; ++i) {
    const auto w = Pcg64(seed + i).state();
    std::memcpy(&rng_[i * kW], w.data(), sizeof w);
  }
  return reset();
}

void VecEnv::check_ready() const {
  for (size_t i = 0; i < num_envs_; ++i)
    if (needs_reset_[i])
      throw EnvError(kind_->info.name + ": VecEnv::step() needs a reset() first");
}

detail::VecBatch VecEnv::batch() {
  return detail::VecBatch{num_envs_,         max_episode_steps_, state_.data(),
                          obs_.data(),       elapsed_.data(),    episode_return_.data(),
                          rng_.data(),       rewards_.data(),    terminated_.data(),
                          truncated_.data(), final_obs_.data(),  &completed_,
                          &rng_scratch_};
}

void VecEnv::step(const int32_t* actions) {
  const EnvInfo& info = kind_->info;
  if (!info.discrete) throw EnvError(info.name + " takes continuous (float) actions");
  check_ready();
  for (size_t i = 0; i < num_envs_; ++i)
    if (actions[i] < 0 || actions[i] >= info.num_actions)
      throw EnvError(info.name + ": action " + std::to_string(actions[i]) + " of environment " +
                     std::to_string(i) + " is outside 0.." + std::to_string(info.num_actions - 1));
  kind_->vec_step_discrete(batch(), actions);
}

void VecEnv::step(const float* actions) {
  const EnvInfo& info = kind_->info;
  if (info.discrete) throw EnvError(info.name + " takes discrete (int32) actions");
  check_ready();
  kind_->vec_step_continuous(batch(), actions);
}

TensorList VecEnv::tensors(const std::string& prefix) {
  const uint64_t n = num_envs_, sd = kind_->info.state_dim, od = kind_->info.obs_dim;
  return {tensor_ref(prefix + "state", state_.data(), {n, sd}),
          tensor_ref(prefix + "obs", obs_.data(), {n, od}),
          tensor_ref(prefix + "elapsed_steps", elapsed_.data(), {n}),
          tensor_ref(prefix + "episode_return", episode_return_.data(), {n}),
          tensor_ref(prefix + "rng", rng_.data(), {n, uint64_t{kW}}),
          tensor_ref(prefix + "needs_reset", needs_reset_.data(), {n})};
}

void VecEnv::check_state() const {
  const std::string& name = kind_->info.name;
  for (size_t i = 0; i < num_envs_; ++i) {
    const std::string where = name + " environment " + std::to_string(i) + ": ";
    std::array<uint64_t, kW> w;
    std::memcpy(w.data(), &rng_[i * kW], sizeof w);
    if (!Pcg64(0).set_state(w)) throw EnvError(where + "invalid random generator state");
    if (elapsed_[i] < 0 || elapsed_[i] >= max_episode_steps_)
      throw EnvError(where + "step counter " + std::to_string(elapsed_[i]) + " is outside 0.." +
                     std::to_string(max_episode_steps_ - 1) +
                     " (saved with a different max_episode_steps?)");
    if (needs_reset_[i] > 1)
      throw EnvError(where + "needs_reset flag is " + std::to_string(needs_reset_[i]) +
                     ", not 0 or 1");
  }
}

}  // namespace edgerl
