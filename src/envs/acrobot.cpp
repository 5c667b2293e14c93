// Acrobot-v1 (gymnasium/envs/classic_control/acrobot.py), "book" dynamics: one classic RK4
// step of dt = 0.2 s, angles wrapped to [-pi, pi], velocities clipped. The initial state is
// drawn in float64 and stored as float32 (so the first observation is computed by NumPy's
// float32 sin/cos); every later state is float64.
#include <cmath>

#include "core/detmath.hpp"
#include "env_kind.hpp"

namespace edgerl::detail {
namespace {

// NumPy (>= 1.22, on CPUs with FMA: every x86-64 with AVX2, AVX-512, and ARM64) computes float32
// sin and cos with its own SIMD code (loops_trigonometric.dispatch.c.src): Cody-Waite reduction
// by pi/2 and minimax polynomials, all in float32 with fused multiply-adds. Its results differ
// from the correctly rounded value in about 1 of 1000 arguments, so we reproduce it.
float numpy_sincos_f32(float x, bool want_cos) {
  const float max_cody = want_cos ? 71476.0625f : 117435.992f;
  if (std::isnan(x)) return x;
  // Beyond max_cody NumPy falls back to libm's float sinf/cosf. We take detmath's correctly
  // rounded double sin/cos rounded to float instead (libm differs by CPU): the correctly
  // rounded float except where the double result lies within 2^-29 ulp(float) of a float
  // half-way point. Acrobot's float32 initial angles (|x| <= 0.1) never get here.
  if (!(std::fabs(x) <= max_cody)) {
    const double xd = static_cast<double>(x);
    return static_cast<float>(want_cos ? detmath::cos(xd) : detmath::sin(xd));
  }
  const float quadrant = (x * 0x1.45f306p-1f + 0x1.800000p+23f) - 0x1.800000p+23f;  // rint(2x/pi)
  float r = std::fma(quadrant, -0x1.921fb0p+00f, x);
  r = std::fma(quadrant, -0x1.5110b4p-22f, r);
  r = std::fma(quadrant, -0x1.846988p-48f, r);
  const float r2 = r * r;
  float c = std::fma(0x1.98e616p-16f, r2, -0x1.6c06dcp-10f);
  c = std::fma(c, r2, 0x1.55553cp-05f);
  c = std::fma(c, r2, -0x1.000000p-01f);
  c = std::fma(c, r2, 0x1.000000p+00f);
  float s = std::fma(0x1.7d3bbcp-19f, r2, -0x1.a06bbap-13f);
  s = std::fma(s, r2, 0x1.11119ap-07f);
  s = std::fma(s, r2, -0x1.555556p-03f);
  s = std::fma(s, r2, 0.0f);
  s = std::fma(s, r, r);
  int32_t q = static_cast<int32_t>(quadrant);
  if (want_cos) q += 1;
  const float v = (q & 1) == 0 ? s : c;
  return (q & 2) == 2 ? 0.0f - v : v;
}

struct Acrobot {
  using Action = int32_t;
  static constexpr size_t kStateDim = 4;
  static constexpr size_t kObsDim = 6;

  static constexpr double kDt = 0.2;
  static constexpr double kL1 = 1.0;   // LINK_LENGTH_1
  static constexpr double kM1 = 1.0;   // LINK_MASS_1
  static constexpr double kM2 = 1.0;   // LINK_MASS_2
  static constexpr double kLc1 = 0.5;  // LINK_COM_POS_1
  static constexpr double kLc2 = 0.5;  // LINK_COM_POS_2
  static constexpr double kI1 = 1.0;   // LINK_MOI
  static constexpr double kI2 = 1.0;
  static constexpr double kG = 9.8;
  static constexpr double kMaxVel1 = 4 * M_PI;
  static constexpr double kMaxVel2 = 9 * M_PI;

  static EnvInfo info() {
    EnvInfo i;
    i.name = "Acrobot-v1";
    i.state_names = {"theta1", "theta2", "dtheta1", "dtheta2"};
    i.discrete = true;
    i.num_actions = 3;
    i.max_episode_steps = 500;
    return i;
  }

  static void observe(const double* s, float* obs) {
    double sin0, cos0, sin1, cos1;
    detmath::sincos(s[0], &sin0, &cos0);
    detmath::sincos(s[1], &sin1, &cos1);
    obs[0] = static_cast<float>(cos0);
    obs[1] = static_cast<float>(sin0);
    obs[2] = static_cast<float>(cos1);
    obs[3] = static_cast<float>(sin1);
    obs[4] = static_cast<float>(s[2]);
    obs[5] = static_cast<float>(s[3]);
  }

  // uniform(-0.1, 0.1, size=(4,)).astype(np.float32); the observation of that float32 state.
  static void reset(double* s, float* obs, Pcg64& rng) {
    float f[kStateDim];
    for (size_t j = 0; j < kStateDim; ++j) {
      f[j] = static_cast<float>(rng.uniform(-0.1, 0.1));
      s[j] = f[j];
    }
    obs[0] = numpy_sincos_f32(f[0], true);
    obs[1] = numpy_sincos_f32(f[0], false);
    obs[2] = numpy_sincos_f32(f[1], true);
    obs[3] = numpy_sincos_f32(f[1], false);
    obs[4] = f[2];
    obs[5] = f[3];
  }

  // _dsdt: derivatives of (theta1, theta2, dtheta1, dtheta2) under torque a, in Gymnasium's
  // order of operations (`x**2` of a float64 is NumPy's pow, see numpy_square).
  static void dsdt(const double* y, double a, double* dy) {
    const double theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
    double sin2, cos2;
    detmath::sincos(theta2, &sin2, &cos2);
    const double d1 =
        kM1 * (kLc1 * kLc1) + kM2 * (kL1 * kL1 + kLc2 * kLc2 + 2 * kL1 * kLc2 * cos2) + kI1 + kI2;
    const double d2 = kM2 * (kLc2 * kLc2 + kL1 * kLc2 * cos2) + kI2;
    const double phi2 = kM2 * kLc2 * kG * detmath::cos(theta1 + theta2 - M_PI / 2.0);
    const double phi1 = -kM2 * kL1 * kLc2 * numpy_square(dtheta2) * sin2 -
                        2 * kM2 * kL1 * kLc2 * dtheta2 * dtheta1 * sin2 +
                        (kM1 * kLc1 + kM2 * kL1) * kG * detmath::cos(theta1 - M_PI / 2) + phi2;
    const double ddtheta2 =
        (a + d2 / d1 * phi1 - kM2 * kL1 * kLc2 * numpy_square(dtheta1) * sin2 - phi2) /
        (kM2 * (kLc2 * kLc2) + kI2 - numpy_square(d2) / d1);
    const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    dy[0] = dtheta1;
    dy[1] = dtheta2;
    dy[2] = ddtheta1;
    dy[3] = ddtheta2;
  }

  // Gymnasium's wrap(x, -pi, pi): subtract or add 2 pi until x is inside. Its loop needs
  // |x| / 2 pi rounds and never ends for an infinite x (or one so large that x - 2 pi == x);
  // such angles can only come from a state set from outside, so we reduce them first (and
  // give NaN for infinity) rather than hang.
  static double wrap(double x) {
    const double diff = M_PI - -M_PI;
    if (std::fabs(x) > 1e6) x = std::isinf(x) ? NAN : std::remainder(x, diff);
    while (x > M_PI) x = x - diff;
    while (x < -M_PI) x = x + diff;
    return x;
  }

  // Python's min(max(x, lo), hi).
  static double bound(double x, double lo, double hi) {
    const double m = lo > x ? lo : x;
    return hi < m ? hi : m;
  }

  static double step(double* s, int32_t action, float* obs, bool* terminated) {
    const double torque = static_cast<double>(action - 1);  // AVAIL_TORQUE = [-1, 0, +1]
    // rk4(_dsdt, s + [torque], [0, dt]): one step; the torque's derivative is 0.
    const double dt = kDt - 0;
    const double dt2 = dt / 2.0;
    double k1[4], k2[4], k3[4], k4[4], y[4];
    dsdt(s, torque, k1);
    for (int j = 0; j < 4; ++j) y[j] = s[j] + dt2 * k1[j];
    dsdt(y, torque, k2);
    for (int j = 0; j < 4; ++j) y[j] = s[j] + dt2 * k2[j];
    dsdt(y, torque, k3);
    for (int j = 0; j < 4; ++j) y[j] = s[j] + dt * k3[j];
    dsdt(y, torque, k4);
    double ns[4];
    for (int j = 0; j < 4; ++j) ns[j] = s[j] + dt / 6.0 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    s[0] = wrap(ns[0]);
    s[1] = wrap(ns[1]);
    s[2] = bound(ns[2], -kMaxVel1, kMaxVel1);
    s[3] = bound(ns[3], -kMaxVel2, kMaxVel2);
    double sin0, cos0, sin1, cos1;
    detmath::sincos(s[0], &sin0, &cos0);
    detmath::sincos(s[1], &sin1, &cos1);
    *terminated = -cos0 - detmath::cos(s[1] + s[0]) > 1.0;
    obs[0] = static_cast<float>(cos0);
    obs[1] = static_cast<float>(sin0);
    obs[2] = static_cast<float>(cos1);
    obs[3] = static_cast<float>(sin1);
    obs[4] = static_cast<float>(s[2]);
    obs[5] = static_cast<float>(s[3]);
    return *terminated ? 0.0 : -1.0;
  }
};

}  // namespace

const EnvKind& acrobot_kind() {
  static const EnvKind kind = make_kind<Acrobot>();
  return kind;
}

// Exposed for the test that pins it against NumPy's outputs.
float numpy_cos_f32(float x) {
  return numpy_sincos_f32(x, true);
}
float numpy_sin_f32(float x) {
  return numpy_sincos_f32(x, false);
}

}  // namespace edgerl::detail
