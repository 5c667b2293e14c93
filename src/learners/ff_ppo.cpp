// ff_ppo and ff_ppo_continuous: feed-forward PPO (Schulman et al. 2017) with separate actor
// and critic networks, as Stoix's ff_ppo.py and CleanRL's ppo.py / ppo_continuous_action.py.
// Read it top to bottom in the order it runs: rollout, bootstrap values, GAE, then epochs of
// shuffled minibatches with the clipped surrogate, the (clipped) value loss and the entropy
// bonus, each network stepped by its own clipped Adam (optax.chain(clip_by_global_norm, adam)).
//
// Random streams (SeedSequence(arch.seed) children): 0 network initialisation, 2 action
// sampling, 3 minibatch shuffling; training env i is reset with seed arch.seed + i as
// Gymnasium's vector envs do. Every stream, the envs, both networks, their Adam moments, the
// observation statistics and the counters are listed as tensors, so a checkpoint resumes the
// run bit for bit.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/detmath.hpp"
#include "core/pool.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "learners/common.hpp"
#include "learners/registry.hpp"
#include "learners/rl_math.hpp"
#include "learners/rollout.hpp"
#include "nn/distributions.hpp"

namespace edgerl {
namespace {

// [system] and [network.*] of ff_ppo and ff_ppo_continuous (Stoix's ff_ppo.yaml names).
struct PpoConfig {
  double actor_lr = 2.5e-4;
  double critic_lr = 2.5e-4;
  double adam_eps = 1e-5;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = false;
  double gamma = 0.99;
  int64_t rollout_length = 128;
  int64_t epochs = 4;
  int64_t num_minibatches = 4;
  double gae_lambda = 0.95;
  double clip_eps = 0.2;
  bool clip_value_loss = true;
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  bool standardize_advantages = true;
  bool normalize_observations = false;
  double init_action_std = 1.0;  // continuous: initial std of the Gaussian policy
  NetworkConfig actor_network, critic_network;
};

std::vector<schema::Field> ppo_fields(bool continuous) {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  std::vector<schema::Field> f = {
      row<&PpoConfig::actor_lr>("system", "actor_lr", Kind::Double, 0, 1, T,
                                "Adam learning rate of the actor"),
      row<&PpoConfig::critic_lr>("system", "critic_lr", Kind::Double, 0, 1, T,
                                 "Adam learning rate of the critic"),
      row<&PpoConfig::adam_eps>("system", "adam_eps", Kind::Double, 1e-12, 1, T,
                                "Adam epsilon (added to the root of the second moment)"),
      row<&PpoConfig::max_grad_norm>(
          "system", "max_grad_norm", Kind::Double, 0, 1e6, T,
          "global gradient-norm clipping threshold; 0 disables clipping"),
      row<&PpoConfig::decay_learning_rates>("system", "decay_learning_rates", Kind::Bool, 0, 0, T,
                                            "anneal learning rates linearly to 0 over training"),
      row<&PpoConfig::gamma>("system", "gamma", Kind::Double, 0, 1, T, "discount factor"),
      row<&PpoConfig::rollout_length>("system", "rollout_length", Kind::Int, 1, 1 << 20, T,
                                      "environment steps per env per update"),
      row<&PpoConfig::epochs>("system", "epochs", Kind::Int, 1, 10000, T,
                              "passes over each rollout"),
      row<&PpoConfig::num_minibatches>(
          "system", "num_minibatches", Kind::Int, 1, 1 << 20, T,
          "minibatches per epoch (num_envs*rollout_length must divide)"),
      row<&PpoConfig::gae_lambda>("system", "gae_lambda", Kind::Double, 0, 1, T, "GAE lambda"),
      row<&PpoConfig::clip_eps>(
          "system", "clip_eps", Kind::Double, 0, 10, T,
          "PPO ratio clipping epsilon (also clips the value loss if enabled)"),
      row<&PpoConfig::clip_value_loss>("system", "clip_value_loss", Kind::Bool, 0, 0, T,
                                       "clip the value loss around the old values"),
      row<&PpoConfig::ent_coef>("system", "ent_coef", Kind::Double, 0, 100, T,
                                "entropy bonus coefficient"),
      row<&PpoConfig::vf_coef>("system", "vf_coef", Kind::Double, 0, 100, T,
                               "value loss coefficient"),
      row<&PpoConfig::standardize_advantages>("system", "standardize_advantages", Kind::Bool, 0, 0,
                                              T, "normalise advantages per minibatch"),
      row<&PpoConfig::normalize_observations>("system", "normalize_observations", Kind::Bool, 0, 0,
                                              T, "running mean/std observation normalisation"),
  };
  if (continuous)
    f.push_back(
        row<&PpoConfig::init_action_std>("system", "init_action_std", Kind::Double, 1e-6, 1e6, T,
                                         "initial standard deviation of the Gaussian policy"));
  for (auto& r : schema::network_rows<&PpoConfig::actor_network>("network.actor_network",
                                                                 "hidden layer sizes of the actor"))
    f.push_back(r);
  for (auto& r : schema::network_rows<&PpoConfig::critic_network>(
           "network.critic_network", "hidden layer sizes of the critic"))
    f.push_back(r);
  return f;
}

void validate_ppo(const Config& cfg) {
  const PpoConfig& s = cfg.system.params.as<PpoConfig>();
  const ArchConfig& a = cfg.arch;
  const int64_t batch = a.num_envs * s.rollout_length;
  if (batch % s.num_minibatches != 0)
    throw ConfigError(
        "system.num_minibatches = " + std::to_string(s.num_minibatches) +
        " must divide arch.num_envs * system.rollout_length = " + std::to_string(batch));
  if (a.num_updates == 0 && a.total_timesteps < batch * a.num_evaluation)
    throw ConfigError("arch.total_timesteps = " + std::to_string(a.total_timesteps) +
                      " is less than one update per evaluation (arch.num_envs * "
                      "system.rollout_length * arch.num_evaluation = " +
                      std::to_string(batch * a.num_evaluation) + ")");
}

// The acting half of PPO, copied out of the learner: the actor, its log-std and the
// observation statistics of the moment it was taken.
class PpoPolicy final : public Policy {
 public:
  PpoPolicy(const Mlp& actor, std::vector<float> log_std, const RunningMeanStd* obs_rms,
            bool discrete, size_t act_dim, std::string env)
      : actor_(actor),
        log_std_(std::move(log_std)),
        normalise_(obs_rms != nullptr),
        obs_rms_(obs_rms ? *obs_rms : RunningMeanStd()),
        discrete_(discrete),
        act_dim_(act_dim),
        env_(std::move(env)) {}

  void act(const ActRequest& r) override {
    obs_.resize(r.n * actor_.in_dim());
    out_.resize(r.n * act_dim_);
    const float* x = r.obs;
    if (normalise_) {
      obs_rms_.normalise(r.obs, r.n, obs_.data());
      x = obs_.data();
    }
    actor_.predict(x, r.n, out_.data());
    const float* out = out_.data();
    if (discrete_ && r.greedy)
      categorical::argmax_rows(out, r.n, act_dim_, r.discrete);
    else if (discrete_)
      categorical::sample_rows(out, r.n, act_dim_, *r.rng, r.discrete,
                               static_cast<float*>(nullptr));
    else if (r.greedy)
      std::copy(out, out + r.n * act_dim_, r.continuous);
    else
      diag_gaussian::sample_rows(out, log_std_.data(), r.n, act_dim_, *r.rng, r.continuous,
                                 static_cast<float*>(nullptr));
  }

  PolicyModel model() const override {
    PolicyModel m;
    m.env = env_;
    m.obs_dim = actor_.in_dim();
    if (normalise_) {
      m.obs_mean = obs_rms_.mean();
      m.obs_var = obs_rms_.var();
      m.obs_clip = obs_rms_.clip();
    }
    m.widths.push_back(actor_.layers().front().in);
    for (const auto& l : actor_.layers()) m.widths.push_back(l.out);
    m.hidden = actor_.layers().size() > 1 ? actor_.layers().front().activation : Activation::tanh;
    m.params.assign(actor_.params(), actor_.params() + actor_.num_params());
    m.output = discrete_ ? PolicyModel::Output::argmax : PolicyModel::Output::identity;
    return m;
  }

  void append_tensors(TensorList& out, const std::string& prefix) override {
    actor_.append_tensors(out, prefix + "actor");
    if (!log_std_.empty())
      out.push_back(tensor_ref(prefix + "log_std", log_std_.data(), {act_dim_}));
    if (normalise_) obs_rms_.append_tensors(out, prefix + "obs_rms/");
  }

 private:
  Mlp actor_;
  std::vector<float> log_std_;
  bool normalise_;
  RunningMeanStd obs_rms_;
  bool discrete_;
  size_t act_dim_;
  std::string env_;
  std::vector<float> obs_, out_;
};

class FfPpo final : public System {
 public:
  explicit FfPpo(const Config& cfg)
      : sys_(cfg.system.params.as<PpoConfig>()),
        env_(cfg.env, static_cast<size_t>(cfg.arch.num_envs), cfg.arch.seed),
        discrete_(env_.is_discrete()),
        obs_dim_(env_.obs_dim()),
        act_dim_(discrete_ ? static_cast<size_t>(env_.num_actions()) : env_.action_dim()),
        T_(static_cast<size_t>(sys_.rollout_length)),
        E_(static_cast<size_t>(cfg.arch.num_envs)),
        actor_(obs_dim_, sys_.actor_network, act_dim_, 0.01),
        critic_(obs_dim_, sys_.critic_network, 1, 1.0),
        actor_opt_(actor_.num_params(), adam_options(sys_.actor_lr)),
        critic_opt_(critic_.num_params(), adam_options(sys_.critic_lr)),
        log_std_(discrete_ ? 0 : act_dim_, static_cast<float>(detmath::log(sys_.init_action_std))),
        log_std_grad_(log_std_.size()),
        log_std_opt_(log_std_.size(), adam_options(sys_.actor_lr)),
        obs_rms_(obs_dim_),
        act_rng_(SeedSequence(cfg.arch.seed).child(2)),
        shuffle_rng_(SeedSequence(cfg.arch.seed).child(3)),
        ro_(T_, E_, obs_dim_, discrete_ ? 0 : act_dim_),
        pool_(WorkerPool::threads_for(cfg.arch.num_threads, 2)) {
    const int64_t per_update = sys_.rollout_length * cfg.arch.num_envs;
    num_updates_ =
        cfg.arch.num_updates > 0 ? cfg.arch.num_updates : cfg.arch.total_timesteps / per_update;
    plan(num_updates_, cfg.arch.num_evaluation);
    actor_lr_ = {sys_.actor_lr, sys_.decay_learning_rates, num_updates_};
    critic_lr_ = {sys_.critic_lr, sys_.decay_learning_rates, num_updates_};

    Pcg64 init_rng(SeedSequence(cfg.arch.seed).child(0));
    actor_.init(init_rng);
    critic_.init(init_rng);

    const size_t N = T_ * E_;
    minibatch_ = N / static_cast<size_t>(sys_.num_minibatches);
    indices_.resize(N);
    step_obs_.resize(E_ * obs_dim_);
    step_out_.resize(E_ * act_dim_);
    final_obs_.resize(E_ * obs_dim_);
    final_values_.resize(E_);
    bootstrap_values_.resize(E_);
    mb_adv_.resize(minibatch_);
    mb_obs_.resize(minibatch_ * obs_dim_);
    mb_out_.resize(minibatch_ * act_dim_);
    mb_dout_.resize(minibatch_ * act_dim_);
    if (discrete_) {
      mb_actions_.resize(minibatch_);
      mb_lp_.resize(minibatch_ * act_dim_);
      mb_p_.resize(minibatch_ * act_dim_);
      mb_logp_.resize(minibatch_);
      mb_entropy_.resize(minibatch_);
    }
    mb_values_.resize(minibatch_);
    mb_dvalues_.resize(minibatch_);
    actor_.reserve(std::max(minibatch_, E_));
    critic_.reserve(std::max(minibatch_, E_));

    env_.reset();
    if (sys_.normalize_observations) obs_rms_.update(env_.obs(), E_);
  }

  // One update: a rollout, GAE, then `epochs` passes of shuffled minibatches.
  void update() override {
    collect_rollout();
    compute_advantages();
    anneal_learning_rates();
    Metrics& m = interval_train();
    for (int64_t epoch = 0; epoch < sys_.epochs; ++epoch) {
      for (size_t i = 0; i < indices_.size(); ++i) indices_[i] = static_cast<uint32_t>(i);
      shuffle_rng_.shuffle(indices_.data(), indices_.size());
      for (size_t mb = 0; mb < indices_.size() / minibatch_; ++mb) {
        const uint32_t* idx = &indices_[mb * minibatch_];
        gather(idx);
        // The actor's and the critic's steps share only the read-only minibatch: on two
        // threads, or one while the other is held back (PairGuard).
        MinibatchStats s{};
        double value_loss = 0;
        {
          const StepThreads step_threads(&pool_, guard_);
          pool_.both([&] { s = update_actor(idx); }, [&] { value_loss = update_critic(idx); });
        }
        m.append("actor_loss", s.actor_loss)
            .append("value_loss", value_loss)
            .append("entropy", s.entropy)
            .append("approx_kl", s.approx_kl)
            .append("clipfrac", s.clipfrac);
      }
    }
    counters_.timestep += static_cast<int64_t>(T_ * E_);
  }

  void end_interval(Metrics& train) override {
    train.add("actor_lr", actor_opt_.lr());
    train.add("critic_lr", critic_opt_.lr());
    if (!discrete_) train.add("action_std", detmath::exp(static_cast<double>(log_std_[0])));
  }

  std::unique_ptr<Policy> policy() const override {
    return std::make_unique<PpoPolicy>(actor_, log_std_,
                                       sys_.normalize_observations ? &obs_rms_ : nullptr, discrete_,
                                       act_dim_, env_.info().name);
  }

  void append_tensors(TensorList& out) override {
    actor_.append_tensors(out, "actor");
    critic_.append_tensors(out, "critic");
    actor_opt_.append_tensors(out, "opt/actor");
    critic_opt_.append_tensors(out, "opt/critic");
    if (!discrete_) {
      out.push_back(tensor_ref("actor/log_std", log_std_.data(), {log_std_.size()}));
      log_std_opt_.append_tensors(out, "opt/log_std");
    }
    if (sys_.normalize_observations) obs_rms_.append_tensors(out, "obs_norm/");
    out.push_back(tensor_ref("rng/act", act_rng_.words(), {Pcg64::kStateWords}));
    out.push_back(tensor_ref("rng/shuffle", shuffle_rng_.words(), {Pcg64::kStateWords}));
    for (TensorRef& t : env_.tensors("env/")) out.push_back(std::move(t));
    append_counter_tensors(out);
  }

  void after_restore() override {
    if (!act_rng_.valid() || !shuffle_rng_.valid())
      throw std::runtime_error("rng/act or rng/shuffle holds an invalid generator state");
    actor_opt_.check_restored("opt/actor");
    critic_opt_.check_restored("opt/critic");
    if (!discrete_) log_std_opt_.check_restored("opt/log_std");
    env_.check_state();
    check_counters(static_cast<int64_t>(T_ * E_));
  }

  int64_t steps_per_update() const override { return static_cast<int64_t>(T_ * E_); }
  int threads() const override { return pool_.threads(); }
  int64_t steps_alone(int64_t* of) const override { return guard_.alone_steps(of); }

 private:
  struct MinibatchStats {
    double actor_loss, entropy, approx_kl, clipfrac;
  };

  AdamOptions adam_options(double lr) const {
    AdamOptions o;
    o.lr = lr;
    o.eps = sys_.adam_eps;
    return o;
  }

  // The network input for raw observations: normalised with the running statistics if on.
  const float* observe(const float* raw, size_t n, float* scratch) const {
    if (!sys_.normalize_observations) return raw;
    obs_rms_.normalise(raw, n, scratch);
    return scratch;
  }

  // rollout_length steps of every env with the current policy, storing what GAE and the
  // losses need, with ro_.next_values = V(true next observation) for every step.
  void collect_rollout() {
    for (size_t t = 0; t < T_; ++t) {
      const size_t row = t * E_;
      float* obs = &ro_.obs[row * obs_dim_];
      const float* x = observe(env_.obs(), E_, obs);
      if (x != obs) std::copy(x, x + E_ * obs_dim_, obs);
      actor_.predict(obs, E_, step_out_.data());
      critic_.predict(obs, E_, &ro_.values[row]);
      if (t > 0) fill_next_values(row - E_, &ro_.values[row]);
      if (discrete_) {
        int32_t* a = &ro_.actions_i[row];
        categorical::sample_rows(step_out_.data(), E_, act_dim_, act_rng_, a, &ro_.log_probs[row]);
        env_.step(a);
      } else {
        float* a = &ro_.actions_f[row * act_dim_];
        diag_gaussian::sample_rows(step_out_.data(), log_std_.data(), E_, act_dim_, act_rng_, a,
                                   &ro_.log_probs[row]);
        env_.step(a);
      }
      if (sys_.normalize_observations) obs_rms_.update(env_.obs(), E_);
      std::copy(env_.rewards(), env_.rewards() + E_, &ro_.rewards[row]);
      std::copy(env_.terminated(), env_.terminated() + E_, &ro_.terminated[row]);
      std::copy(env_.truncated(), env_.truncated() + E_, &ro_.truncated[row]);
      for (const EpisodeStats& ep : env_.completed())
        interval_act()
            .append("episode_return", ep.ret)
            .append("episode_length", static_cast<double>(ep.length));
      value_truncated(row);
    }
    const float* x = observe(env_.obs(), E_, step_obs_.data());
    critic_.predict(x, E_, bootstrap_values_.data());
    fill_next_values((T_ - 1) * E_, bootstrap_values_.data());
  }

  // Where the episode went on (or terminated: GAE ignores the value), the true next
  // observation is the one the next step starts from.
  void fill_next_values(size_t row, const float* following_values) {
    for (size_t e = 0; e < E_; ++e)
      if (!ro_.truncated_only(row + e)) ro_.next_values[row + e] = following_values[e];
  }

  // Where the time limit cut an episode, bootstrap from its final observation (read now: the
  // next step overwrites it).
  void value_truncated(size_t row) {
    size_t k = 0;
    for (size_t e = 0; e < E_; ++e)
      if (ro_.truncated_only(row + e)) {
        const float* f = env_.final_obs() + e * obs_dim_;
        std::copy(f, f + obs_dim_, &final_obs_[k++ * obs_dim_]);
      }
    if (k == 0) return;
    const float* x = observe(final_obs_.data(), k, step_obs_.data());
    critic_.predict(x, k, final_values_.data());
    k = 0;
    for (size_t e = 0; e < E_; ++e)
      if (ro_.truncated_only(row + e)) ro_.next_values[row + e] = final_values_[k++];
  }

  void compute_advantages() {
    compute_gae(T_, E_, ro_.rewards.data(), ro_.values.data(), ro_.next_values.data(),
                ro_.terminated.data(), ro_.truncated.data(), static_cast<float>(sys_.gamma),
                static_cast<float>(sys_.gae_lambda), ro_.advantages.data(), ro_.returns.data());
  }

  // CleanRL's annealing: lr = lr0 * (1 - update / num_updates), set once per update.
  void anneal_learning_rates() {
    if (!sys_.decay_learning_rates) return;
    actor_opt_.set_lr(actor_lr_.at(counters_.update));
    log_std_opt_.set_lr(actor_lr_.at(counters_.update));
    critic_opt_.set_lr(critic_lr_.at(counters_.update));
  }

  // Gathers the minibatch's observations (shared by the actor and critic updates) and its
  // advantages, standardised over the minibatch if configured.
  void gather(const uint32_t* idx) {
    for (size_t i = 0; i < minibatch_; ++i)
      std::copy(&ro_.obs[idx[i] * obs_dim_], &ro_.obs[idx[i] * obs_dim_] + obs_dim_,
                &mb_obs_[i * obs_dim_]);
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < minibatch_; ++i) mean += ro_.advantages[idx[i]];
    mean /= static_cast<double>(minibatch_);
    for (size_t i = 0; i < minibatch_; ++i) {
      const double d = ro_.advantages[idx[i]] - mean;
      var += d * d;
    }
    const double inv_std = 1.0 / (std::sqrt(var / static_cast<double>(minibatch_)) + 1e-8);
    for (size_t i = 0; i < minibatch_; ++i)
      mb_adv_[i] = sys_.standardize_advantages
                       ? static_cast<float>((ro_.advantages[idx[i]] - mean) * inv_std)
                       : ro_.advantages[idx[i]];
  }

  // Clipped surrogate objective plus entropy bonus:
  //   L = -mean(min(r A, clip(r, 1-eps, 1+eps) A)) - ent_coef * mean(H),  r = pi/pi_old.
  MinibatchStats update_actor(const uint32_t* idx) {
    const size_t M = minibatch_;
    const float inv_m = 1.0f / static_cast<float>(M);
    const float eps = static_cast<float>(sys_.clip_eps);
    const float ent_coef = static_cast<float>(sys_.ent_coef);
    actor_.forward(mb_obs_.data(), M, mb_out_.data());
    actor_.zero_grad();
    std::fill(log_std_grad_.begin(), log_std_grad_.end(), 0.0f);
    double loss = 0, ent = 0, kl = 0, clipped = 0;
    if (discrete_) {  // the softmax of each row once, for the loss and its gradient
      for (size_t i = 0; i < M; ++i) mb_actions_[i] = ro_.actions_i[idx[i]];
      categorical::loss_terms_rows(mb_out_.data(), M, act_dim_, mb_actions_.data(), mb_lp_.data(),
                                   mb_p_.data(), mb_logp_.data(), mb_entropy_.data());
    }
    for (size_t i = 0; i < M; ++i) {
      const size_t j = idx[i];
      const float* out = &mb_out_[i * act_dim_];
      float* dout = &mb_dout_[i * act_dim_];
      float logp, h;
      if (discrete_) {
        logp = mb_logp_[i];
        h = mb_entropy_[i];
      } else {
        logp =
            diag_gaussian::log_prob(out, log_std_.data(), &ro_.actions_f[j * act_dim_], act_dim_);
        h = diag_gaussian::entropy(log_std_.data(), act_dim_);
      }
      const float log_ratio = logp - ro_.log_probs[j];
      const float ratio = detmath::exp(log_ratio);
      float g_logp;
      loss += clipped_surrogate_loss(ratio, mb_adv_[i], eps, &g_logp);
      g_logp *= inv_m;
      if (discrete_)
        categorical::backward_from_terms(&mb_lp_[i * act_dim_], &mb_p_[i * act_dim_], act_dim_,
                                         static_cast<size_t>(mb_actions_[i]), h, g_logp,
                                         -ent_coef * inv_m, dout);
      else
        diag_gaussian::backward(out, log_std_.data(), &ro_.actions_f[j * act_dim_], act_dim_,
                                g_logp, -ent_coef * inv_m, dout, log_std_grad_.data());
      ent += h;
      kl += (ratio - 1.0f) - log_ratio;
      clipped += std::fabs(ratio - 1.0f) > eps ? 1.0 : 0.0;
    }
    actor_.backward(mb_dout_.data(), M, nullptr);
    clip_two(actor_.grads(), actor_.num_params(), log_std_grad_.data(), log_std_grad_.size());
    actor_opt_.step(actor_.params(), actor_.grads());
    if (!discrete_) log_std_opt_.step(log_std_.data(), log_std_grad_.data());
    const double m = static_cast<double>(M);
    return {loss / m - sys_.ent_coef * ent / m, ent / m, kl / m, clipped / m};
  }

  // Value loss 0.5 * max((v - R)^2, (v_clipped - R)^2), v_clipped = v_old + clip(v - v_old).
  double update_critic(const uint32_t* idx) {
    const size_t M = minibatch_;
    const float scale = static_cast<float>(sys_.vf_coef) / static_cast<float>(M);
    const float eps = static_cast<float>(sys_.clip_eps);
    critic_.forward(mb_obs_.data(), M, mb_values_.data());
    double loss = 0;
    for (size_t i = 0; i < M; ++i) {
      const size_t j = idx[i];
      float dv;
      loss +=
          value_loss(mb_values_[i], ro_.values[j], ro_.returns[j], eps, sys_.clip_value_loss, &dv);
      mb_dvalues_[i] = dv * scale;
    }
    critic_.zero_grad();
    critic_.backward(mb_dvalues_.data(), M, nullptr);
    clip_grad_norm(critic_.grads(), critic_.num_params(), sys_.max_grad_norm);
    critic_opt_.step(critic_.params(), critic_.grads());
    return loss / static_cast<double>(M);
  }

  // Global-norm clipping over the actor's network and log-std gradients together.
  void clip_two(float* a, size_t na, float* b, size_t nb) const {
    if (sys_.max_grad_norm <= 0) return;
    const double na2 = global_norm(a, na), nb2 = global_norm(b, nb);
    const double norm = std::sqrt(na2 * na2 + nb2 * nb2);
    if (norm <= sys_.max_grad_norm) return;
    const float s = static_cast<float>(sys_.max_grad_norm / norm);
    for (size_t i = 0; i < na; ++i) a[i] *= s;
    for (size_t i = 0; i < nb; ++i) b[i] *= s;
  }

  const PpoConfig sys_;
  VecEnv env_;
  const bool discrete_;
  const size_t obs_dim_, act_dim_, T_, E_;
  Mlp actor_, critic_;
  Adam actor_opt_, critic_opt_;
  std::vector<float> log_std_, log_std_grad_;
  Adam log_std_opt_;
  RunningMeanStd obs_rms_;
  Pcg64 act_rng_, shuffle_rng_;
  int64_t num_updates_ = 0;
  LrSchedule actor_lr_, critic_lr_;
  size_t minibatch_ = 0;

  Rollout ro_;
  std::vector<uint32_t> indices_;
  // Per-step and per-minibatch scratch, sized once.
  std::vector<float> step_obs_, step_out_, final_obs_, final_values_, bootstrap_values_, mb_obs_,
      mb_adv_, mb_out_, mb_dout_, mb_values_, mb_dvalues_, mb_lp_, mb_p_, mb_logp_, mb_entropy_;
  std::vector<int32_t> mb_actions_;
  WorkerPool pool_;
  PairGuard guard_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_ppo = {
    "ff_ppo",
    "PPO with a categorical policy, for discrete actions (Stoix's ff_ppo).",
    [] { return ppo_fields(false); },
    [] { return LearnerParams::of(PpoConfig{}); },
    validate_ppo,
    true,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfPpo>(cfg); }};

extern const LearnerDef ff_ppo_continuous = {
    "ff_ppo_continuous",
    "PPO with a diagonal Gaussian policy (learned state-independent std), for continuous actions.",
    [] { return ppo_fields(true); },
    [] { return LearnerParams::of(PpoConfig{}); },
    validate_ppo,
    false,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfPpo>(cfg); }};

}  // namespace learners

}  // namespace edgerl
