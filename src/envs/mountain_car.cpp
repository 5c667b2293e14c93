// MountainCar-v0 (mountain_car.py) and MountainCarContinuous-v0 (continuous_mountain_car.py).
// Both integrate in float64 with math.cos (detmath::cos here, correctly rounded: see
// docs/environments.md). The discrete one keeps a float64 state; the continuous one stores its
// state as float32 after every step (computing in float64 from the float32 values, as NumPy 1.x
// promotes float32 scalars mixed with Python floats).
#include <cmath>

#include "core/detmath.hpp"
#include "env_kind.hpp"

namespace edgerl::detail {
namespace {

constexpr double kMinPosition = -1.2;
constexpr double kMaxPosition = 0.6;
constexpr double kMaxSpeed = 0.07;

void observe_car(const double* s, float* obs) {
  obs[0] = static_cast<float>(s[0]);
  obs[1] = static_cast<float>(s[1]);
}

// np.array([np_random.uniform(low=-0.6, high=-0.4), 0]).
void reset_car(double* s, float* obs, Pcg64& rng) {
  s[0] = rng.uniform(-0.6, -0.4);
  s[1] = 0.0;
  observe_car(s, obs);
}

struct MountainCar {
  using Action = int32_t;
  static constexpr size_t kStateDim = 2;
  static constexpr size_t kObsDim = 2;
  static constexpr double kGoalPosition = 0.5;
  static constexpr double kForce = 0.001;
  static constexpr double kGravity = 0.0025;

  static EnvInfo info() {
    EnvInfo i;
    i.name = "MountainCar-v0";
    i.state_names = {"position", "velocity"};
    i.discrete = true;
    i.num_actions = 3;
    i.max_episode_steps = 200;
    return i;
  }

  static void observe(const double* s, float* obs) { observe_car(s, obs); }
  static void reset(double* s, float* obs, Pcg64& rng) { reset_car(s, obs, rng); }

  static double step(double* s, int32_t action, float* obs, bool* terminated) {
    double position = s[0], velocity = s[1];
    velocity += (action - 1) * kForce + detmath::cos(3 * position) * (-kGravity);
    velocity = numpy_clip(velocity, -kMaxSpeed, kMaxSpeed);
    position += velocity;
    position = numpy_clip(position, kMinPosition, kMaxPosition);
    if (position == kMinPosition && velocity < 0) velocity = 0;
    *terminated = position >= kGoalPosition && velocity >= 0;
    s[0] = position;
    s[1] = velocity;
    observe_car(s, obs);
    return -1.0;
  }
};

struct MountainCarContinuous {
  using Action = double;  // the float32 action, widened
  static constexpr size_t kStateDim = 2;
  static constexpr size_t kObsDim = 2;
  static constexpr double kMinAction = -1.0;
  static constexpr double kMaxAction = 1.0;
  static constexpr double kGoalPosition = 0.45;
  static constexpr double kPower = 0.0015;

  static EnvInfo info() {
    EnvInfo i;
    i.name = "MountainCarContinuous-v0";
    i.state_names = {"position", "velocity"};
    i.discrete = false;
    i.action_low = -1.0f;
    i.action_high = 1.0f;
    i.max_episode_steps = 999;
    return i;
  }

  static void observe(const double* s, float* obs) { observe_car(s, obs); }
  static void reset(double* s, float* obs, Pcg64& rng) { reset_car(s, obs, rng); }

  static double step(double* s, double action, float* obs, bool* terminated) {
    double position = s[0], velocity = s[1];
    const double lower = kMinAction > action ? kMinAction : action;  // Python's max(a, -1)
    const double force = kMaxAction < lower ? kMaxAction : lower;    // Python's min(., 1)
    velocity += force * kPower - 0.0025 * detmath::cos(3 * position);
    if (velocity > kMaxSpeed) velocity = kMaxSpeed;
    if (velocity < -kMaxSpeed) velocity = -kMaxSpeed;
    position += velocity;
    if (position > kMaxPosition) position = kMaxPosition;
    if (position < kMinPosition) position = kMinPosition;
    if (position == kMinPosition && velocity < 0) velocity = 0;
    *terminated = position >= kGoalPosition && velocity >= 0;
    // The reward uses the unclipped action; math.pow(a, 2) of a float32 value is exact.
    const double reward = (*terminated ? 100.0 : 0.0) - action * action * 0.1;
    s[0] = static_cast<float>(position);
    s[1] = static_cast<float>(velocity);
    observe_car(s, obs);
    return reward;
  }
};

}  // namespace

const EnvKind& mountain_car_kind() {
  static const EnvKind kind = make_kind<MountainCar>();
  return kind;
}

const EnvKind& mountain_car_continuous_kind() {
  static const EnvKind kind = make_kind<MountainCarContinuous>();
  return kind;
}

}  // namespace edgerl::detail
