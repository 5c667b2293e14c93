// ff_td3: twin delayed DDPG (Fujimoto et al. 2018) for continuous actions, after CleanRL's
// td3_continuous_action.py and Stoix's ff_td3.py (whose keys it takes), on the off-policy
// skeleton (learners/off_policy.hpp). Twin Q-networks and a deterministic tanh actor, each
// with a Polyak-averaged target; clipped double-Q targets at a smoothed target action; the
// actor and every target updated every policy_frequency-th gradient step (the paper, CleanRL
// and RLtools; Stoix moves the targets every step). Read it top to bottom: the behaviour
// policy (uniform actions during warm-up, then mu(s) plus Gaussian or Ornstein-Uhlenbeck
// noise), then one gradient step: the smoothed target, the critics, and when due the actor
// through Q1 and the targets.
//
// Random streams (SeedSequence(arch.seed) children): 0 network initialisation (actor, then
// Q1, Q2), 2 behaviour actions and exploration noise, 3 replay sampling, 5 target-policy
// noise; training env i is reset with seed arch.seed + i.
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

// [system], [network.actor_network] and [network.q_network] of ff_td3 (Stoix's ff_td3.yaml
// names and defaults; networks as CleanRL's).
struct Td3Config {
  int64_t rollout_length = 1;   // vector steps per update
  int64_t epochs = 1;           // gradient steps per update
  int64_t warmup_steps = 1000;  // env steps with uniform random actions before learning
  int64_t total_buffer_size = 1000000;
  int64_t total_batch_size = 256;
  double actor_lr = 1e-4;
  double q_lr = 1e-4;
  double tau = 0.005;
  double gamma = 0.99;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = true;
  double max_abs_reward = 20000;
  double exploration_noise = 0.15;  // std of the behaviour noise, in half Box widths
  std::string exploration_noise_type = "gaussian";
  double ou_theta = 0.15;
  double policy_noise = 0.2;
  int64_t policy_frequency = 2;
  double noise_clip = 0.5;
  double adam_eps = 1e-5;
  NetworkConfig actor_network{{256, 256}, "relu"};
  NetworkConfig q_network{{256, 256}, "relu"};
};

std::vector<schema::Field> td3_fields() {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  std::vector<schema::Field> own = deterministic_actor_fields<Td3Config>();
  own.insert(own.end(),
             {row<&Td3Config::policy_noise>(
                  "system", "policy_noise", Kind::Double, 0, 100, T,
                  "std of the target policy smoothing noise, in units of half the action range"),
              row<&Td3Config::policy_frequency>(
                  "system", "policy_frequency", Kind::Int, 1, 1 << 20, T,
                  "gradient steps per actor and target update (delayed policy updates)"),
              row<&Td3Config::noise_clip>("system", "noise_clip", Kind::Double, 0, 100, T,
                                          "clip of the target policy smoothing noise")});
  return actor_critic_fields<Td3Config>(
      "Polyak factor of the target networks, at each policy update", own);
}

void validate_td3(const Config& cfg) {
  const Td3Config& s = cfg.system.params.as<Td3Config>();
  check_off_policy_settings(actor_critic_settings(s), cfg.arch, "system.rollout_length");
}

class FfTd3 final : public OffPolicyLearner {
 public:
  explicit FfTd3(const Config& cfg)
      : OffPolicyLearner(cfg, actor_critic_settings(cfg.system.params.as<Td3Config>())),
        sys_(cfg.system.params.as<Td3Config>()),
        A_(std::max<size_t>(1, action_dim())),
        B_(static_cast<size_t>(sys_.total_batch_size)),
        box_(env().action_low(), env().action_high()),
        actor_(obs_dim(), A_, sys_.actor_network, std::max(B_, num_envs())),
        actor_target_(obs_dim(), A_, sys_.actor_network, B_),
        critics_(2, obs_dim(), A_, sys_.q_network, B_,
                 WorkerPool::threads_for(cfg.arch.num_threads, 2)),
        actor_opt_(actor_.net().num_params(), adam_options(sys_.actor_lr, sys_.adam_eps)),
        q_opt_(critics_, adam_options(sys_.q_lr, sys_.adam_eps)),
        explore_(num_envs(), A_, sys_.exploration_noise, sys_.exploration_noise_type == "ou",
                 sys_.ou_theta),
        explore_rng_(SeedSequence(cfg.arch.seed).child(2)),
        sample_rng_(SeedSequence(cfg.arch.seed).child(3)),
        noise_rng_(SeedSequence(cfg.arch.seed).child(5)),
        actor_lr_{sys_.actor_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        q_lr_{sys_.q_lr, sys_.decay_learning_rates, num_updates() * sys_.epochs},
        batch_(B_, obs_dim(), A_),
        indices_(B_),
        noise_(B_ * A_),
        y_(2 * B_),  // two threads: each computes the targets
        unit_(num_envs() * A_),
        ahead_(B_ * A_),
        next_batch_(B_, obs_dim(), A_) {
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

    // With two threads: the same step, each critic on its own thread (td3_step_side_by_side),
    // the target smoothing's noise drawn ahead by whichever thread waits (NoiseAhead), and the
    // next step's batch, its critic input and the first critic's forward pass on it prepared
    // at the training thread's end (BatchAhead). Unless the step runs on this thread alone
    // (when the other is held back: PairGuard), as with one thread.
    const bool policy_update = grad_steps() % sys_.policy_frequency == 0;
    const StepThreads step_threads(critics_.pool(), handoffs_.guard());
    if (step_threads.side_by_side()) {
      const bool prepared =
          take_or_sample(next_batch_, sample_rng_, buffer(), indices_.data(), batch_);
      ahead_.take(noise_rng_, noise_);
      double q_loss = 0, q_value = 0;
      const double actor_loss = td3_step_side_by_side(
          actor_, actor_target_, critics_, q_opt_, actor_opt_, batch_, buffer(), indices_.data(),
          box_, noise_.data(), static_cast<float>(sys_.policy_noise),
          static_cast<float>(sys_.noise_clip), nstep().bootstrap_discount(),
          static_cast<float>(sys_.max_abs_reward), sys_.max_grad_norm, sys_.tau, policy_update,
          y_.data(), prepared, handoffs_, &q_loss, &q_value, [this] { ahead_.draw(noise_rng_); },
          [this, epoch] {
            prepare_ahead(next_batch_, critics_, sample_rng_, buffer(), next_buffer_size(epoch),
                          box_);
          });
      Metrics& m = interval_train();
      m.append("q_loss", q_loss).append("q_value", q_value);
      if (policy_update) m.append("actor_loss", actor_loss);
      return;
    }

    buffer().sample(sample_rng_, B_, indices_.data());
    batch_.gather(buffer(), indices_.data(), box_);

    // Clipped double-Q target at the smoothed target action
    //   a' = clip(mu_target(s') + clip(policy_noise * N(0, 1), +-noise_clip), -1, 1),
    //   y = clip(r) + gamma (1 - terminated) min_i Qtarget_i(s', a').
    fill_normal(noise_rng_, noise_.data(), B_ * A_);
    target_action(actor_target_, batch_, noise_.data(), static_cast<float>(sys_.policy_noise),
                  static_cast<float>(sys_.noise_clip));
    clipped_q_target(critics_, batch_, nstep().bootstrap_discount(),
                     static_cast<float>(sys_.max_abs_reward), y_.data());

    // Critics: sum_i mean (Q_i(s, a) - y)^2 / 2, one clipped Adam step; at a policy update
    // their targets follow too (the actor's loss reads only the online critics).
    double q_value = 0;
    const double q_loss =
        q_opt_.update(critics_, batch_.obs.data(), batch_.action.data(), y_.data(), B_, 0.0,
                      &q_value, sys_.max_grad_norm, policy_update ? sys_.tau : 0.0);
    Metrics& m = interval_train();
    m.append("q_loss", q_loss).append("q_value", q_value);

    // Delayed policy update: the actor ascends Q1(s, mu(s)), then its target follows.
    if (!policy_update) return;
    const double actor_loss = dpg_actor_loss(actor_, critics_, batch_.obs.data(), B_);
    if (sys_.max_grad_norm > 0)
      clip_grad_norm(actor_.net().grads(), actor_.net().num_params(), sys_.max_grad_norm);
    actor_opt_.step(actor_.net().params(), actor_.net().grads());
    actor_target_.net().polyak_update(actor_.net(), sys_.tau);
    m.append("actor_loss", actor_loss);
  }

  int threads() const override { return critics_.threads(); }
  int64_t steps_alone(int64_t* of) const override { return handoffs_.guard().alone_steps(of); }

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
    out.push_back(tensor_ref("rng/noise", noise_rng_.words(), {Pcg64::kStateWords}));
  }

  void check_restored() override {
    if (!explore_rng_.valid() || !sample_rng_.valid() || !noise_rng_.valid())
      throw std::runtime_error(
          "rng/explore, rng/sample or rng/noise holds an invalid generator state");
    if (!explore_.finite()) throw std::runtime_error("explore/ou is not finite");
    actor_opt_.check_restored("opt/actor");
    q_opt_.check_restored("opt/");
    next_batch_.clear();
    // The restore wrote the parameters behind the networks' backs: no transposes of the old ones.
    actor_.net().drop_transposes();
    critics_.drop_transposes();
  }

  const Td3Config sys_;
  const size_t A_, B_;
  const ActionBox box_;
  DeterministicActor<float> actor_, actor_target_;
  Critics<float> critics_;
  Adam actor_opt_;
  CriticOptimisers q_opt_;
  ExplorationNoise explore_;
  Pcg64 explore_rng_, sample_rng_, noise_rng_;
  const LrSchedule actor_lr_, q_lr_;
  // Per-step scratch, sized once.
  TransitionBatch<float> batch_;
  std::vector<uint32_t> indices_;
  std::vector<float> noise_, y_, unit_;
  NoiseAhead ahead_;              // two threads: the next step's smoothing noise
  BatchAhead<float> next_batch_;  // two threads: the next step's batch
  Handoffs handoffs_;
};

}  // namespace

namespace learners {

extern const LearnerDef ff_td3 = {
    "ff_td3",
    "TD3: twin Q-networks, a deterministic actor with delayed updates and target policy "
    "smoothing, Gaussian or Ornstein-Uhlenbeck exploration, for continuous actions (Stoix's "
    "ff_td3).",
    td3_fields,
    [] { return LearnerParams::of(Td3Config{}); },
    validate_td3,
    false,
    [](const Config& cfg) -> std::unique_ptr<System> { return std::make_unique<FfTd3>(cfg); }};

}  // namespace learners

}  // namespace edgerl
