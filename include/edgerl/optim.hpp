// optim: Adam and global gradient-norm clipping over flat float buffers (an Mlp's params() and
// grads(), or any buffer with the same layout). All optimizer state (first and second
// moments, step count) lists itself as tensors so that a resumed run continues bit for bit.
// Every reduction has a fixed order and no libm function is used, so steps are identical on
// every CPU and build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/aligned.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

struct AdamOptions {
  double lr = 2.5e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;  // added to sqrt(v_hat), outside the root (PyTorch and optax default)
};

// Adam with bias correction, as optax.adam / torch.optim.Adam compute it:
//   t += 1; m = (1 - b1) g + b1 m; v = (1 - b2) g^2 + b2 v;
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
class Adam {
 public:
  Adam(size_t num_params, const AdamOptions& options);

  // One update of params[0..size()) from grads (same layout), with the current lr.
  void step(float* params, const float* grads);
  // The learning rate of the next steps (set it before each step for a schedule, e.g. linear
  // annealing from rl_math's linear_schedule).
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  const AdamOptions& options() const { return options_; }

  size_t size() const { return m_.size(); }
  int64_t step_count() const { return step_; }
  const float* m() const { return m_.data(); }
  const float* v() const { return v_.data(); }
  // Zero moments and step count.
  void reset();

  // Adds "<prefix>/m" and "<prefix>/v" (f32 [size]) and "<prefix>/step" (i64 [1]).
  void append_tensors(TensorList& list, const std::string& prefix);
  // After a restore into those tensors: throws std::runtime_error when the step count cannot
  // come from a run (negative, or so large that counting on would overflow).
  void check_restored(const std::string& prefix) const;

 private:
  AdamOptions options_;
  AlignedVector<float> m_, v_;
  int64_t step_ = 0;
};

// sqrt(sum g^2), summed in double in a fixed order.
double global_norm(const float* grads, size_t n);

// Scales grads by max_norm / norm when their global norm exceeds max_norm (optax's
// clip_by_global_norm); max_norm <= 0 disables clipping. Returns the norm before clipping.
double clip_grad_norm(float* grads, size_t n, double max_norm);

}  // namespace edgerl
