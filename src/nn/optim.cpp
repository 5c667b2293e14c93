// Adam and gradient clipping. Scalars (bias corrections, lr) are computed once per step in
// double; the per-parameter arithmetic is float, in optax's order, and vectorises freely
// because every parameter is independent.
#include "edgerl/optim.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace edgerl {
namespace {

// b^t by repeated squaring: exact to a few ulp and identical everywhere (std::pow is libm's).
double power(double b, int64_t t) {
  double result = 1.0;
  while (t > 0) {
    if (t & 1) result *= b;
    b *= b;
    t >>= 1;
  }
  return result;
}

// The per-parameter update. A bias correction of exactly 1 (beta1^t below half a float ulp of
// 1 after ~170 steps at 0.9; beta2^t after ~17,000 at 0.999) divides nothing: x / 1 is x in
// IEEE arithmetic, so leaving that division out gives the same bits, and Adam's loop is bound
// by its divisions and square root.
template <bool kCorrect1, bool kCorrect2>
void adam_update(float* params, const float* grads, float* m, float* v, size_t n, float b1,
                 float b2, float one_minus_b1, float one_minus_b2, float bc1, float bc2, float eps,
                 float lr) {
  // Moments below the smallest normal float are stored as 0: a gradient that stays 0 (a dead
  // ReLU unit) would otherwise leave m and v decaying through thousands of steps of subnormal
  // numbers, which are many times slower on some CPUs (issue #15 measured 8x for the whole
  // step on an Intel Xeon). Flushing here, in code, gives the same bits on every architecture,
  // which the CPUs' own flush-to-zero modes would not: x86 detects tininess after rounding,
  // ARM before, so they differ for results just below the smallest normal.
  const float tiny = std::numeric_limits<float>::min();
  for (size_t i = 0; i < n; ++i) {
    const float g = grads[i];
    const float mi = one_minus_b1 * g + b1 * m[i];
    const float vi = one_minus_b2 * (g * g) + b2 * v[i];
    m[i] = std::fabs(mi) < tiny ? 0.0f : mi;
    v[i] = vi < tiny ? 0.0f : vi;
    const float m_hat = kCorrect1 ? m[i] / bc1 : m[i], v_hat = kCorrect2 ? v[i] / bc2 : v[i];
    params[i] = params[i] - lr * (m_hat / (std::sqrt(v_hat) + eps));
  }
}

}  // namespace

Adam::Adam(size_t num_params, const AdamOptions& options)
    : options_(options), m_(num_params, 0.0f), v_(num_params, 0.0f) {
  if (!(options.beta1 >= 0.0 && options.beta1 < 1.0) ||
      !(options.beta2 >= 0.0 && options.beta2 < 1.0) || !(options.eps >= 0.0))
    throw std::invalid_argument("Adam: betas must be in [0, 1) and eps >= 0");
}

void Adam::step(float* params, const float* grads) {
  ++step_;
  const float b1 = static_cast<float>(options_.beta1), b2 = static_cast<float>(options_.beta2);
  const float one_minus_b1 = static_cast<float>(1.0 - options_.beta1);
  const float one_minus_b2 = static_cast<float>(1.0 - options_.beta2);
  const float bc1 = static_cast<float>(1.0 - power(options_.beta1, step_));
  const float bc2 = static_cast<float>(1.0 - power(options_.beta2, step_));
  const float eps = static_cast<float>(options_.eps), lr = static_cast<float>(options_.lr);
  auto update = bc1 != 1.0f ? (bc2 != 1.0f ? adam_update<true, true> : adam_update<true, false>)
                            : (bc2 != 1.0f ? adam_update<false, true> : adam_update<false, false>);
  update(params, grads, m_.data(), v_.data(), m_.size(), b1, b2, one_minus_b1, one_minus_b2, bc1,
         bc2, eps, lr);
}

void Adam::reset() {
  std::fill(m_.begin(), m_.end(), 0.0f);
  std::fill(v_.begin(), v_.end(), 0.0f);
  step_ = 0;
}

void Adam::append_tensors(TensorList& list, const std::string& prefix) {
  list.push_back(tensor_ref(prefix + "/m", m_.data(), {m_.size()}));
  list.push_back(tensor_ref(prefix + "/v", v_.data(), {v_.size()}));
  list.push_back(tensor_ref(prefix + "/step", &step_, {1}));
}

void Adam::check_restored(const std::string& prefix) const {
  if (step_ < 0 || step_ >= (int64_t{1} << 62))
    throw std::runtime_error(prefix + "/step = " + std::to_string(step_) + " is impossible");
}

double global_norm(const float* grads, size_t n) {
  // Eight partial sums (element i goes to i % 8), combined in a fixed tree.
  double p[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) {
      const double g = grads[i + j];
      p[j] += g * g;
    }
  for (size_t j = 0; i + j < n; ++j) {
    const double g = grads[i + j];
    p[j] += g * g;
  }
  const double sum = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  return std::sqrt(sum);  // sqrt is correctly rounded in IEEE-754
}

double clip_grad_norm(float* grads, size_t n, double max_norm) {
  const double norm = global_norm(grads, n);
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (size_t i = 0; i < n; ++i) grads[i] *= scale;
  }
  return norm;
}

}  // namespace edgerl
