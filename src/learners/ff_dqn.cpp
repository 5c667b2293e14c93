// ff_dqn: deep Q-learning (Mnih et al. 2015) with a replay buffer, an epsilon-greedy
// behaviour policy on a linear schedule, a target network updated by hard copy (tau = 1) or
// Polyak averaging, Huber or squared TD loss, optional double-DQN targets (van Hasselt et al.
// 2016) and optional n-step returns (Sutton 1988; as in Rainbow), after CleanRL's dqn.py and
// Stoix's ff_dqn.py, on the off-policy skeleton (learners/off_policy.hpp: environment steps,
// n-step writer, replay buffer, warm-up, train frequency, counters). Read it top to bottom:
// the epsilon-greedy behaviour policy, then one gradient step on a freshly sampled batch
// followed by the target update when due. Transitions are n-step windows bootstrapped with
// gamma^n (learners/replay_buffer.hpp's NStepWriter). Random streams (SeedSequence(arch.seed)
// children): 0 network initialisation, 2 exploration, 3 replay sampling; training env i is
// reset with seed arch.seed + i.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "edgerl/envs.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "learners/common.hpp"
#include "learners/off_policy.hpp"
#include "learners/registry.hpp"
#include "learners/replay_buffer.hpp"
#include "learners/rl_math.hpp"
#include "nn/distributions.hpp"

namespace edgerl {
namespace {

// [system] and [network.actor_network] (the Q-network) of ff_dqn (Stoix's ff_dqn.yaml names).
struct DqnConfig {
  double q_lr = 2.5e-4;
  double adam_eps = 1e-5;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = false;
  double gamma = 0.99;
  int64_t epochs = 4;  // gradient steps per update
  int64_t total_buffer_size = 10000;
  int64_t total_batch_size = 128;
  int64_t warmup_steps = 1000;         // env steps collected before the first update
  int64_t train_frequency = 10;        // env steps (per env) between updates
  double tau = 1.0;                    // 1 = hard target update, < 1 = Polyak averaging
  int64_t target_update_period = 500;  // gradient steps between target updates
  double epsilon_start = 1.0;
  double training_epsilon = 0.05;     // final exploration epsilon
  double exploration_fraction = 0.5;  // fraction of training over which epsilon decays
  double evaluation_epsilon = 0.0;
  double huber_loss_parameter = 0.0;  // 0 = mean squared error, > 0 = Huber with this delta
  bool double_q = false;
  int64_t n_step = 1;  // rewards summed into one transition before bootstrapping
  NetworkConfig actor_network;
};

std::vector<schema::Field> dqn_fields() {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  std::vector<schema::Field> f = {
      row<&DqnConfig::q_lr>("system", "q_lr", Kind::Double, 0, 1, T,
                            "Adam learning rate of the Q-network"),
      row<&DqnConfig::adam_eps>("system", "adam_eps", Kind::Double, 1e-12, 1, T,
                                "Adam epsilon (added to the root of the second moment)"),
      row<&DqnConfig::max_grad_norm>(
          "system", "max_grad_norm", Kind::Double, 0, 1e6, T,
          "global gradient-norm clipping threshold; 0 disables clipping"),
      row<&DqnConfig::decay_learning_rates>("system", "decay_learning_rates", Kind::Bool, 0, 0, T,
                                            "anneal the learning rate linearly to 0 over training"),
      row<&DqnConfig::gamma>("system", "gamma", Kind::Double, 0, 1, T, "discount factor"),
      row<&DqnConfig::epochs>("system", "epochs", Kind::Int, 1, 10000, T,
                              "gradient steps per update"),
      row<&DqnConfig::total_buffer_size>("system", "total_buffer_size", Kind::Int, 1, 1e9, T,
                                         "replay buffer capacity in transitions"),
      row<&DqnConfig::total_batch_size>("system", "total_batch_size", Kind::Int, 1, 1 << 20, T,
                                        "transitions per gradient step"),
      row<&DqnConfig::warmup_steps>("system", "warmup_steps", Kind::Int, 0, schema::kI64Max, T,
                                    "environment steps collected before learning starts"),
      row<&DqnConfig::train_frequency>(
          "system", "train_frequency", Kind::Int, 1, 1 << 20, T,
          "environment steps (per env) between updates of `epochs` gradient steps"),
      row<&DqnConfig::tau>("system", "tau", Kind::Double, 0, 1, T,
                           "target update: 1 = hard copy, < 1 = Polyak averaging factor"),
      row<&DqnConfig::target_update_period>("system", "target_update_period", Kind::Int, 1, 1 << 30,
                                            T, "gradient steps between target-network updates"),
      row<&DqnConfig::epsilon_start>("system", "epsilon_start", Kind::Double, 0, 1, T,
                                     "initial exploration epsilon"),
      row<&DqnConfig::training_epsilon>("system", "training_epsilon", Kind::Double, 0, 1, T,
                                        "final exploration epsilon"),
      row<&DqnConfig::exploration_fraction>(
          "system", "exploration_fraction", Kind::Double, 0, 1, T,
          "fraction of total_timesteps over which epsilon decays"),
      row<&DqnConfig::evaluation_epsilon>("system", "evaluation_epsilon", Kind::Double, 0, 1,
                                          KeyEffect::evaluation,
                                          "epsilon of non-greedy evaluation"),
      row<&DqnConfig::huber_loss_parameter>(
          "system", "huber_loss_parameter", Kind::Double, 0, 1e6, T,
          "0 = mean squared TD error, > 0 = Huber loss with this delta"),
      row<&DqnConfig::double_q>("system", "double_q", Kind::Bool, 0, 0, T,
                                "double DQN targets (online argmax, target value)"),
      row<&DqnConfig::n_step>("system", "n_step", Kind::Int, 1, 1000, T,
                              "n-step returns: rewards summed over n steps before bootstrapping"),
  };
  for (auto& r : schema::network_rows<&DqnConfig::actor_network>(
           "network.actor_network", "hidden layer sizes of the Q-network"))
    f.push_back(r);
  return f;
}

OffPolicySettings settings_of(const DqnConfig& s) {
  OffPolicySettings o;
  o.warmup_steps = s.warmup_steps;
  o.train_frequency = s.train_frequency;
  o.epochs = s.epochs;
  o.total_buffer_size = s.total_buffer_size;
  o.total_batch_size = s.total_batch_size;
  o.n_step = s.n_step;
  o.gamma = s.gamma;
  return o;
}

void validate_dqn(const Config& cfg) {
  check_off_policy_settings(settings_of(cfg.system.params.as<DqnConfig>()), cfg.arch,
                            "system.train_frequency");
}

// The acting half of DQN: a copy of the Q-network; greedy, or epsilon-greedy with
// evaluation_epsilon.
class DqnPolicy final : public Policy {
 public:
  DqnPolicy(const Mlp& q, double epsilon, std::string env)
      : q_(q), epsilon_(epsilon), n_actions_(q.out_dim()), env_(std::move(env)) {}

  void act(const ActRequest& r) override {
    q_values_.resize(r.n * n_actions_);
    q_.predict(r.obs, r.n, q_values_.data());
    for (size_t i = 0; i < r.n; ++i) {
      const bool random = !r.greedy && r.rng->uniform() < epsilon_;
      r.discrete[i] = static_cast<int32_t>(
          random ? r.rng->below(n_actions_)
                 : categorical::argmax(&q_values_[i * n_actions_], n_actions_));
    }
  }

  PolicyModel model() const override {
    PolicyModel m;
    m.env = env_;
    m.obs_dim = q_.in_dim();
    m.widths.push_back(q_.in_dim());
    for (const auto& l : q_.layers()) m.widths.push_back(l.out);
    m.hidden = q_.layers().front().activation;
    m.params.assign(q_.params(), q_.params() + q_.num_params());
    m.output = PolicyModel::Output::argmax;
    return m;
  }

  void append_tensors(TensorList& out, const std::string& prefix) override {
    q_.append_tensors(out, prefix + "q_network");
  }

 private:
  Mlp q_;
  double epsilon_;
  size_t n_actions_;
  std::string env_;
  std::vector<float> q_values_;
};

class FfDqn final : public OffPolicyLearner {
 public:
  explicit FfDqn(const Config& cfg)
      : OffPolicyLearner(cfg, settings_of(cfg.system.params.as<DqnConfig>())),
        sys_(cfg.system.params.as<DqnConfig>()),
        n_actions_(static_cast<size_t>(std::max(0, env().num_actions()))),
        batch_(static_cast<size_t>(sys_.total_batch_size)),
        q_(obs_dim(), sys_.actor_network, std::max<size_t>(1, n_actions_), 1.0),
        target_(obs_dim(), sys_.actor_network, std::max<size_t>(1, n_actions_), 1.0),
        opt_(q_.num_params(), adam_options()),
        explore_rng_(SeedSequence(cfg.arch.seed).child(2)),
        sample_rng_(SeedSequence(cfg.arch.seed).child(3)),
        total_timesteps_(cfg.arch.total_timesteps),
        lr_{sys_.q_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        target_update_{sys_.tau, sys_.target_update_period} {
    Pcg64 init_rng(SeedSequence(cfg.arch.seed).child(0));
    q_.init(init_rng);
    target_.copy_params_from(q_);

    const size_t E = num_envs();
    q_values_.resize(std::max(batch_, E) * n_actions_);
    next_q_.resize(batch_ * n_actions_);
    next_q_online_.resize(batch_ * n_actions_);
    indices_.resize(batch_);
    b_obs_.resize(batch_ * obs_dim());
    b_next_.resize(batch_ * obs_dim());
    dq_.resize(batch_ * n_actions_);
    q_.reserve(std::max(batch_, E));
    target_.reserve(batch_);
  }

  std::unique_ptr<Policy> policy() const override {
    return std::make_unique<DqnPolicy>(q_, sys_.evaluation_epsilon, env().info().name);
  }

 private:
  AdamOptions adam_options() const {
    AdamOptions o;
    o.lr = sys_.q_lr;
    o.eps = sys_.adam_eps;
    return o;
  }

  // CleanRL's schedule: epsilon_start -> training_epsilon over exploration_fraction of the run.
  double epsilon() const {
    return linear_schedule(sys_.epsilon_start, sys_.training_epsilon,
                           static_cast<double>(counters().timestep),
                           sys_.exploration_fraction * static_cast<double>(total_timesteps_));
  }

  // The epsilon-greedy behaviour policy.
  void behave(const float* obs, int32_t* actions, float*) override {
    const double eps = epsilon();
    q_.predict(obs, num_envs(), q_values_.data());
    for (size_t e = 0; e < num_envs(); ++e) {
      const bool random = explore_rng_.uniform() < eps;
      actions[e] = static_cast<int32_t>(
          random ? explore_rng_.below(n_actions_)
                 : categorical::argmax(&q_values_[e * n_actions_], n_actions_));
    }
  }

  // TD target y = r + gamma^n (1 - terminated) Q_target(s', a*), a* = argmax_a Q_target(s', a)
  // (or argmax_a Q(s', a) for double DQN); loss = mean of the Huber or squared TD error; then
  // the target network follows when due.
  void gradient_step(int64_t epoch) override {
    const size_t B = batch_, A = n_actions_, D = obs_dim();
    const ReplayBuffer& buf = buffer();
    buf.sample(sample_rng_, B, indices_.data());
    for (size_t i = 0; i < B; ++i) {
      std::copy(buf.obs(indices_[i]), buf.obs(indices_[i]) + D, &b_obs_[i * D]);
      std::copy(buf.next_obs(indices_[i]), buf.next_obs(indices_[i]) + D, &b_next_[i * D]);
    }
    target_.predict(b_next_.data(), B, next_q_.data());
    if (sys_.double_q) q_.predict(b_next_.data(), B, next_q_online_.data());
    q_.forward(b_obs_.data(), B, q_values_.data());
    const float gamma_n = nstep().bootstrap_discount();
    const float delta_h = static_cast<float>(sys_.huber_loss_parameter);
    const float inv_b = 1.0f / static_cast<float>(B);
    double loss = 0, q_sum = 0;
    std::fill(dq_.begin(), dq_.end(), 0.0f);
    for (size_t i = 0; i < B; ++i) {
      const uint32_t j = indices_[i];
      const float* nq = &next_q_[i * A];
      const size_t a_star = categorical::argmax(sys_.double_q ? &next_q_online_[i * A] : nq, A);
      const float y = buf.reward(j) + (buf.terminated(j) ? 0.0f : gamma_n * nq[a_star]);
      const size_t a = static_cast<size_t>(buf.action(j));
      const float q = q_values_[i * A + a];
      const float td = q - y;
      float l, g;
      if (delta_h > 0 && std::fabs(td) > delta_h) {
        l = delta_h * (std::fabs(td) - 0.5f * delta_h);
        g = td > 0 ? delta_h : -delta_h;
      } else {
        l = 0.5f * td * td;
        g = td;
      }
      loss += l;
      q_sum += q;
      dq_[i * A + a] = g * inv_b;
    }
    q_.zero_grad();
    q_.backward(dq_.data(), B, nullptr);
    clip_grad_norm(q_.grads(), q_.num_params(), sys_.max_grad_norm);
    if (sys_.decay_learning_rates) opt_.set_lr(lr_.at(counters().update * sys_.epochs + epoch));
    opt_.step(q_.params(), q_.grads());
    interval_train()
        .append("q_loss", loss / static_cast<double>(B))
        .append("q_value", q_sum / static_cast<double>(B));
    target_update_.after_step(grad_steps(), target_, q_);
  }

  void end_interval(Metrics& train) override {
    train.add("epsilon", epsilon());
    train.add("q_lr", opt_.lr());
  }

  void append_model_tensors(TensorList& out) override {
    q_.append_tensors(out, "q");
    target_.append_tensors(out, "q_target");
    opt_.append_tensors(out, "opt/q");
  }

  void append_stream_tensors(TensorList& out) override {
    out.push_back(tensor_ref("rng/explore", explore_rng_.words(), {Pcg64::kStateWords}));
    out.push_back(tensor_ref("rng/sample", sample_rng_.words(), {Pcg64::kStateWords}));
  }

  void check_restored() override {
    if (!explore_rng_.valid() || !sample_rng_.valid())
      throw std::runtime_error("rng/explore or rng/sample holds an invalid generator state");
    opt_.check_restored("opt/q");
  }

  const DqnConfig sys_;
  const size_t n_actions_, batch_;
  Mlp q_, target_;
  Adam opt_;
  Pcg64 explore_rng_, sample_rng_;
  const int64_t total_timesteps_;
  const LrSchedule lr_;
  const TargetUpdate target_update_;
  std::vector<float> q_values_, next_q_, next_q_online_, b_obs_, b_next_, dq_;
  std::vector<uint32_t> indices_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_dqn = {
    "ff_dqn",
    "Deep Q-learning with a replay buffer, epsilon-greedy exploration, n-step returns and "
    "optional double-DQN targets, for discrete actions (Stoix's ff_dqn).",
    dqn_fields,
    [] { return LearnerParams::of(DqnConfig{}); },
    validate_dqn,
    true,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfDqn>(cfg); }};

}  // namespace learners

}  // namespace edgerl
