// policy: a trained policy on its own, detached from the learner that trained it: what
// evaluation runs, what a program on a board loads from a checkpoint to act, and what the C
// exporter writes out. Acting never touches training state, and a greedy action is the same
// bits here, in `edgerl eval`, and in an exported C header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgerl/io.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/rng.hpp"

namespace edgerl {

// How a policy picks actions for a batch of observations.
struct ActRequest {
  const float* obs = nullptr;  // [n][obs_dim], raw observations from the environment
  size_t n = 0;
  bool greedy = true;
  Pcg64* rng = nullptr;         // for sampled (non-greedy) actions
  int32_t* discrete = nullptr;  // [n] when the action space is discrete
  float* continuous = nullptr;  // [n][action_dim] otherwise
};

// The greedy policy as data: observation normalisation, one MLP, and how its outputs become
// an action. Everything an exporter needs; nothing about training.
struct PolicyModel {
  std::string env;  // the environment's id, e.g. "CartPole-v1"
  size_t obs_dim = 0;
  // (x - mean) / sqrt(var + 1e-8) clipped to +-obs_clip, in double; empty = raw observations.
  std::vector<double> obs_mean, obs_var;
  double obs_clip = 10.0;
  std::vector<size_t> widths;  // obs_dim, hidden widths..., outputs
  Activation hidden = Activation::tanh;
  std::vector<float> params;  // the MLP's flat buffer: per layer W[in][out] then b[out]
  enum class Output {
    argmax,       // discrete: the index of the largest output (the first on ties)
    identity,     // continuous: the outputs are the action
    tanh_scaled,  // continuous: tanh(output) * action_scale + action_offset
  } output = Output::argmax;
  std::vector<float> action_scale, action_offset;  // tanh_scaled only
  size_t action_dim() const { return output == Output::argmax ? 1 : widths.back(); }
};

class Policy {
 public:
  virtual ~Policy() = default;
  // Actions for r.n observations, greedy or sampled with r.rng.
  virtual void act(const ActRequest& request) = 0;
  // The greedy policy as data.
  virtual PolicyModel model() const = 0;
  // Views of everything act() reads that a copy of the policy could differ in (parameters,
  // observation statistics, log-std), named "<prefix>...": a policy of the same learner and
  // config lists the same names and shapes, so one is copied into another, saved and
  // restored through them (the run's best policy, BestPolicy in train.hpp).
  virtual void append_tensors(TensorList& out, const std::string& prefix) = 0;
};

// to = from, through their append_tensors() (policies of the same learner and config); throws
// std::logic_error when they list other names, dtypes or shapes.
void copy_policy(Policy& from, Policy& to);

// A policy computed from its model alone (greedy only): what load_policy() returns for
// programs that only act, and the reference the C exporter is tested against.
class ModelPolicy final : public Policy {
 public:
  explicit ModelPolicy(PolicyModel model);
  void act(const ActRequest& request) override;  // greedy whatever request.greedy says
  PolicyModel model() const override;
  void append_tensors(TensorList& out, const std::string& prefix) override;
  // One observation: out gets the action (discrete: its index as a float).
  void act_one(const float* obs, float* out);

 private:
  PolicyModel model_;
  Mlp net_;
  std::vector<float> x_, y_;
};

// The greedy policy as one dependency-free C99 header (weights as exact hex floats, no malloc,
// no libm): `static void edgerl_policy_act(const float* obs, float* out)` gives the bits
// ModelPolicy gives. `source` is named in its first comment.
std::string policy_c_header(const PolicyModel& model, const std::string& source);

// The greedy policy stored in a checkpoint file. Throws RunError (train.hpp) when the file
// cannot be read or its config or state is unusable.
std::unique_ptr<ModelPolicy> load_policy(const std::string& checkpoint_path,
                                         FileSystem& fs = posix_fs());
// The run's best policy stored in a checkpoint file (BestPolicy in train.hpp: the one of its
// best evaluation up to the file's own), greedy; RunError as load_policy.
std::unique_ptr<ModelPolicy> load_best_policy(const std::string& checkpoint_path,
                                              FileSystem& fs = posix_fs());

}  // namespace edgerl
