// ff_dqn: deep Q-learning (Mnih et al. 2015) with a replay buffer, an epsilon-greedy
// behaviour policy on a linear schedule, a target network updated by hard copy (tau = 1) or
// Polyak averaging, Huber or squared TD loss, optional double-DQN targets (van Hasselt et al.
// 2016) and optional n-step returns (Sutton 1988; as in Rainbow), after CleanRL's dqn.py and
// Stoix's ff_dqn.py. Read it top to bottom: act and store transitions for train_frequency
// steps, then `epochs` gradient steps, each on a freshly sampled batch and followed by the
// target update when due.
//
// One "update" is train_frequency vector steps (num_envs * train_frequency env steps) followed
// by `epochs` gradient steps once warmup_steps env steps are taken. With n_step = n, each env
// keeps its last steps in a small queue and a transition enters the buffer once its n-step
// window is complete (or its episode ends): reward = sum_k gamma^k r_k, next observation the
// one after the window, bootstrapped with gamma^n. Random streams (SeedSequence(arch.seed)
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
#include "learners/learners.hpp"
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
      row<&DqnConfig::max_grad_norm>("system", "max_grad_norm", Kind::Double, 0, 1e6, T,
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
      row<&DqnConfig::target_update_period>("system", "target_update_period", Kind::Int, 1,
                                            1 << 30, T,
                                            "gradient steps between target-network updates"),
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

void validate_dqn(const Config& cfg) {
  const DqnConfig& s = cfg.system.params.as<DqnConfig>();
  const ArchConfig& a = cfg.arch;
  if (s.total_batch_size > s.total_buffer_size)
    throw ConfigError("system.total_batch_size = " + std::to_string(s.total_batch_size) +
                      " exceeds system.total_buffer_size = " + std::to_string(s.total_buffer_size));
  if (a.num_updates == 0 && a.total_timesteps < a.num_envs * s.train_frequency * a.num_evaluation)
    throw ConfigError("arch.total_timesteps = " + std::to_string(a.total_timesteps) +
                      " is less than one update per evaluation (arch.num_envs * "
                      "system.train_frequency * arch.num_evaluation = " +
                      std::to_string(a.num_envs * s.train_frequency * a.num_evaluation) + ")");
}

class FfDqn final : public System {
 public:
  explicit FfDqn(const Config& cfg)
      : sys_(cfg.system.params.as<DqnConfig>()),
        env_(cfg.env, static_cast<size_t>(cfg.arch.num_envs), cfg.arch.seed),
        E_(static_cast<size_t>(cfg.arch.num_envs)),
        obs_dim_(env_.obs_dim()),
        n_actions_(static_cast<size_t>(std::max(0, env_.num_actions()))),
        batch_(static_cast<size_t>(sys_.total_batch_size)),
        n_(static_cast<size_t>(sys_.n_step)),
        q_(obs_dim_, sys_.actor_network, std::max<size_t>(1, n_actions_), 1.0),
        target_(obs_dim_, sys_.actor_network, std::max<size_t>(1, n_actions_), 1.0),
        opt_(q_.num_params(), adam_options()),
        buffer_(static_cast<size_t>(sys_.total_buffer_size), obs_dim_, 0),
        explore_rng_(SeedSequence(cfg.arch.seed).child(2)),
        sample_rng_(SeedSequence(cfg.arch.seed).child(3)),
        total_timesteps_(cfg.arch.total_timesteps) {
    if (!env_.is_discrete())
      throw ConfigError("system.system_name = ff_dqn needs discrete actions, but " +
                        cfg.env.scenario_name + " has continuous actions");
    steps_per_update_ = static_cast<int64_t>(E_) * sys_.train_frequency;
    num_updates_ = cfg.arch.num_updates > 0 ? cfg.arch.num_updates
                                            : cfg.arch.total_timesteps / steps_per_update_;
    updates_per_eval_ = std::max<int64_t>(1, num_updates_ / cfg.arch.num_evaluation);

    Pcg64 init_rng(SeedSequence(cfg.arch.seed).child(0));
    q_.init(init_rng);
    target_.copy_params_from(q_);

    q_values_.resize(std::max(batch_, E_) * n_actions_);
    next_q_.resize(batch_ * n_actions_);
    next_q_online_.resize(batch_ * n_actions_);
    actions_.resize(E_);
    obs_.resize(E_ * obs_dim_);
    indices_.resize(batch_);
    b_obs_.resize(batch_ * obs_dim_);
    b_next_.resize(batch_ * obs_dim_);
    dq_.resize(batch_ * n_actions_);
    q_.reserve(std::max(batch_, E_));
    target_.reserve(batch_);
    nq_obs_.resize(E_ * n_ * obs_dim_);
    nq_action_.resize(E_ * n_);
    nq_reward_.resize(E_ * n_);
    nq_count_.resize(E_);
    double gn = 1;
    for (size_t k = 0; k < n_; ++k) gn *= sys_.gamma;
    gamma_n_ = static_cast<float>(gn);
    env_.reset();
  }

  void learn(Metrics& train, Metrics& act) override {
    std::vector<double> losses, q_mean, ep_return, ep_length;
    losses.reserve(static_cast<size_t>(updates_per_eval_ * sys_.epochs));
    q_mean.reserve(losses.capacity());
    for (int64_t u = 0; u < updates_per_eval_; ++u) {
      for (int64_t k = 0; k < sys_.train_frequency; ++k) act_and_store(ep_return, ep_length);
      if (counters_.timestep >= sys_.warmup_steps && buffer_.size() >= batch_) {
        for (int64_t epoch = 0; epoch < sys_.epochs; ++epoch) {
          double q_avg = 0;
          losses.push_back(gradient_step(epoch, &q_avg));
          q_mean.push_back(q_avg);
          update_target();
        }
      }
      counters_.update += 1;
      report_progress(counters_.timestep);
    }
    counters_.eval_step += 1;
    if (!losses.empty()) {
      train.add("q_loss", std::move(losses));
      train.add("q_value", std::move(q_mean));
    }
    train.add("epsilon", epsilon());
    train.add("q_lr", opt_.lr());
    if (!ep_return.empty()) {
      act.add("episode_return", std::move(ep_return));
      act.add("episode_length", std::move(ep_length));
    }
  }

  void act(const ActRequest& r) override {
    eval_q_.resize(r.n * n_actions_);
    q_.forward(r.obs, r.n, eval_q_.data());
    for (size_t i = 0; i < r.n; ++i) {
      const bool random = !r.greedy && r.rng->uniform() < sys_.evaluation_epsilon;
      r.discrete[i] =
          static_cast<int32_t>(random ? r.rng->below(n_actions_)
                                      : categorical::argmax(&eval_q_[i * n_actions_], n_actions_));
    }
  }

  void append_tensors(TensorList& out) override {
    q_.append_tensors(out, "q");
    target_.append_tensors(out, "q_target");
    opt_.append_tensors(out, "opt/q");
    buffer_.append_tensors(out, "buffer/");
    out.push_back(tensor_ref("nstep/obs", nq_obs_.data(), {E_, n_, obs_dim_}));
    out.push_back(tensor_ref("nstep/action", nq_action_.data(), {E_, n_}));
    out.push_back(tensor_ref("nstep/reward", nq_reward_.data(), {E_, n_}));
    out.push_back(tensor_ref("nstep/count", nq_count_.data(), {E_}));
    out.push_back(tensor_ref("rng/explore", explore_rng_.words(), {Pcg64::kStateWords}));
    out.push_back(tensor_ref("rng/sample", sample_rng_.words(), {Pcg64::kStateWords}));
    for (TensorRef& t : env_.tensors("env/")) out.push_back(std::move(t));
    append_counter_tensors(counters_, out);
    out.push_back(tensor_ref("counters/grad_steps", &grad_steps_, {}));
  }

  void after_restore() override {
    if (!explore_rng_.valid() || !sample_rng_.valid())
      throw std::runtime_error("rng/explore or rng/sample holds an invalid generator state");
    if (!buffer_.consistent()) throw std::runtime_error("buffer/pos or buffer/size is impossible");
    for (size_t i = 0; i < buffer_.size(); ++i)
      if (buffer_.action(i) < 0 || static_cast<size_t>(buffer_.action(i)) >= n_actions_)
        throw std::runtime_error("buffer/action holds an action outside the action space");
    env_.check_state();
    // Between steps queue e holds the last min(steps into the episode, n - 1) steps.
    for (size_t e = 0; e < E_; ++e) {
      if (nq_count_[e] != std::min<int64_t>(env_.elapsed_steps()[e], sys_.n_step - 1))
        throw std::runtime_error("nstep/count does not match the environments' step counters");
      for (int64_t i = 0; i < nq_count_[e]; ++i) {
        const size_t k = e * n_ + static_cast<size_t>(i);
        bool ok = nq_action_[k] >= 0 && static_cast<size_t>(nq_action_[k]) < n_actions_ &&
                  std::isfinite(nq_reward_[k]);
        for (size_t d = 0; d < obs_dim_; ++d) ok = ok && std::isfinite(nq_obs_[k * obs_dim_ + d]);
        if (!ok) throw std::runtime_error("nstep/obs, nstep/action or nstep/reward is impossible");
      }
    }
    check_counters(counters_, 0);
    if (counters_.timestep != counters_.update * steps_per_update_ || grad_steps_ < 0 ||
        grad_steps_ > counters_.update * sys_.epochs)
      throw std::runtime_error("counters do not fit together");
  }

  const Counters& counters() const override { return counters_; }
  int64_t updates_per_eval() const override { return updates_per_eval_; }
  int64_t steps_per_update() const override { return steps_per_update_; }

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
                           static_cast<double>(counters_.timestep),
                           sys_.exploration_fraction * static_cast<double>(total_timesteps_));
  }

  // One vector step with the epsilon-greedy policy; every transition goes to the buffer with
  // its true next observation (the final one where the episode ended).
  void act_and_store(std::vector<double>& ep_return, std::vector<double>& ep_length) {
    const double eps = epsilon();
    std::copy(env_.obs(), env_.obs() + E_ * obs_dim_, obs_.begin());
    q_.forward(obs_.data(), E_, q_values_.data());
    for (size_t e = 0; e < E_; ++e) {
      const bool random = explore_rng_.uniform() < eps;
      actions_[e] = static_cast<int32_t>(
          random ? explore_rng_.below(n_actions_)
                 : categorical::argmax(&q_values_[e * n_actions_], n_actions_));
    }
    env_.step(actions_.data());
    for (size_t e = 0; e < E_; ++e) {
      // Queue the step, then store every window that is complete: the oldest one once it
      // spans n steps; at an episode's end every queued window if the episode terminated (no
      // bootstrap needed), else only a full one (a window cut short by the time limit would
      // need its own bootstrap discount, so it is dropped: at most n - 1 per such episode).
      const size_t c = static_cast<size_t>(nq_count_[e]), slot = e * n_ + c;
      std::copy(&obs_[e * obs_dim_], &obs_[(e + 1) * obs_dim_], &nq_obs_[slot * obs_dim_]);
      nq_action_[slot] = actions_[e];
      nq_reward_[slot] = env_.rewards()[e];
      nq_count_[e] = static_cast<int64_t>(c + 1);
      const bool terminated = env_.terminated()[e] != 0;
      if (terminated || env_.truncated()[e]) {
        for (size_t i = 0; i <= c; ++i)
          if (terminated || i + n_ == c + 1)
            store_window(e, i, env_.final_obs() + e * obs_dim_, terminated);
        nq_count_[e] = 0;
      } else if (c + 1 == n_) {
        store_window(e, 0, env_.obs() + e * obs_dim_, false);
        pop_oldest(e);
      }
    }
    for (const EpisodeStats& ep : env_.completed()) {
      ep_return.push_back(ep.ret);
      ep_length.push_back(static_cast<double>(ep.length));
    }
    counters_.timestep += static_cast<int64_t>(E_);
  }

  // Adds queue e's window from entry i to its newest entry to the buffer: the discounted sum
  // of its rewards and the observation after its last step.
  void store_window(size_t e, size_t i, const float* next, bool terminated) {
    const size_t end = e * n_ + static_cast<size_t>(nq_count_[e]);
    double ret = 0, discount = 1;
    for (size_t k = e * n_ + i; k < end; ++k) {
      ret += discount * nq_reward_[k];
      discount *= sys_.gamma;
    }
    const size_t first = e * n_ + i;
    buffer_.add(&nq_obs_[first * obs_dim_], next, nq_action_[first], nullptr,
                static_cast<float>(ret), terminated);
  }

  void pop_oldest(size_t e) {
    const size_t b = e * n_, c = static_cast<size_t>(nq_count_[e]);
    std::copy(&nq_obs_[(b + 1) * obs_dim_], &nq_obs_[(b + c) * obs_dim_], &nq_obs_[b * obs_dim_]);
    std::copy(&nq_action_[b + 1], &nq_action_[b + c], &nq_action_[b]);
    std::copy(&nq_reward_[b + 1], &nq_reward_[b + c], &nq_reward_[b]);
    nq_count_[e] = static_cast<int64_t>(c - 1);
  }

  // TD target y = r + gamma^n (1 - terminated) Q_target(s', a*), a* = argmax_a Q_target(s', a)
  // (or argmax_a Q(s', a) for double DQN); loss = mean of the Huber or squared TD error.
  double gradient_step(int64_t epoch, double* q_avg) {
    const size_t B = batch_, A = n_actions_;
    buffer_.sample(sample_rng_, B, indices_.data());
    for (size_t i = 0; i < B; ++i) {
      std::copy(buffer_.obs(indices_[i]), buffer_.obs(indices_[i]) + obs_dim_,
                &b_obs_[i * obs_dim_]);
      std::copy(buffer_.next_obs(indices_[i]), buffer_.next_obs(indices_[i]) + obs_dim_,
                &b_next_[i * obs_dim_]);
    }
    target_.forward(b_next_.data(), B, next_q_.data());
    if (sys_.double_q) q_.forward(b_next_.data(), B, next_q_online_.data());
    q_.forward(b_obs_.data(), B, q_values_.data());
    const float delta_h = static_cast<float>(sys_.huber_loss_parameter);
    const float inv_b = 1.0f / static_cast<float>(B);
    double loss = 0, q_sum = 0;
    std::fill(dq_.begin(), dq_.end(), 0.0f);
    for (size_t i = 0; i < B; ++i) {
      const uint32_t j = indices_[i];
      const float* nq = &next_q_[i * A];
      const size_t a_star = categorical::argmax(sys_.double_q ? &next_q_online_[i * A] : nq, A);
      const float y = buffer_.reward(j) + (buffer_.terminated(j) ? 0.0f : gamma_n_ * nq[a_star]);
      const size_t a = static_cast<size_t>(buffer_.action(j));
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
    if (sys_.decay_learning_rates)
      opt_.set_lr(sys_.q_lr * (1.0 - static_cast<double>(counters_.update * sys_.epochs + epoch) /
                                         static_cast<double>(num_updates_ * sys_.epochs)));
    opt_.step(q_.params(), q_.grads());
    grad_steps_ += 1;
    *q_avg = q_sum / static_cast<double>(B);
    return loss / static_cast<double>(B);
  }

  void update_target() {
    if (grad_steps_ % sys_.target_update_period != 0) return;
    if (sys_.tau >= 1.0)
      target_.copy_params_from(q_);
    else
      target_.polyak_update(q_, sys_.tau);
  }

  const DqnConfig sys_;
  VecEnv env_;
  const size_t E_, obs_dim_, n_actions_, batch_, n_;
  Mlp q_, target_;
  Adam opt_;
  ReplayBuffer buffer_;
  Pcg64 explore_rng_, sample_rng_;
  const int64_t total_timesteps_;
  Counters counters_;
  int64_t grad_steps_ = 0;
  float gamma_n_ = 1;  // gamma^n_step, the bootstrap discount of a stored window
  // n-step queue of env e: entries e*n_ .. e*n_ + nq_count_[e] - 1, oldest first.
  std::vector<float> nq_obs_, nq_reward_;
  std::vector<int32_t> nq_action_;
  std::vector<int64_t> nq_count_;
  int64_t steps_per_update_ = 0, num_updates_ = 0, updates_per_eval_ = 0;

  std::vector<float> q_values_, next_q_, next_q_online_, obs_, b_obs_, b_next_, dq_, eval_q_;
  std::vector<int32_t> actions_;
  std::vector<uint32_t> indices_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_dqn = {
    "ff_dqn",
    "Deep Q-learning with a replay buffer, epsilon-greedy exploration, n-step returns and "
    "optional double-DQN targets, for discrete actions (Stoix's ff_dqn).",
    dqn_fields, [] { return LearnerParams::of(DqnConfig{}); }, validate_dqn,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfDqn>(cfg); }};

}  // namespace learners

}  // namespace edgerl
