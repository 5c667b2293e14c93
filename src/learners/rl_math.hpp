// rl_math: the small numerical pieces the learners share, each testable on its own:
// generalised advantage estimation, running observation statistics, linear schedules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/tensor.hpp"

namespace edgerl {

// GAE(lambda) over a rollout of T steps of E envs, arrays laid out [t][e].
//   delta_t = r_t + gamma * (1 - terminated_t) * next_value_t - value_t
//   A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
// next_value_t is V of the true next observation: the final observation when the episode
// ended at t (so truncated episodes bootstrap correctly), else value_{t+1} (or the bootstrap
// value after the last step). done_t = terminated_t or truncated_t. returns = A + value.
void compute_gae(size_t T, size_t E, const float* rewards, const float* values,
                 const float* next_values, const uint8_t* terminated, const uint8_t* truncated,
                 float gamma, float lambda, float* advantages, float* returns);

// Running mean and variance of observations (parallel Welford, float64 accumulators), as
// Gymnasium's NormalizeObservation / Stable-Baselines' RunningMeanStd: starts at mean 0,
// var 1, count 1e-4; normalise(x) = clip((x - mean) / sqrt(var + 1e-8), -clip, clip).
class RunningMeanStd {
 public:
  explicit RunningMeanStd(size_t dim = 0, double clip = 10.0);
  void update(const float* x, size_t batch);
  void normalise(const float* x, size_t batch, float* out) const;
  // mean, var and count as tensors "<prefix>mean", "<prefix>var", "<prefix>count".
  void append_tensors(TensorList& out, const std::string& prefix);
  size_t dim() const { return mean_.size(); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& var() const { return var_; }
  double clip() const { return clip_; }

 private:
  std::vector<double> mean_, var_, batch_mean_, batch_var_;
  double count_ = 1e-4;
  double clip_;
};

// PPO's clipped surrogate for one sample, loss = -min(r A, clip(r, 1-eps, 1+eps) A) with
// r = exp(log_ratio); *dloss_dlogp gets d loss / d log pi(a|s) (zero where the clip binds).
float clipped_surrogate_loss(float ratio, float advantage, float eps, float* dloss_dlogp);

// PPO's value loss for one sample: 0.5 (v - R)^2, or with clipping
// 0.5 max((v - R)^2, (v_old + clip(v - v_old, -eps, eps) - R)^2); *dloss_dv gets its gradient.
float value_loss(float v, float v_old, float ret, float eps, bool clip, float* dloss_dv);

// start + (end - start) * min(1, step / duration); duration <= 0 gives end.
double linear_schedule(double start, double end, double step, double duration);

}  // namespace edgerl
