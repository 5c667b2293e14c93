// Pendulum-v1 (pendulum.py): semi-implicit Euler in float64, the cost computed from the state
// before the update, angle_normalize with NumPy's floor modulo. Never terminates.
#include <cmath>

#include "core/detmath.hpp"
#include "env_kind.hpp"

namespace edgerl::detail {
namespace {

struct Pendulum {
  using Action = double;  // the float32 action, widened
  static constexpr size_t kStateDim = 2;
  static constexpr size_t kObsDim = 3;

  static constexpr double kMaxSpeed = 8;
  static constexpr double kMaxTorque = 2.0;
  static constexpr double kDt = 0.05;
  static constexpr double kG = 10.0;
  static constexpr double kM = 1.0;
  static constexpr double kL = 1.0;

  static EnvInfo info() {
    EnvInfo i;
    i.name = "Pendulum-v1";
    i.state_names = {"theta", "theta_dot"};
    i.discrete = false;
    i.action_low = -2.0f;
    i.action_high = 2.0f;
    i.max_episode_steps = 200;
    return i;
  }

  static void observe(const double* s, float* obs) {
    double sin0, cos0;
    detmath::sincos(s[0], &sin0, &cos0);
    obs[0] = static_cast<float>(cos0);
    obs[1] = static_cast<float>(sin0);
    obs[2] = static_cast<float>(s[1]);
  }

  // np_random.uniform(low=[-pi, -1], high=[pi, 1]): two draws in order.
  static void reset(double* s, float* obs, Pcg64& rng) {
    s[0] = rng.uniform(-M_PI, M_PI);
    s[1] = rng.uniform(-1.0, 1.0);
    observe(s, obs);
  }

  static double angle_normalize(double x) { return numpy_floor_mod(x + M_PI, 2 * M_PI) - M_PI; }

  static double step(double* s, double action, float* obs, bool* terminated) {
    const double th = s[0], thdot = s[1];
    // np.clip on the float32 action keeps float32; its square is exact in float64.
    const double u = numpy_clip(action, -kMaxTorque, kMaxTorque);
    const double costs =
        numpy_square(angle_normalize(th)) + 0.1 * numpy_square(thdot) + 0.001 * (u * u);
    double newthdot =
        thdot + (3 * kG / (2 * kL) * detmath::sin(th) + 3.0 / (kM * (kL * kL)) * u) * kDt;
    newthdot = numpy_clip(newthdot, -kMaxSpeed, kMaxSpeed);
    const double newth = th + newthdot * kDt;
    s[0] = newth;
    s[1] = newthdot;
    *terminated = false;
    observe(s, obs);
    return -costs;
  }
};

}  // namespace

const EnvKind& pendulum_kind() {
  static const EnvKind kind = make_kind<Pendulum>();
  return kind;
}

}  // namespace edgerl::detail
