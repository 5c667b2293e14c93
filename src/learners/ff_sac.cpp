// ff_sac: soft actor-critic (Haarnoja et al. 2018a, 2018b) for continuous actions, after
// CleanRL's sac_continuous_action.py and Stoix's ff_sac.py (whose keys it takes), on the
// off-policy skeleton (learners/off_policy.hpp: environment steps, replay buffer, warm-up,
// rollout_length and epochs, counters). Twin soft Q-networks with Polyak-averaged targets, a
// tanh-squashed Gaussian actor (log-std clamped to [log_std_min, log_std_max], RLtools'
// bounds) and an entropy temperature alpha, learned towards target_entropy = -
// target_entropy_scale * action_dim (autotune) or fixed. Read it top to bottom: the behaviour
// policy (uniform actions during warm-up, then samples of the actor), then one gradient step:
// the soft target, the critics, the actor through the critics, the temperature, the targets.
//
// Random streams (SeedSequence(arch.seed) children): 0 network initialisation (actor, then
// Q1, Q2), 2 behaviour actions, 3 replay sampling, 5 the gradient steps' action noise; training
// env i is reset with seed arch.seed + i.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/detmath.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "learners/actor_critic.hpp"
#include "learners/common.hpp"
#include "learners/off_policy.hpp"
#include "learners/registry.hpp"

namespace edgerl {
namespace {

// [system], [network.actor_network] and [network.q_network] of ff_sac (Stoix's ff_sac.yaml
// names and defaults; networks as CleanRL's).
struct SacConfig {
  int64_t rollout_length = 1;  // vector steps per update
  int64_t epochs = 1;          // gradient steps per update
  int64_t warmup_steps = 16;   // env steps with uniform random actions before learning
  int64_t total_buffer_size = 25000;
  int64_t total_batch_size = 256;
  double actor_lr = 3e-4;
  double q_lr = 3e-4;
  double alpha_lr = 3e-4;
  double tau = 0.005;
  double gamma = 0.99;
  bool autotune = true;
  double target_entropy_scale = 1.0;
  double init_alpha = 0.1;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = false;
  double adam_eps = 1e-5;
  double log_std_min = -20.0;
  double log_std_max = 2.0;
  NetworkConfig actor_network{{256, 256}, "relu"};
  NetworkConfig q_network{{256, 256}, "relu"};
};

std::vector<schema::Field> sac_fields() {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  return actor_critic_fields<SacConfig>(
      "Polyak factor of the target Q-networks, every gradient step",
      {
          row<&SacConfig::alpha_lr>("system", "alpha_lr", Kind::Double, 0, 1, T,
                                    "Adam learning rate of log alpha (autotune)"),
          row<&SacConfig::autotune>("system", "autotune", Kind::Bool, 0, 0, T,
                                    "learn alpha towards the target entropy (else alpha is fixed)"),
          row<&SacConfig::target_entropy_scale>(
              "system", "target_entropy_scale", Kind::Double, -1e6, 1e6, T,
              "target entropy = -target_entropy_scale * action dimensions"),
          row<&SacConfig::init_alpha>(
              "system", "init_alpha", Kind::Double, 1e-12, 1e6, T,
              "entropy temperature at the start (learned from there with autotune)"),
          row<&SacConfig::log_std_min>("system", "log_std_min", Kind::Double, -100, 100, T,
                                       "lower clamp of the actor's log standard deviation"),
          row<&SacConfig::log_std_max>("system", "log_std_max", Kind::Double, -100, 100, T,
                                       "upper clamp of the actor's log standard deviation"),
      });
}

void validate_sac(const Config& cfg) {
  const SacConfig& s = cfg.system.params.as<SacConfig>();
  check_off_policy_settings(actor_critic_settings(s), cfg.arch, "system.rollout_length");
  if (!(s.log_std_min < s.log_std_max))
    throw ConfigError("system.log_std_min must be below system.log_std_max");
}

class FfSac final : public OffPolicyLearner {
 public:
  explicit FfSac(const Config& cfg)
      : OffPolicyLearner(cfg, actor_critic_settings(cfg.system.params.as<SacConfig>())),
        sys_(cfg.system.params.as<SacConfig>()),
        A_(std::max<size_t>(1, action_dim())),
        B_(static_cast<size_t>(sys_.total_batch_size)),
        box_(env().action_low(), env().action_high()),
        actor_(obs_dim(), A_, sys_.actor_network, std::max(B_, num_envs()), sys_.log_std_min,
               sys_.log_std_max),
        critics_(2, obs_dim(), A_, sys_.q_network, B_,
                 WorkerPool::threads_for(cfg.arch.num_threads, 2)),
        actor_opt_(actor_.net().num_params(), adam_options(sys_.actor_lr, sys_.adam_eps)),
        q_opt_(critics_, adam_options(sys_.q_lr, sys_.adam_eps)),
        alpha_opt_(1, adam_options(sys_.alpha_lr, sys_.adam_eps)),
        target_entropy_(-sys_.target_entropy_scale * static_cast<double>(A_)),
        explore_rng_(SeedSequence(cfg.arch.seed).child(2)),
        sample_rng_(SeedSequence(cfg.arch.seed).child(3)),
        noise_rng_(SeedSequence(cfg.arch.seed).child(5)),
        actor_lr_{sys_.actor_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        q_lr_{sys_.q_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        alpha_lr_{sys_.alpha_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        batch_(B_, obs_dim(), A_),
        indices_(B_),
        noise_(std::max(B_, num_envs()) * A_),
        y_(2 * B_),  // two threads: each computes the targets
        unit_(num_envs() * A_),
        step_noise_(2 * B_ * A_),
        ahead_(2 * B_ * A_),
        next_batch_(B_, obs_dim(), A_) {
    Pcg64 init_rng(SeedSequence(cfg.arch.seed).child(0));
    actor_.net().init(init_rng);
    critics_.init(init_rng);
    log_alpha_ = static_cast<float>(detmath::log(sys_.init_alpha));
  }

  // Evaluation and export: tanh(mean), or a sample of the policy, in the environment's Box.
  std::unique_ptr<Policy> policy() const override {
    return std::make_unique<TanhActorPolicy>(actor_.net(), A_, box_, true, sys_.log_std_min,
                                             sys_.log_std_max, env().info().name);
  }

 private:
  float alpha() const { return detmath::exp(log_alpha_); }

  // Uniform random actions during warm-up (CleanRL, RLtools), then a ~ pi(.|s).
  void behave(const float* obs, int32_t*, float* actions) override {
    const size_t n = num_envs() * A_;
    if (counters().timestep < sys_.warmup_steps) {
      fill_uniform_actions(explore_rng_, unit_.data(), n);
    } else {
      fill_normal(explore_rng_, noise_.data(), n);
      actor_.sample_detached(obs, num_envs(), noise_.data());
      std::copy(actor_.detached_actions(), actor_.detached_actions() + n, unit_.begin());
    }
    for (size_t i = 0; i < n; ++i) actions[i] = box_.to_env(unit_[i]);
  }

  void gradient_step(int64_t epoch) override {
    const int64_t slot = counters().update * sys_.epochs + epoch;
    if (sys_.decay_learning_rates) {
      actor_opt_.set_lr(actor_lr_.at(slot));
      q_opt_.set_lr(q_lr_.at(slot));
      alpha_opt_.set_lr(alpha_lr_.at(slot));
    }
    const float alpha = this->alpha();

    // With two threads: the same step, each critic on its own thread (sac_step_side_by_side).
    // While the worker finishes the actor's step, the training thread draws the next step's
    // noise (the target's, then the actor's: NoiseAhead) and its batch, joins the batch's
    // critic input and runs the first critic forward on it (BatchAhead); then it takes the
    // temperature's step and the metrics. Unless the step runs on this thread alone (when
    // the other is held back: PairGuard), as with one thread.
    const StepThreads step_threads(critics_.pool(), handoffs_.guard());
    if (step_threads.side_by_side()) {
      const bool prepared =
          take_or_sample(next_batch_, sample_rng_, buffer(), indices_.data(), batch_);
      ahead_.take(noise_rng_, step_noise_);
      sac_step_side_by_side(
          actor_, critics_, q_opt_, actor_opt_, batch_, buffer(), indices_.data(), box_,
          step_noise_.data(), step_noise_.data() + B_ * A_, alpha, nstep().bootstrap_discount(),
          sys_.max_grad_norm, sys_.tau, y_.data(), prepared, handoffs_,
          [this] { ahead_.draw(noise_rng_); },
          [this, epoch] {
            prepare_ahead(next_batch_, critics_, sample_rng_, buffer(), next_buffer_size(epoch),
                          box_);
          },
          [this](const SacStepLosses& l) {
            temperature_step(l.q_loss, l.q_value, l.actor_loss, l.entropy);
          });
      return;
    }

    buffer().sample(sample_rng_, B_, indices_.data());
    batch_.gather(buffer(), indices_.data(), box_);

    // Soft target y = r + gamma (1 - terminated)(min_i Qtarget_i(s', a') - alpha log pi(a'|s')),
    // a' ~ pi(.|s') from the current actor.
    fill_normal(noise_rng_, noise_.data(), B_ * A_);
    soft_q_target(actor_, critics_, batch_, noise_.data(), alpha, nstep().bootstrap_discount(),
                  y_.data());

    // Critics: sum_i mean (Q_i(s, a) - y)^2 / 2, one clipped Adam step; then their targets
    // follow: tau * online + (1 - tau) * target (CleanRL does it at the step's end; nothing in
    // between reads the targets).
    double q_value = 0;
    const double q_loss = q_opt_.update(critics_, batch_.obs.data(), batch_.action.data(),
                                        y_.data(), B_, 0.0, &q_value, sys_.max_grad_norm, sys_.tau);

    // Actor: mean(alpha log pi(a~|s) - min_i Q_i(s, a~)), a~ ~ pi(.|s) reparameterised, through
    // the critics just updated (CleanRL, RLtools).
    fill_normal(noise_rng_, noise_.data(), B_ * A_);
    double entropy = 0;
    const double actor_loss =
        sac_actor_loss(actor_, critics_, batch_.obs.data(), B_, noise_.data(), alpha, &entropy);
    if (sys_.max_grad_norm > 0)
      clip_grad_norm(actor_.net().grads(), actor_.net().num_params(), sys_.max_grad_norm);
    actor_opt_.step(actor_.net().params(), actor_.net().grads());
    temperature_step(q_loss, q_value, actor_loss, entropy);
  }

  // Temperature: mean(-alpha (log pi(a~|s) + target_entropy)) on the actor's samples; and the
  // step's metrics.
  void temperature_step(double q_loss, double q_value, double actor_loss, double entropy) {
    Metrics& m = interval_train();
    if (sys_.autotune) {
      float g = 0;
      const double a_loss = alpha_loss(log_alpha_, actor_.log_probs(), B_, target_entropy_, &g);
      if (sys_.max_grad_norm > 0) clip_grad_norm(&g, 1, sys_.max_grad_norm);
      alpha_opt_.step(&log_alpha_, &g);
      m.append("alpha_loss", a_loss);
    }

    m.append("q_loss", q_loss)
        .append("q_value", q_value)
        .append("actor_loss", actor_loss)
        .append("entropy", entropy);
  }

  int threads() const override { return critics_.threads(); }
  int64_t steps_alone(int64_t* of) const override { return handoffs_.guard().alone_steps(of); }

  void end_interval(Metrics& train) override {
    train.add("alpha", static_cast<double>(alpha()));
    train.add("actor_lr", actor_opt_.lr());
    train.add("q_lr", q_opt_.lr());
  }

  void append_model_tensors(TensorList& out) override {
    actor_.net().append_tensors(out, "actor");
    append_critic_tensors(critics_, out);
    out.push_back(tensor_ref("log_alpha", &log_alpha_, {1}));
    actor_opt_.append_tensors(out, "opt/actor");
    q_opt_.append_tensors(out, "opt/");
    if (sys_.autotune) alpha_opt_.append_tensors(out, "opt/log_alpha");
  }

  void append_stream_tensors(TensorList& out) override {
    out.push_back(tensor_ref("rng/explore", explore_rng_.words(), {Pcg64::kStateWords}));
    out.push_back(tensor_ref("rng/sample", sample_rng_.words(), {Pcg64::kStateWords}));
    out.push_back(tensor_ref("rng/noise", noise_rng_.words(), {Pcg64::kStateWords}));
  }

  void check_restored() override {
    if (!explore_rng_.valid() || !sample_rng_.valid() || !noise_rng_.valid())
      throw std::runtime_error(
          "rng/explore, rng/sample or rng/noise holds an invalid generator state");
    if (!std::isfinite(log_alpha_)) throw std::runtime_error("log_alpha is not finite");
    actor_opt_.check_restored("opt/actor");
    q_opt_.check_restored("opt/");
    if (sys_.autotune) alpha_opt_.check_restored("opt/log_alpha");
    next_batch_.clear();
    // The restore wrote the parameters behind the networks' backs: no transposes of the old ones.
    actor_.net().drop_transposes();
    critics_.drop_transposes();
  }

  const SacConfig sys_;
  const size_t A_, B_;
  const ActionBox box_;
  SquashedGaussianActor<float> actor_;
  Critics<float> critics_;
  Adam actor_opt_;
  CriticOptimisers q_opt_;
  Adam alpha_opt_;
  float log_alpha_ = 0;
  const double target_entropy_;
  Pcg64 explore_rng_, sample_rng_, noise_rng_;
  const LrSchedule actor_lr_, q_lr_, alpha_lr_;
  // Per-step scratch, sized once.
  TransitionBatch<float> batch_;
  std::vector<uint32_t> indices_;
  std::vector<float> noise_, y_, unit_;
  // Two threads: the step's noise [2][B][A] (the target's, the actor's), drawn ahead by the
  // training thread while the worker finishes the actor's step.
  std::vector<float> step_noise_;
  NoiseAhead ahead_;
  BatchAhead<float> next_batch_;
  Handoffs handoffs_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_sac = {
    "ff_sac",
    "Soft actor-critic: twin soft Q-networks, a tanh-squashed Gaussian actor and a learned or "
    "fixed entropy temperature, for continuous actions (Stoix's ff_sac).",
    sac_fields,
    [] { return LearnerParams::of(SacConfig{}); },
    validate_sac,
    false,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfSac>(cfg); }};

}  // namespace learners

}  // namespace edgerl
