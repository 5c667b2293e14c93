// Env: one environment with Gymnasium's reset/step contract and its TimeLimit.
#include <cmath>
#include <cstring>
#include <string>

#include "env_kind.hpp"

namespace edgerl {
namespace detail {

int64_t resolve_time_limit(const EnvKind& kind, int64_t max_episode_steps) {
  if (max_episode_steps < 0)
    throw EnvError("max_episode_steps must be >= 0 (0 = Gymnasium's limit), got " +
                   std::to_string(max_episode_steps));
  return max_episode_steps == 0 ? kind.info.max_episode_steps : max_episode_steps;
}

}  // namespace detail

Env::Env(const std::string& name, int64_t max_episode_steps)
    : kind_(&detail::find_kind(name)),
      max_episode_steps_(detail::resolve_time_limit(*kind_, max_episode_steps)),
      rng_scratch_(0),
      state_(kind_->info.state_dim, 0.0),
      obs_(kind_->info.obs_dim, 0.0f) {
  const auto w = rng_scratch_.state();
  std::memcpy(rng_, w.data(), sizeof rng_);
}

Env::Env(const EnvConfig& cfg) : Env(cfg.scenario_name, cfg.max_episode_steps) {}

Env::~Env() = default;

const EnvInfo& Env::info() const {
  return kind_->info;
}

void Env::reset(uint64_t seed) {
  const auto w = Pcg64(seed).state();
  std::memcpy(rng_, w.data(), sizeof rng_);
  reset();
}

void Env::reset() {
  std::array<uint64_t, Pcg64::kStateWords> w;
  std::memcpy(w.data(), rng_, sizeof rng_);
  if (!rng_scratch_.set_state(w))
    throw EnvError(kind_->info.name + ": invalid random generator state (a corrupt restore?)");
  kind_->reset(state_.data(), obs_.data(), rng_scratch_);
  w = rng_scratch_.state();
  std::memcpy(rng_, w.data(), sizeof rng_);
  elapsed_ = 0;
  needs_reset_ = 0;
}

namespace {

Env::Step finish_step(double reward, bool terminated, int64_t& elapsed, int64_t limit,
                      uint8_t& needs_reset) {
  Env::Step s;
  s.reward = reward;
  s.terminated = terminated;
  s.truncated = ++elapsed >= limit;
  if (s.terminated || s.truncated) needs_reset = 1;
  return s;
}

}  // namespace

Env::Step Env::step(int32_t action) {
  const EnvInfo& info = kind_->info;
  if (!info.discrete)
    throw EnvError(info.name + " takes continuous actions, got the integer action " +
                   std::to_string(action));
  if (needs_reset_) throw EnvError(info.name + ": step() needs a reset() first");
  if (action < 0 || action >= info.num_actions)
    throw EnvError(info.name + ": action " + std::to_string(action) + " is outside 0.." +
                   std::to_string(info.num_actions - 1));
  bool terminated = false;
  const double reward = kind_->step_discrete(state_.data(), action, obs_.data(), &terminated);
  return finish_step(reward, terminated, elapsed_, max_episode_steps_, needs_reset_);
}

Env::Step Env::step(float action) {
  const EnvInfo& info = kind_->info;
  if (info.discrete)
    throw EnvError(info.name + " takes discrete actions 0.." +
                   std::to_string(info.num_actions - 1) + ", got a continuous action");
  if (needs_reset_) throw EnvError(info.name + ": step() needs a reset() first");
  if (!std::isfinite(action)) throw EnvError(info.name + ": the action is not a finite number");
  bool terminated = false;
  const double reward = kind_->step_continuous(state_.data(), action, obs_.data(), &terminated);
  return finish_step(reward, terminated, elapsed_, max_episode_steps_, needs_reset_);
}

void Env::set_state(const double* values) {
  std::memcpy(state_.data(), values, state_.size() * sizeof(double));
  kind_->observe(state_.data(), obs_.data());
}

TensorList Env::tensors(const std::string& prefix) {
  const uint64_t sd = state_.size(), od = obs_.size();
  return {tensor_ref(prefix + "state", state_.data(), {sd}),
          tensor_ref(prefix + "obs", obs_.data(), {od}),
          tensor_ref(prefix + "elapsed_steps", &elapsed_, {1}),
          tensor_ref(prefix + "rng", rng_, {Pcg64::kStateWords}),
          tensor_ref(prefix + "needs_reset", &needs_reset_, {1})};
}

}  // namespace edgerl
