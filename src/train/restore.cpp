// A learner rebuilt from a checkpoint file alone (the config stored in it, then its tensors),
// and the policy that a program loads from one.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/detmath.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/policy.hpp"
#include "edgerl/train.hpp"

namespace edgerl {

// ---- The best policy ----------------------------------------------------------------------

namespace {
const char kBestPrefix[] = "best/";
}

bool restore_best(BestPolicy& best, const System& system, const CheckpointMeta& meta,
                  const std::vector<std::string>& missing) {
  bool had = true;
  for (const std::string& name : best.names())
    if (std::find(missing.begin(), missing.end(), name) != missing.end()) had = false;
  if (!had) {
    best.reset(system);
  } else if (best.eval_step() < -1 || best.eval_step() >= meta.eval_step ||
             std::isnan(best.episode_return()) ||
             (best.eval_step() == -1) != (best.episode_return() == -HUGE_VAL)) {
    throw std::runtime_error("best/eval_step = " + std::to_string(best.eval_step()) +
                             " and best/episode_return do not fit a checkpoint of eval step " +
                             std::to_string(meta.eval_step));
  }
  const std::unique_ptr<Policy> own = system.policy();
  best.offer(*own, meta.episode_return, meta.eval_step);
  return had;
}

BestPolicy::BestPolicy(const System& system)
    : policy_(system.policy()), episode_return_(-HUGE_VAL) {
  policy_->append_tensors(tensors_, kBestPrefix);
  tensors_.push_back(tensor_ref(std::string(kBestPrefix) + "episode_return", &episode_return_, {}));
  tensors_.push_back(tensor_ref(std::string(kBestPrefix) + "eval_step", &eval_step_, {}));
}

std::vector<std::string> BestPolicy::names() const {
  std::vector<std::string> out;
  for (const TensorRef& t : tensors_) out.push_back(t.name);
  return out;
}

void copy_policy(Policy& from, Policy& to) {
  TensorList a, b;
  from.append_tensors(a, "");
  to.append_tensors(b, "");
  if (a.size() != b.size()) throw std::logic_error("copy_policy: another learner's policy");
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].dtype != b[i].dtype || a[i].shape != b[i].shape)
      throw std::logic_error("copy_policy: tensor " + a[i].name + " differs from " + b[i].name);
    if (b[i].size_bytes()) std::memcpy(b[i].data, a[i].data, b[i].size_bytes());
  }
}

bool BestPolicy::offer(Policy& policy, double episode_return, int64_t eval_step) {
  if (!(episode_return >= episode_return_)) return false;  // NaN never
  copy_policy(policy, *policy_);
  episode_return_ = episode_return;
  eval_step_ = eval_step;
  return true;
}

void BestPolicy::reset(const System& system) {
  copy_policy(*system.policy(), *policy_);
  episode_return_ = -HUGE_VAL;
  eval_step_ = -1;
}

// ---- A learner from a checkpoint -------------------------------------------------------------

RestoredSystem restore_system(FileSystem& fs, const std::string& path) {
  RestoredSystem r;
  Status st = read_checkpoint_file_info(fs, path, &r.info);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.config = load_resolved_config(r.info.meta.config_ini, path + " (stored config)");
  } catch (const ConfigError& e) {
    throw RunError(std::string("the config stored in the checkpoint is unusable: ") + e.what());
  }
  r.system = make_system(r.config);
  r.best = std::make_unique<BestPolicy>(*r.system);
  TensorList state;
  r.system->append_tensors(state);
  for (const TensorRef& t : r.best->tensors()) state.push_back(t);
  // An older checkpoint's missing counters and best policy; an interval in progress.
  LoadOptions options;
  options.optional = optional_counter_tensors();
  for (const std::string& name : r.best->names()) options.optional.push_back(name);
  std::vector<std::string> missing;
  options.missing = &missing;
  std::vector<Tensor> interval;
  options.extra_prefix = "interval/";
  options.extra = &interval;
  st = load_checkpoint_file(fs, path, state, &r.info, options);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.system->after_restore();
    restore_best(*r.best, *r.system, r.info.meta, missing);
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

PolicyModel ModelPolicy::model() const {
  PolicyModel m = model_;  // its parameters as the network holds them (a restore writes there)
  m.params.assign(net_.params(), net_.params() + net_.num_params());
  return m;
}

void ModelPolicy::append_tensors(TensorList& out, const std::string& prefix) {
  net_.append_tensors(out, prefix + "net");
  if (!model_.obs_mean.empty()) {
    out.push_back(
        tensor_ref(prefix + "obs_mean", model_.obs_mean.data(), {model_.obs_mean.size()}));
    out.push_back(tensor_ref(prefix + "obs_var", model_.obs_var.data(), {model_.obs_var.size()}));
  }
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

std::unique_ptr<ModelPolicy> load_best_policy(const std::string& path, FileSystem& fs) {
  const RestoredSystem r = restore_system(fs, path);
  return std::make_unique<ModelPolicy>(r.best->policy().model());
}

}  // namespace edgerl
