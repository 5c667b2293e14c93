#include "learners/rl_math.hpp"

#include <algorithm>
#include <cmath>

namespace edgerl {

void compute_gae(size_t T, size_t E, const float* rewards, const float* values,
                 const float* next_values, const uint8_t* terminated, const uint8_t* truncated,
                 float gamma, float lambda, float* advantages, float* returns) {
  for (size_t e = 0; e < E; ++e) {
    float next_adv = 0.0f;
    for (size_t t = T; t-- > 0;) {
      const size_t i = t * E + e;
      const float not_terminal = terminated[i] ? 0.0f : 1.0f;
      const float not_done = (terminated[i] || truncated[i]) ? 0.0f : 1.0f;
      const float delta = rewards[i] + gamma * not_terminal * next_values[i] - values[i];
      next_adv = delta + gamma * lambda * not_done * next_adv;
      advantages[i] = next_adv;
      returns[i] = next_adv + values[i];
    }
  }
}

RunningMeanStd::RunningMeanStd(size_t dim, double clip)
    : mean_(dim, 0.0), var_(dim, 1.0), batch_mean_(dim), batch_var_(dim), clip_(clip) {}

void RunningMeanStd::update(const float* x, size_t batch) {
  if (batch == 0) return;
  const size_t d = mean_.size();
  std::fill(batch_mean_.begin(), batch_mean_.end(), 0.0);
  std::fill(batch_var_.begin(), batch_var_.end(), 0.0);
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < d; ++j) batch_mean_[j] += x[b * d + j];
  for (size_t j = 0; j < d; ++j) batch_mean_[j] /= static_cast<double>(batch);
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < d; ++j) {
      const double dx = x[b * d + j] - batch_mean_[j];
      batch_var_[j] += dx * dx;
    }
  const double n = static_cast<double>(batch);
  const double total = count_ + n;
  for (size_t j = 0; j < d; ++j) {
    const double bv = batch_var_[j] / n;
    const double delta = batch_mean_[j] - mean_[j];
    const double m2 = var_[j] * count_ + bv * n + delta * delta * count_ * n / total;
    mean_[j] += delta * n / total;
    var_[j] = m2 / total;
  }
  count_ = total;
}

void RunningMeanStd::normalise(const float* x, size_t batch, float* out) const {
  const size_t d = mean_.size();
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < d; ++j) {
      const double z = (x[b * d + j] - mean_[j]) / std::sqrt(var_[j] + 1e-8);
      out[b * d + j] = static_cast<float>(std::min(clip_, std::max(-clip_, z)));
    }
}

void RunningMeanStd::append_tensors(TensorList& out, const std::string& prefix) {
  out.push_back(tensor_ref(prefix + "mean", mean_.data(), {mean_.size()}));
  out.push_back(tensor_ref(prefix + "var", var_.data(), {var_.size()}));
  out.push_back(tensor_ref(prefix + "count", &count_, {}));
}

float clipped_surrogate_loss(float ratio, float advantage, float eps, float* dloss_dlogp) {
  const float surr1 = ratio * advantage;
  const float surr2 = std::min(std::max(ratio, 1.0f - eps), 1.0f + eps) * advantage;
  // d(-surr1)/dlogp = -A r; the clipped term is constant in logp where it is the minimum.
  *dloss_dlogp = surr2 < surr1 ? 0.0f : -advantage * ratio;
  return -std::min(surr1, surr2);
}

float value_loss(float v, float v_old, float ret, float eps, bool clip, float* dloss_dv) {
  const float err = v - ret;
  float sq = err * err;
  *dloss_dv = err;
  if (clip) {
    const float delta = v - v_old;
    const float err_c = v_old + std::min(std::max(delta, -eps), eps) - ret;
    if (err_c * err_c > sq) {
      sq = err_c * err_c;
      *dloss_dv = (delta > -eps && delta < eps) ? err_c : 0.0f;
    }
  }
  return 0.5f * sq;
}

double linear_schedule(double start, double end, double step, double duration) {
  if (duration <= 0 || step >= duration) return end;
  const double frac = std::min(1.0, std::max(0.0, step / duration));
  return start + (end - start) * frac;
}

}  // namespace edgerl
