// Internal to the envs module: what one environment type provides (its physics as static
// functions of a plain float64 state array), the numeric helpers that reproduce NumPy's
// arithmetic, and the batched step loop that VecEnv runs, instantiated per environment so the
// physics inlines into it.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "edgerl/envs.hpp"
#include "edgerl/rng.hpp"

namespace edgerl::detail {

// `x ** 2` of a float64 (Pendulum's cost, Acrobot's dtheta^2 and d2^2): x*x, the correctly
// rounded square. NumPy evaluates it with libm's pow(), which is not always x*x rounded once:
// glibc's pow is accurate to about 0.52 ulp, so where the exact square lies close to half-way
// between two doubles it may round the other way (in about 1 of 1000 random squares), and its
// FMA and non-FMA builds differ. Same bits everywhere matter more here than reproducing those
// rare misroundings, so Gymnasium under NumPy and edgerl can differ by an ulp there.
inline double numpy_square(double x) {
  return x * x;
}

// NumPy's float64 `a % b` (npy_divmod): fmod, then moved into b's sign as Python does.
// fmod is exact, and fmod(a, b) == a whenever |a| < |b|, which skips the libm call then.
inline double numpy_floor_mod(double a, double b) {
  double mod = std::fabs(a) < std::fabs(b) ? a : std::fmod(a, b);
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

// numpy.clip on a float64 scalar: min(max(x, lo), hi).
inline double numpy_clip(double x, double lo, double hi) {
  const double m = x < lo ? lo : x;
  return m > hi ? hi : m;
}

// The arrays of a VecEnv, as the batched step loop sees them.
struct VecBatch {
  size_t n;
  int64_t max_steps;
  double* state;
  float* obs;
  int64_t* elapsed;
  double* episode_return;
  uint64_t* rng;
  float* rewards;
  uint8_t* terminated;
  uint8_t* truncated;
  float* final_obs;
  std::vector<EpisodeStats>* completed;  // capacity n, so push_back never allocates
  Pcg64* rng_scratch;
};

// One environment type. Physics functions work on one environment's float64 state.
struct EnvKind {
  EnvInfo info;
  // Draws the initial state from rng as Gymnasium's reset() does; writes its observation.
  void (*reset)(double* state, float* obs, Pcg64& rng);
  // The observation of a float64 state.
  void (*observe)(const double* state, float* obs);
  // One step; returns Gymnasium's reward. Exactly one of the two is set.
  double (*step_discrete)(double* state, int32_t action, float* obs, bool* terminated);
  double (*step_continuous)(double* state, double action, float* obs, bool* terminated);
  // One step of every environment in the batch, with same-step auto-reset.
  void (*vec_step_discrete)(const VecBatch& b, const int32_t* actions);
  void (*vec_step_continuous)(const VecBatch& b, const float* actions);
};

// Loads environment i's generator words into the scratch generator, or throws.
inline Pcg64& load_rng(const VecBatch& b, size_t i) {
  std::array<uint64_t, Pcg64::kStateWords> w;
  std::memcpy(w.data(), b.rng + i * Pcg64::kStateWords, sizeof w);
  if (!b.rng_scratch->set_state(w))
    throw EnvError("environment " + std::to_string(i) +
                   ": invalid random generator state (a corrupt restored state?)");
  return *b.rng_scratch;
}

inline void store_rng(const VecBatch& b, size_t i) {
  const auto w = b.rng_scratch->state();
  std::memcpy(b.rng + i * Pcg64::kStateWords, w.data(), sizeof w);
}

template <class P>
void vec_reset_one(const VecBatch& b, size_t i) {
  P::reset(b.state + i * P::kStateDim, b.obs + i * P::kObsDim, load_rng(b, i));
  store_rng(b, i);
  b.elapsed[i] = 0;
  b.episode_return[i] = 0.0;
}

template <class P, class In>
void vec_step(const VecBatch& b, const In* actions) {
  b.completed->clear();
  for (size_t i = 0; i < b.n; ++i) {
    float* obs = b.obs + i * P::kObsDim;
    bool terminated = false;
    const double reward = P::step(b.state + i * P::kStateDim,
                                  static_cast<typename P::Action>(actions[i]), obs, &terminated);
    const int64_t t = ++b.elapsed[i];
    const bool truncated = t >= b.max_steps;
    const double ret = b.episode_return[i] + reward;
    b.episode_return[i] = ret;
    b.rewards[i] = static_cast<float>(reward);
    b.terminated[i] = terminated;
    b.truncated[i] = truncated;
    if (terminated || truncated) {
      std::memcpy(b.final_obs + i * P::kObsDim, obs, P::kObsDim * sizeof(float));
      b.completed->push_back(EpisodeStats{i, ret, t, terminated});
      vec_reset_one<P>(b, i);
    }
  }
}

template <class P>
double step_one(double* state, typename P::Action action, float* obs, bool* terminated) {
  return P::step(state, action, obs, terminated);
}

// The EnvKind of a physics type P (see cartpole.cpp for the shape of P).
template <class P>
EnvKind make_kind() {
  EnvKind k{};
  k.info = P::info();
  k.info.obs_dim = P::kObsDim;
  k.info.state_dim = P::kStateDim;
  k.reset = &P::reset;
  k.observe = &P::observe;
  if constexpr (std::is_same_v<typename P::Action, int32_t>) {
    k.step_discrete = &step_one<P>;
    k.vec_step_discrete = &vec_step<P, int32_t>;
  } else {
    k.step_continuous = &step_one<P>;
    k.vec_step_continuous = &vec_step<P, float>;
  }
  return k;
}

// The registered environment types (one function per src/envs/<env>.cpp).
const EnvKind& cartpole_kind();
const EnvKind& acrobot_kind();
const EnvKind& mountain_car_kind();
const EnvKind& mountain_car_continuous_kind();
const EnvKind& pendulum_kind();

// max_episode_steps 0 -> the kind's Gymnasium limit; negative -> EnvError.
int64_t resolve_time_limit(const EnvKind& kind, int64_t max_episode_steps);

// NumPy's float32 cos and sin as computed on CPUs with FMA (acrobot.cpp).
float numpy_cos_f32(float x);
float numpy_sin_f32(float x);

// The kind registered under `name`, or EnvError listing the valid names.
const EnvKind& find_kind(const std::string& name);

}  // namespace edgerl::detail
