// CartPole-v1 (gymnasium/envs/classic_control/cartpole.py): Euler integration in float64,
// float32 observations of the float64 state, reward 1 on every step including the last.
#include <cmath>

#include "core/detmath.hpp"
#include "env_kind.hpp"

namespace edgerl::detail {
namespace {

struct CartPole {
  using Action = int32_t;
  static constexpr size_t kStateDim = 4;
  static constexpr size_t kObsDim = 4;

  static constexpr double kGravity = 9.8;
  static constexpr double kMassCart = 1.0;
  static constexpr double kMassPole = 0.1;
  static constexpr double kTotalMass = kMassPole + kMassCart;
  static constexpr double kLength = 0.5;  // half the pole's length
  static constexpr double kPoleMassLength = kMassPole * kLength;
  static constexpr double kForceMag = 10.0;
  static constexpr double kTau = 0.02;
  static constexpr double kThetaThreshold = 12 * 2 * M_PI / 360;
  static constexpr double kXThreshold = 2.4;

  static EnvInfo info() {
    EnvInfo i;
    i.name = "CartPole-v1";
    i.state_names = {"x", "x_dot", "theta", "theta_dot"};
    i.discrete = true;
    i.num_actions = 2;
    i.max_episode_steps = 500;
    return i;
  }

  static void observe(const double* s, float* obs) {
    for (size_t j = 0; j < kStateDim; ++j) obs[j] = static_cast<float>(s[j]);
  }

  // One np_random.uniform(-0.05, 0.05, size=4) call: four draws in order.
  static void reset(double* s, float* obs, Pcg64& rng) {
    for (size_t j = 0; j < kStateDim; ++j) s[j] = rng.uniform(-0.05, 0.05);
    observe(s, obs);
  }

  static double step(double* s, int32_t action, float* obs, bool* terminated) {
    const double x = s[0], x_dot = s[1], theta = s[2], theta_dot = s[3];
    const double force = action == 1 ? kForceMag : -kForceMag;
    double sintheta, costheta;
    detmath::sincos(theta, &sintheta, &costheta);  // correctly rounded, docs/environments.md
    const double temp = (force + kPoleMassLength * (theta_dot * theta_dot) * sintheta) / kTotalMass;
    const double thetaacc =
        (kGravity * sintheta - costheta * temp) /
        (kLength * (4.0 / 3.0 - kMassPole * (costheta * costheta) / kTotalMass));
    const double xacc = temp - kPoleMassLength * thetaacc * costheta / kTotalMass;
    // Euler: every update uses the values from before the step.
    s[0] = x + kTau * x_dot;
    s[1] = x_dot + kTau * xacc;
    s[2] = theta + kTau * theta_dot;
    s[3] = theta_dot + kTau * thetaacc;
    *terminated = s[0] < -kXThreshold || s[0] > kXThreshold || s[2] < -kThetaThreshold ||
                  s[2] > kThetaThreshold;
    observe(s, obs);
    return 1.0;
  }
};

}  // namespace

const EnvKind& cartpole_kind() {
  static const EnvKind kind = make_kind<CartPole>();
  return kind;
}

}  // namespace edgerl::detail
