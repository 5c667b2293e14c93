// A learner rebuilt from a checkpoint file alone (the config stored in it, then its tensors),
// and the policy that a program loads from one.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/detmath.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/policy.hpp"
#include "edgerl/train.hpp"

namespace edgerl {

RestoredSystem restore_system(FileSystem& fs, const std::string& path) {
  RestoredSystem r;
  Status st = read_checkpoint_file_info(fs, path, &r.info);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.config = load_config_text(r.info.meta.config_ini, path + " (stored config)");
  } catch (const ConfigError& e) {
    throw RunError(std::string("the config stored in the checkpoint is unusable: ") + e.what());
  }
  r.system = make_system(r.config);
  TensorList state;
  r.system->append_tensors(state);
  LoadOptions options;  // an older checkpoint's missing counters; an interval in progress
  options.optional = optional_counter_tensors();
  std::vector<Tensor> interval;
  options.extra_prefix = "interval/";
  options.extra = &interval;
  st = load_checkpoint_file(fs, path, state, &r.info, options);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.system->after_restore();
  } catch (const std::exception& e) {
    throw RunError(path + ": restored state is impossible: " + e.what());
  }
  return r;
}

ModelPolicy::ModelPolicy(PolicyModel model)
    : model_(std::move(model)), net_(model_.widths, model_.hidden, 1.0) {
  if (model_.params.size() != net_.num_params())
    throw std::invalid_argument("policy model: " + std::to_string(model_.params.size()) +
                                " parameters for a network of " +
                                std::to_string(net_.num_params()));
  std::copy(model_.params.begin(), model_.params.end(), net_.params());
}

void ModelPolicy::act(const ActRequest& r) {
  const size_t d = model_.obs_dim, out = model_.widths.back();
  x_.resize(r.n * d);
  y_.resize(r.n * out);
  const float* x = r.obs;
  if (!model_.obs_mean.empty()) {
    // As RunningMeanStd::normalise: (x - mean) / sqrt(var + 1e-8), clipped, in double.
    for (size_t b = 0; b < r.n; ++b)
      for (size_t j = 0; j < d; ++j) {
        const double z =
            (r.obs[b * d + j] - model_.obs_mean[j]) / std::sqrt(model_.obs_var[j] + 1e-8);
        x_[b * d + j] =
            static_cast<float>(std::min(model_.obs_clip, std::max(-model_.obs_clip, z)));
      }
    x = x_.data();
  }
  net_.predict(x, r.n, y_.data());
  for (size_t b = 0; b < r.n; ++b) {
    const float* y = &y_[b * out];
    switch (model_.output) {
      case PolicyModel::Output::argmax: {
        size_t best = 0;
        for (size_t k = 1; k < out; ++k)
          if (y[k] > y[best]) best = k;
        r.discrete[b] = static_cast<int32_t>(best);
        break;
      }
      case PolicyModel::Output::identity:
        std::copy(y, y + out, r.continuous + b * out);
        break;
      case PolicyModel::Output::tanh_scaled:
        for (size_t k = 0; k < out; ++k)
          r.continuous[b * out + k] =
              detmath::tanh(y[k]) * model_.action_scale[k] + model_.action_offset[k];
        break;
    }
  }
}

void ModelPolicy::act_one(const float* obs, float* out) {
  ActRequest r;
  r.obs = obs;
  r.n = 1;
  int32_t a = 0;
  r.discrete = &a;
  r.continuous = out;
  act(r);
  if (model_.output == PolicyModel::Output::argmax) out[0] = static_cast<float>(a);
}

std::unique_ptr<ModelPolicy> load_policy(const std::string& path, FileSystem& fs) {
  const RestoredSystem r = restore_system(fs, path);
  return std::make_unique<ModelPolicy>(r.system->policy()->model());
}

}  // namespace edgerl
