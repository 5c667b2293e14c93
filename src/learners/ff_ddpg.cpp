// ff_ddpg: deep deterministic policy gradient (Lillicrap et al. 2016) for continuous actions,
// after CleanRL's ddpg_continuous_action.py and Stoix's ff_ddpg.py (whose keys it takes), on
// the off-policy skeleton (learners/off_policy.hpp). One Q-network and a deterministic tanh
// actor, each with a Polyak-averaged target, both updated every gradient step (Stoix; CleanRL
// delays the actor by 2). Read it top to bottom: the behaviour policy (uniform actions during
// warm-up, then mu(s) plus Gaussian or Ornstein-Uhlenbeck noise), then one gradient step: the
// target at mu_target(s'), the critic (squared or Huber TD loss), the actor through Q, the
// targets.
//
// Random streams (SeedSequence(arch.seed) children): 0 network initialisation (actor, then Q),
// 2 behaviour actions and exploration noise, 3 replay sampling; training env i is reset with
// seed arch.seed + i.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "edgerl/envs.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "learners/actor_critic.hpp"
#include "learners/common.hpp"
#include "learners/off_policy.hpp"
#include "learners/registry.hpp"

namespace edgerl {
namespace {

// [system], [network.actor_network] and [network.q_network] of ff_ddpg (Stoix's ff_ddpg.yaml
// names and defaults; networks as CleanRL's).
struct DdpgConfig {
  int64_t rollout_length = 1;  // vector steps per update
  int64_t epochs = 1;          // gradient steps per update
  int64_t warmup_steps = 32;   // env steps with uniform random actions before learning
  int64_t total_buffer_size = 500000;
  int64_t total_batch_size = 256;
  double actor_lr = 3e-4;
  double q_lr = 3e-4;
  double tau = 0.005;
  double gamma = 0.99;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = false;
  double max_abs_reward = 20000;
  double exploration_noise = 0.15;  // std of the behaviour noise, in half Box widths
  std::string exploration_noise_type = "gaussian";
  double ou_theta = 0.15;
  double huber_loss_parameter = 0.0;  // 0 = squared TD error, > 0 = Huber with this delta
  double adam_eps = 1e-5;
  NetworkConfig actor_network{{256, 256}, "relu"};
  NetworkConfig q_network{{256, 256}, "relu"};
};

std::vector<schema::Field> ddpg_fields() {
  std::vector<schema::Field> own = deterministic_actor_fields<DdpgConfig>();
  own.push_back(schema::row<&DdpgConfig::huber_loss_parameter>(
      "system", "huber_loss_parameter", schema::Kind::Double, 0, 1e6, KeyEffect::training,
      "0 = squared TD error, > 0 = Huber loss with this delta"));
  return actor_critic_fields<DdpgConfig>(
      "Polyak factor of the target networks, every gradient step", own);
}

void validate_ddpg(const Config& cfg) {
  const DdpgConfig& s = cfg.system.params.as<DdpgConfig>();
  check_off_policy_settings(actor_critic_settings(s), cfg.arch, "system.rollout_length");
}

class FfDdpg final : public OffPolicyLearner {
 public:
  explicit FfDdpg(const Config& cfg)
      : OffPolicyLearner(cfg, actor_critic_settings(cfg.system.params.as<DdpgConfig>())),
        sys_(cfg.system.params.as<DdpgConfig>()),
        A_(std::max<size_t>(1, action_dim())),
        B_(static_cast<size_t>(sys_.total_batch_size)),
        box_(env().action_low(), env().action_high()),
        actor_(obs_dim(), A_, sys_.actor_network, std::max(B_, num_envs())),
        actor_target_(obs_dim(), A_, sys_.actor_network, B_),
        critics_(1, obs_dim(), A_, sys_.q_network, B_),
        actor_opt_(actor_.net().num_params(), adam_options(sys_.actor_lr, sys_.adam_eps)),
        q_opt_(critics_, adam_options(sys_.q_lr, sys_.adam_eps)),
        explore_(num_envs(), A_, sys_.exploration_noise, sys_.exploration_noise_type == "ou",
                 sys_.ou_theta),
        explore_rng_(SeedSequence(cfg.arch.seed).child(2)),
        sample_rng_(SeedSequence(cfg.arch.seed).child(3)),
        actor_lr_{sys_.actor_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        q_lr_{sys_.q_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        batch_(B_, obs_dim(), A_),
        indices_(B_),
        y_(B_),
        unit_(num_envs() * A_) {
    Pcg64 init_rng(SeedSequence(cfg.arch.seed).child(0));
    actor_.net().init(init_rng);
    actor_target_.net().copy_params_from(actor_.net());
    critics_.init(init_rng);
  }

  // Evaluation and export: mu(s) in the environment's Box (the deterministic head's sample is
  // its mode).
  std::unique_ptr<Policy> policy() const override {
    return std::make_unique<TanhActorPolicy>(actor_.net(), A_, box_, false, 0.0, 0.0,
                                             env().info().name);
  }

 private:
  // Uniform random actions during warm-up, then clip(mu(s) + noise, -1, 1).
  void behave(const float* obs, int32_t*, float* actions) override {
    const size_t E = num_envs(), n = E * A_;
    if (counters().timestep < sys_.warmup_steps) {
      fill_uniform_actions(explore_rng_, unit_.data(), n);
    } else {
      actor_.predict(obs, E);
      explore_.perturb(explore_rng_, actor_.actions(), env().elapsed_steps(), E, unit_.data());
    }
    for (size_t i = 0; i < n; ++i) actions[i] = box_.to_env(unit_[i]);
  }

  void gradient_step(int64_t epoch) override {
    const int64_t slot = counters().update * sys_.epochs + epoch;
    if (sys_.decay_learning_rates) {
      actor_opt_.set_lr(actor_lr_.at(slot));
      q_opt_.set_lr(q_lr_.at(slot));
    }
    buffer().sample(sample_rng_, B_, indices_.data());
    batch_.gather(buffer(), indices_.data(), box_);

    // Target y = clip(r) + gamma (1 - terminated) Qtarget(s', mu_target(s')).
    target_action(actor_target_, batch_, static_cast<const float*>(nullptr), 0.0f, 0.0f);
    clipped_q_target(critics_, batch_, nstep().bootstrap_discount(),
                     static_cast<float>(sys_.max_abs_reward), y_.data());

    // Critic: mean l(Q(s, a) - y), l = squared / 2 or Huber, one clipped Adam step; its target
    // follows (the actor's loss reads only the online critic).
    double q_value = 0;
    const double q_loss =
        q_opt_.update(critics_, batch_.obs.data(), batch_.action.data(), y_.data(), B_,
                      sys_.huber_loss_parameter, &q_value, sys_.max_grad_norm, sys_.tau);

    // Actor: ascend Q(s, mu(s)); then its target follows.
    const double actor_loss = dpg_actor_loss(actor_, critics_, batch_.obs.data(), B_);
    if (sys_.max_grad_norm > 0)
      clip_grad_norm(actor_.net().grads(), actor_.net().num_params(), sys_.max_grad_norm);
    actor_opt_.step(actor_.net().params(), actor_.net().grads());
    actor_target_.net().polyak_update(actor_.net(), sys_.tau);
    interval_train()
        .append("q_loss", q_loss)
        .append("q_value", q_value)
        .append("actor_loss", actor_loss);
  }

  void end_interval(Metrics& train) override {
    train.add("actor_lr", actor_opt_.lr());
    train.add("q_lr", q_opt_.lr());
  }

  void append_model_tensors(TensorList& out) override {
    actor_.net().append_tensors(out, "actor");
    actor_target_.net().append_tensors(out, "actor_target");
    append_critic_tensors(critics_, out);
    actor_opt_.append_tensors(out, "opt/actor");
    q_opt_.append_tensors(out, "opt/");
  }

  void append_stream_tensors(TensorList& out) override {
    out.push_back(tensor_ref("rng/explore", explore_rng_.words(), {Pcg64::kStateWords}));
    explore_.append_tensors(out, "explore/ou");
    out.push_back(tensor_ref("rng/sample", sample_rng_.words(), {Pcg64::kStateWords}));
  }

  void check_restored() override {
    if (!explore_rng_.valid() || !sample_rng_.valid())
      throw std::runtime_error("rng/explore or rng/sample holds an invalid generator state");
    if (!explore_.finite()) throw std::runtime_error("explore/ou is not finite");
    actor_opt_.check_restored("opt/actor");
    q_opt_.check_restored("opt/");
  }

  const DdpgConfig sys_;
  const size_t A_, B_;
  const ActionBox box_;
  DeterministicActor<float> actor_, actor_target_;
  Critics<float> critics_;
  Adam actor_opt_;
  CriticOptimisers q_opt_;
  ExplorationNoise explore_;
  Pcg64 explore_rng_, sample_rng_;
  const LrSchedule actor_lr_, q_lr_;
  // Per-step scratch, sized once.
  TransitionBatch<float> batch_;
  std::vector<uint32_t> indices_;
  std::vector<float> y_, unit_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_ddpg = {
    "ff_ddpg",
    "DDPG: one Q-network and a deterministic actor, Gaussian or Ornstein-Uhlenbeck "
    "exploration, for continuous actions (Stoix's ff_ddpg).",
    ddpg_fields,
    [] { return LearnerParams::of(DdpgConfig{}); },
    validate_ddpg,
    false,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfDdpg>(cfg); }};

}  // namespace learners

}  // namespace edgerl
