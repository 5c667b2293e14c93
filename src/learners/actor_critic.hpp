// learners/actor_critic: the parts ff_sac, ff_td3 and ff_ddpg share, on top of the off-policy
// skeleton: the action box, a batch of replayed transitions, the actors (tanh-squashed
// Gaussian for SAC, deterministic tanh for TD3 and DDPG), one or two Q-networks with their
// targets, and the losses written once for both float (training) and double (the gradient
// checks of tests/test_offpolicy.cpp).
//
// Actions: every policy acts in [-1, 1]^A (tanh). The environment gets bias + scale * u with
// scale = (high - low) / 2 and bias = (high + low) / 2 (CleanRL's action_scale/action_bias);
// the replay buffer stores what the environment got (inside the Box, as the skeleton checks)
// and a batch maps it back to [-1, 1]. The critics see [observation, action in [-1, 1]]
// (RLtools' layout), so noise scales and clips are in units of half the Box's width.
//
// Every loop runs in index order, every mean is a double sum in order, and exp/log/tanh come
// from detmath: the same bits on every build.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/schema.hpp"
#include "core/detmath.hpp"
#include "core/pool.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "edgerl/policy.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"
#include "learners/off_policy.hpp"
#include "learners/replay_buffer.hpp"
#include "nn/distributions.hpp"

namespace edgerl {

// The off-policy skeleton's settings of an actor-critic config (ff_sac, ff_td3, ff_ddpg: one
// gradient step per rollout_length vector steps, one-step targets).
template <class C>
OffPolicySettings actor_critic_settings(const C& s) {
  OffPolicySettings o;
  o.warmup_steps = s.warmup_steps;
  o.train_frequency = s.rollout_length;
  o.epochs = s.epochs;
  o.total_buffer_size = s.total_buffer_size;
  o.total_batch_size = s.total_batch_size;
  o.gamma = s.gamma;
  return o;
}

// The [system] and [network.*] rows every actor-critic config C has (ff_sac, ff_td3, ff_ddpg;
// Stoix's names): the loop's and the optimisers' keys, then the learner's own rows, then
// adam_eps and the two networks. tau_doc says when the targets move.
template <class C>
std::vector<schema::Field> actor_critic_fields(const char* tau_doc,
                                               const std::vector<schema::Field>& own) {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  std::vector<schema::Field> f = {
      row<&C::rollout_length>("system", "rollout_length", Kind::Int, 1, 1 << 20, T,
                              "environment steps (per env) per update"),
      row<&C::epochs>("system", "epochs", Kind::Int, 1, 10000, T, "gradient steps per update"),
      row<&C::warmup_steps>("system", "warmup_steps", Kind::Int, 0, schema::kI64Max, T,
                            "environment steps with uniform random actions before learning starts"),
      row<&C::total_buffer_size>("system", "total_buffer_size", Kind::Int, 1, 1e9, T,
                                 "replay buffer capacity in transitions"),
      row<&C::total_batch_size>("system", "total_batch_size", Kind::Int, 1, 1 << 20, T,
                                "transitions per gradient step"),
      row<&C::actor_lr>("system", "actor_lr", Kind::Double, 0, 1, T,
                        "Adam learning rate of the actor"),
      row<&C::q_lr>("system", "q_lr", Kind::Double, 0, 1, T,
                    "Adam learning rate of the Q-networks"),
      row<&C::tau>("system", "tau", Kind::Double, 0, 1, T, tau_doc),
      row<&C::gamma>("system", "gamma", Kind::Double, 0, 1, T, "discount factor"),
      row<&C::max_grad_norm>(
          "system", "max_grad_norm", Kind::Double, 0, 1e6, T,
          "global gradient-norm clipping threshold per optimiser; 0 disables clipping"),
      row<&C::decay_learning_rates>("system", "decay_learning_rates", Kind::Bool, 0, 0, T,
                                    "anneal the learning rates linearly to 0"),
  };
  f.insert(f.end(), own.begin(), own.end());
  f.push_back(row<&C::adam_eps>("system", "adam_eps", Kind::Double, 1e-12, 1, T,
                                "Adam epsilon (added to the root of the second moment)"));
  for (auto& r : schema::network_rows<&C::actor_network>("network.actor_network",
                                                         "hidden layer sizes of the actor"))
    f.push_back(r);
  for (auto& r : schema::network_rows<&C::q_network>("network.q_network",
                                                     "hidden layer sizes of each Q-network"))
    f.push_back(r);
  return f;
}

// The rows the deterministic actors' configs share beyond actor_critic_fields (ff_td3,
// ff_ddpg): the target's reward clip and the behaviour noise.
template <class C>
std::vector<schema::Field> deterministic_actor_fields() {
  using schema::Kind;
  using schema::row;
  const auto T = KeyEffect::training;
  return {
      row<&C::max_abs_reward>("system", "max_abs_reward", Kind::Double, 0, 1e30, T,
                              "rewards are clipped to +-max_abs_reward in the target"),
      row<&C::exploration_noise>(
          "system", "exploration_noise", Kind::Double, 0, 100, T,
          "std of the behaviour noise on mu(s), in units of half the action range"),
      row<&C::exploration_noise_type>(
          "system", "exploration_noise_type", Kind::Choice, 0, 0, T,
          "gaussian: independent each step; ou: Ornstein-Uhlenbeck, per episode",
          {"gaussian", "ou"}),
      row<&C::ou_theta>("system", "ou_theta", Kind::Double, 0, 1, T,
                        "mean reversion of the Ornstein-Uhlenbeck noise per step"),
  };
}

inline AdamOptions adam_options(double lr, double eps) {
  AdamOptions o;
  o.lr = lr;
  o.eps = eps;
  return o;
}

template <class T>
inline T clamp(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// dst[0..n) = src[0..n) for the few numbers of one row (an observation, an action): a plain
// loop, where std::copy calls memmove for each row (200 calls per batch of 100).
template <class S, class D>
inline void copy_short(const S* src, size_t n, D* dst) {
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<D>(src[i]);
}

// [-1, 1] <-> the environment's Box [low, high] (the same bounds in every dimension).
struct ActionBox {
  float low = -1, high = 1, scale = 1, bias = 0;
  ActionBox() = default;
  ActionBox(float lo, float hi) : low(lo), high(hi), scale((hi - lo) / 2), bias((hi + lo) / 2) {}
  float to_env(float u) const { return clamp(bias + scale * u, low, high); }
  float to_unit(float a) const { return clamp((a - bias) / scale, -1.0f, 1.0f); }
};

// n standard normals from rng, in order.
template <class T>
void fill_normal(Pcg64& rng, T* out, size_t n) {
  double chunk[64];
  for (size_t i = 0; i < n; i += 64) {
    const size_t m = std::min<size_t>(64, n - i);
    rng.normals(chunk, m);
    for (size_t j = 0; j < m; ++j) out[i + j] = static_cast<T>(chunk[j]);
  }
}

// Normal noise for the next gradient step drawn ahead, by a thread that would otherwise wait
// (the side-by-side steps), from a copy of the stream: take() gives the numbers the step
// would draw, and moves the stream past them, only if the stream is still where the copy was
// made (a restore in between moves it); otherwise it draws them. The checkpoints hold the
// stream as without.
class NoiseAhead {
 public:
  explicit NoiseAhead(size_t count) : ahead_(count) {}
  // noise = the next noise.size() numbers of rng.
  void take(Pcg64& rng, std::vector<float>& noise) {
    if (ready_ && noise.size() == ahead_.size() && rng.state() == from_.state()) {
      noise.swap(ahead_);
      rng = to_;
    } else {
      fill_normal(rng, noise.data(), noise.size());
    }
    ready_ = false;
  }
  void draw(const Pcg64& rng) {
    from_ = rng;
    to_ = rng;
    fill_normal(to_, ahead_.data(), ahead_.size());
    ready_ = true;
  }

 private:
  std::vector<float> ahead_;
  Pcg64 from_, to_;
  bool ready_ = false;
};

// n uniform actions in [-1, 1) from rng, in order (the warm-up policy).
template <class T>
void fill_uniform_actions(Pcg64& rng, T* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(2.0 * rng.uniform() - 1.0);
}

// A batch of transitions: observations [n][D], unit actions [n][A], rewards, terminated (1 or
// 0: whether to leave out the bootstrap), next observations; plus next_action [n][A], where
// a target is computed.
template <class T>
struct TransitionBatch {
  size_t n = 0, obs_dim = 0, action_dim = 0;
  std::vector<T> obs, action, reward, terminated, next_obs, next_action;

  TransitionBatch(size_t batch, size_t D, size_t A)
      : n(batch),
        obs_dim(D),
        action_dim(A),
        obs(batch * D),
        action(batch * A),
        reward(batch),
        terminated(batch),
        next_obs(batch * D),
        next_action(batch * A) {}

  // Fills the batch with the transitions at idx[0..n) of the buffer (actions mapped to [-1, 1]);
  // in two halves that may run side by side: the observations and actions (gather_now), and
  // what followed them (gather_next: rewards, terminations, next observations).
  void gather(const ReplayBuffer& buf, const uint32_t* idx, const ActionBox& box) {
    gather_now(buf, idx, box);
    gather_next(buf, idx);
  }
  void gather_now(const ReplayBuffer& buf, const uint32_t* idx, const ActionBox& box) {
    const size_t D = obs_dim, A = action_dim;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = idx[i];
      copy_short(buf.obs(j), D, &obs[i * D]);
      for (size_t d = 0; d < A; ++d)
        action[i * A + d] = static_cast<T>(box.to_unit(buf.cont_action(j)[d]));
    }
  }
  void gather_next(const ReplayBuffer& buf, const uint32_t* idx) {
    const size_t D = obs_dim;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = idx[i];
      copy_short(buf.next_obs(j), D, &next_obs[i * D]);
      reward[i] = static_cast<T>(buf.reward(j));
      terminated[i] = buf.terminated(j) ? T(1) : T(0);
    }
  }
};

// The next gradient step's transitions, drawn and gathered ahead by a thread that would
// otherwise wait for the other one (as NoiseAhead draws its noise). The indices come from a
// copy of the sampling stream for the buffer size predicted for then; take() hands them over
// only if the stream has not moved since, the size came true and none of the drawn rows has
// been written since, so that the step is the one it would have been. Whatever the caller
// computed ahead from batch() (a joined input, a critic's forward pass) holds exactly when
// take() returns true.
template <class T>
class BatchAhead {
 public:
  BatchAhead(size_t n, size_t D, size_t A) : batch_(n, D, A), idx_(n) {}

  // Draws the indices buf.sample(rng, ...) would draw once the buffer holds size_then
  // transitions, and gathers their rows as they are now.
  void prepare(const Pcg64& rng, const ReplayBuffer& buf, size_t size_then, const ActionBox& box) {
    ready_ = false;
    if (size_then == 0 || size_then > buf.capacity()) return;
    from_ = rng;
    to_ = rng;
    ReplayBuffer::sample_from(size_then, to_, idx_.size(), idx_.data());
    size_ = size_then;
    adds_ = buf.adds();
    batch_.gather(buf, idx_.data(), box);
    ready_ = true;
  }
  bool ready() const { return ready_; }
  const TransitionBatch<T>& batch() const { return batch_; }

  // If the prepared batch is this step's: idx = its indices, rng advanced past them, b swapped
  // with it; returns whether it was. Either way nothing stays prepared.
  bool take(Pcg64& rng, const ReplayBuffer& buf, uint32_t* idx, TransitionBatch<T>& b) {
    const bool ok = ready_ && b.n == batch_.n && buf.size() == size_ &&
                    rng.state() == from_.state() &&
                    !buf.written_since(adds_, idx_.data(), idx_.size());
    ready_ = false;
    if (!ok) return false;
    rng = to_;
    std::copy(idx_.begin(), idx_.end(), idx);
    std::swap(b, batch_);
    return true;
  }
  // Forgets what was prepared (after a restore).
  void clear() { ready_ = false; }

 private:
  TransitionBatch<T> batch_;
  std::vector<uint32_t> idx_;
  Pcg64 from_, to_;
  size_t size_ = 0;
  uint64_t adds_ = 0;
  bool ready_ = false;
};

// SAC's actor: obs -> [mean (A), log_std (A)]; a = tanh(mean + exp(log_std) * noise). The
// log-std is clamped to [log_std_min, log_std_max] with zero gradient outside (RLtools'
// bounds). sample() keeps what backward() needs.
template <class T>
class SquashedGaussianActor {
 public:
  SquashedGaussianActor(size_t obs_dim, size_t action_dim, const NetworkConfig& net,
                        size_t max_batch, double log_std_min, double log_std_max)
      : A_(action_dim),
        lo_(static_cast<T>(log_std_min)),
        hi_(static_cast<T>(log_std_max)),
        net_(obs_dim, net, 2 * action_dim, 0.01) {
    reserve(max_batch);
  }

  // Buffers for batches up to n (only evaluation may ask for more than the constructor's).
  void reserve(size_t n) {
    if (n <= capacity_) return;
    capacity_ = n;
    net_.reserve(n);
    s_.resize(n, A_);
    d_.resize(n, A_);
    dmean_.resize(n * A_);
    dlog_std_.resize(n * A_);
    dout_.resize(n * 2 * A_);
  }

  BasicMlp<T>& net() { return net_; }
  const BasicMlp<T>& net() const { return net_; }
  size_t action_dim() const { return A_; }

  // For each of the n rows of obs: a = tanh(u), u = mean + std * noise (noise [n][A] given),
  // and log pi(a|s); see actions() and log_probs(). Keeps what backward() needs.
  void sample(const T* obs, size_t n, const T* noise) {
    reserve(n);
    net_.forward(obs, n, s_.out.data());
    s_.draw(n, A_, lo_, hi_, noise);
  }
  const T* actions() const { return s_.act.data(); }
  const T* log_probs() const { return s_.logp.data(); }

  // The same numbers for acting and targets, keeping nothing for backward(), into buffers of
  // their own (see detached_actions(), detached_log_probs()): a sample() for the actor's loss
  // and a detached one for a target may run side by side on two threads.
  void sample_detached(const T* obs, size_t n, const T* noise) {
    reserve(n);
    net_.predict(obs, n, d_.out.data());
    d_.draw(n, A_, lo_, hi_, noise);
  }
  const T* detached_actions() const { return d_.act.data(); }
  const T* detached_log_probs() const { return d_.logp.data(); }

  // The deterministic action tanh(mean) of each row into act [n][A].
  void mode(const T* obs, size_t n, T* act) {
    reserve(n);
    net_.predict(obs, n, d_.out.data());
    d_.split(n, A_, lo_, hi_);
    tanh_gaussian::mode(d_.mean.data(), n * A_, act);
  }

  // After sample(): adds to the network's gradients those of
  //   sum_b (g_log_prob * log pi(a_b|s_b) + sum_d g_action[b][d] * a_b[d]),
  // noise held fixed (the reparameterisation).
  void backward(T g_log_prob, const T* g_action, size_t n) {
    tanh_gaussian::backward_rows(s_.mean.data(), s_.log_std.data(), s_.noise.data(), n, A_,
                                 g_log_prob, g_action, dmean_.data(), dlog_std_.data());
    for (size_t b = 0; b < n; ++b)
      for (size_t d = 0; d < A_; ++d) {
        const T raw = s_.out[b * 2 * A_ + A_ + d];
        dout_[b * 2 * A_ + d] = dmean_[b * A_ + d];
        dout_[b * 2 * A_ + A_ + d] = raw < lo_ || raw > hi_ ? T(0) : dlog_std_[b * A_ + d];
      }
    net_.backward(dout_.data(), n, nullptr);
  }

 private:
  // One set of samples: the network's outputs [n][2A], split into means and clamped log-stds
  // [n][A]; the noise, the actions and log pi.
  struct Draw {
    std::vector<T> out, mean, log_std, noise, act, logp;
    void resize(size_t n, size_t A) {
      out.resize(n * 2 * A);
      mean.resize(n * A);
      log_std.resize(n * A);
      noise.resize(n * A);
      act.resize(n * A);
      logp.resize(n);
    }
    void split(size_t n, size_t A, T lo, T hi) {
      for (size_t b = 0; b < n; ++b)
        for (size_t d = 0; d < A; ++d) {
          mean[b * A + d] = out[b * 2 * A + d];
          log_std[b * A + d] = clamp(out[b * 2 * A + A + d], lo, hi);
        }
    }
    void draw(size_t n, size_t A, T lo, T hi, const T* given) {
      split(n, A, lo, hi);
      std::copy(given, given + n * A, noise.begin());
      tanh_gaussian::actions_rows(mean.data(), log_std.data(), noise.data(), n, A, act.data());
      tanh_gaussian::log_prob_rows(mean.data(), log_std.data(), noise.data(), n, A, logp.data());
    }
  };

  size_t A_;
  T lo_, hi_;
  BasicMlp<T> net_;
  size_t capacity_ = 0;
  Draw s_, d_;  // sample()'s and sample_detached()'s
  std::vector<T> dmean_, dlog_std_, dout_;
};

// TD3's and DDPG's actor: a = tanh(network(obs)).
template <class T>
class DeterministicActor {
 public:
  DeterministicActor(size_t obs_dim, size_t action_dim, const NetworkConfig& net, size_t max_batch)
      : A_(action_dim), net_(obs_dim, net, action_dim, 0.01) {
    reserve(max_batch);
  }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    capacity_ = n;
    net_.reserve(n);
    act_.resize(n * A_);
    dout_.resize(n * A_);
  }

  BasicMlp<T>& net() { return net_; }
  const BasicMlp<T>& net() const { return net_; }

  // a = tanh(network(obs)) for n rows; see actions(). forward() keeps what backward() needs,
  // predict() (acting, targets) nothing.
  void forward(const T* obs, size_t n) {
    net_.forward(obs, n, act_.data());
    squash(n);
  }
  void predict(const T* obs, size_t n) {
    net_.predict(obs, n, act_.data());
    squash(n);
  }
  const T* actions() const { return act_.data(); }

  // After forward(): adds the gradients of sum_b sum_d g_action[b][d] * a_b[d].
  void backward(const T* g_action, size_t n) {
    for (size_t i = 0; i < n * A_; ++i) dout_[i] = g_action[i] * (T(1) - act_[i] * act_[i]);
    net_.backward(dout_.data(), n, nullptr);
  }

 private:
  size_t A_;
  void squash(size_t n) {
    for (size_t i = 0; i < n * A_; ++i) act_[i] = detmath::tanh(act_[i]);
  }

  BasicMlp<T> net_;
  size_t capacity_ = 0;
  std::vector<T> act_, dout_;
};

// `count` Q-networks Q_i(s, a) on [obs, action] (one for DDPG, two for SAC and TD3), each
// with a target network.
template <class T>
class Critics {
 public:
  // threads: how many of the critics' updates run side by side (arch.num_threads, see
  // WorkerPool::threads_for); each network's share touches only its own memory, so the bits
  // are the same for every count.
  Critics(size_t count, size_t obs_dim, size_t action_dim, const NetworkConfig& net,
          size_t max_batch, int threads = 1)
      : D_(obs_dim),
        A_(action_dim),
        pool_(threads > 1 && count > 1 ? std::make_unique<WorkerPool>(threads) : nullptr) {
    for (size_t i = 0; i < count; ++i) {
      q_.emplace_back(obs_dim + action_dim, net, 1, 1.0);
      target_.emplace_back(obs_dim + action_dim, net, 1, 1.0);
      q_.back().reserve(max_batch);
      target_.back().reserve(max_batch);
    }
    for (std::vector<T>& x : x_) x.resize(max_batch * (D_ + A_));
    dx_.resize(count * max_batch * A_);
    loss_.resize(count);
    tq_.resize(count * max_batch);
    q_out_.resize(count * max_batch);
    vq_.resize(count * max_batch);
    dq_.resize(count * max_batch);
    value_.resize(max_batch);
    g_action_.resize(max_batch * A_);
  }

  size_t count() const { return q_.size(); }
  int threads() const { return pool_ ? pool_->threads() : 1; }
  // The pool of the side-by-side work (null with one thread).
  WorkerPool* pool() { return pool_.get(); }
  BasicMlp<T>& q(size_t i) { return q_[i]; }
  BasicMlp<T>& target(size_t i) { return target_[i]; }
  // Every network's transposes computed ahead dropped (after a restore).
  void drop_transposes() {
    for (auto& q : q_) q.drop_transposes();
  }

  // Each online network in turn from rng; the targets start as copies.
  void init(Pcg64& rng) {
    for (BasicMlp<T>& q : q_) q.init(rng);
    for (size_t i = 0; i < count(); ++i) target_[i].copy_params_from(q_[i]);
  }

  // out[b] = min_i Qtarget_i(s_b, a_b).
  void target_min(const T* obs, const T* act, size_t n, T* out) {
    join(kTargetInput, obs, act, n);
    each([&](size_t i) { target_value(i, n); });
    min_target(n, out);
  }

  // L = sum_i mean_b l(Q_i(s_b, a_b) - y_b), l(d) = d^2 / 2, or Huber with delta > 0 (the
  // l2/Huber loss of rlax that Stoix uses). Zeroes each network's gradients and fills them
  // with dL/dparams. Returns L; *q_mean gets mean_b Q_1(s_b, a_b).
  double loss_and_grads(const T* obs, const T* act, const T* y, size_t n, double huber_delta,
                        double* q_mean) {
    return loss_and_grads(obs, act, y, n, huber_delta, q_mean, [](size_t) {});
  }
  // The same, then then(i) for each critic i in the task that computed its gradients (its
  // optimiser step, when nothing joins the critics' gradients first): one hand-over to the
  // pool instead of two.
  template <class Then>
  double loss_and_grads(const T* obs, const T* act, const T* y, size_t n, double huber_delta,
                        double* q_mean, Then&& then) {
    join(kBatchInput, obs, act, n);
    each([&](size_t i) {
      critic_loss_and_grads(i, y, n, huber_delta);
      then(i);
    });
    return total_loss(n, q_mean);
  }

  // The value an actor maximises, through the online networks: values()[b] = min_i Q_i(s_b,
  // a_b) (use_min) or Q_1(s_b, a_b), and action_grads()[b] = weight * d values()[b] / d a_b
  // (through the smaller critic of each row). The networks' gradients are not touched.
  void value_and_action_grad(const T* obs, const T* act, size_t n, bool use_min, T weight) {
    join(kActorInput, obs, act, n);
    const size_t used = use_min ? count() : 1;
    each(used, [&](size_t i) { value_forward(i, n); });
    value_choice(n, used, weight);
    each(used, [&](size_t i) { action_grad(i, n); });
    sum_action_grads(n, used);
  }
  const T* values() const { return value_.data(); }
  const T* action_grads() const { return g_action_.data(); }

  // ---- The calls above piece by piece, critic by critic: for a schedule that keeps each
  // critic on its own thread for a whole step (sac_step_side_by_side). Each input is joined
  // into its own buffer and each set of outputs has its own, so that the pieces of different
  // phases may overlap.
  enum Input { kTargetInput = 0, kBatchInput = 1, kActorInput = 2 };
  const T* input(Input which) const { return x_[which].data(); }
  // The input `which` = [obs_b, act_b] per row.
  void join(Input which, const T* obs, const T* act, size_t n) {
    const size_t W = D_ + A_;
    T* x = x_[which].data();
    for (size_t b = 0; b < n; ++b) {
      copy_short(obs + b * D_, D_, &x[b * W]);
      copy_short(act + b * A_, A_, &x[b * W + D_]);
    }
  }
  // Target network i on the target input.
  void target_value(size_t i, size_t n) {
    target_[i].predict(x_[kTargetInput].data(), n, &tq_[i * n]);
  }
  // out[b] = min_i of the target values, the first network winning ties.
  void min_target(size_t n, T* out) const { min_over_critics(tq_, n, out); }
  // Critic i on the batch input, keeping what its backward pass needs: the first part of
  // critic_loss_and_grads(), which may run ahead of the rest (BatchAhead).
  void critic_forward(size_t i, size_t n) {
    q_[i].forward(x_[kBatchInput].data(), n, &q_out_[i * n]);
  }
  // Critic i's loss (loss_and_grads) on the batch input: zeroes its gradients and fills them.
  // `forwarded`: critic_forward(i, n) has run on this input, and nothing has run critic i since.
  void critic_loss_and_grads(size_t i, const T* y, size_t n, double huber_delta,
                             bool forwarded = false) {
    const T inv_n = T(1) / static_cast<T>(n);
    const T delta = static_cast<T>(huber_delta);
    T* q = &q_out_[i * n];
    T* dq = &dq_[i * n];
    if (!forwarded) critic_forward(i, n);
    double loss = 0;
    for (size_t b = 0; b < n; ++b) {
      const T td = q[b] - y[b];
      const T ad = td < T(0) ? -td : td;
      if (delta > T(0) && ad > delta) {
        loss += static_cast<double>(delta * (ad - T(0.5) * delta));
        dq[b] = (td > T(0) ? delta : -delta) * inv_n;
      } else {
        loss += static_cast<double>(T(0.5) * td * td);
        dq[b] = td * inv_n;
      }
    }
    loss_[i] = loss / static_cast<double>(n);
    q_[i].zero_grad();
    q_[i].backward(dq, n, nullptr);
  }
  // The critics' summed loss; *q_mean (if given) = q_mean(n).
  double total_loss(size_t n, double* q_mean) const {
    double total = 0;
    for (size_t i = 0; i < count(); ++i) total += loss_[i];
    if (q_mean) *q_mean = this->q_mean(n);
    return total;
  }
  // mean_b Q_1(s_b, a_b) of the last critic_forward(0, n) (which a batch prepared ahead
  // replaces: read it before).
  double q_mean(size_t n) const {
    double s = 0;
    for (size_t b = 0; b < n; ++b) s += static_cast<double>(q_out_[b]);
    return s / static_cast<double>(n);
  }
  // Online network i on the actor's input, keeping what action_grad() needs.
  void value_forward(size_t i, size_t n) { q_[i].forward(x_[kActorInput].data(), n, &vq_[i * n]); }
  // values() from the first `used` networks' values, and each network's share of the
  // gradient: weight for the network that gave a row's value, 0 for the others.
  void value_choice(size_t n, size_t used, T weight) {
    for (size_t i = 0; i < used; ++i) value_share(i, n, used, weight);
  }
  // Network i's part of value_choice(): its share of the gradient (the first network's part
  // also fills values()). Each network's part writes only its own memory, so the networks'
  // threads may each compute theirs.
  void value_share(size_t i, size_t n, size_t used, T weight) {
    T* dq = &dq_[i * n];
    if (used == 1) {
      std::copy(vq_.begin(), vq_.begin() + static_cast<std::ptrdiff_t>(n), value_.begin());
      std::fill(dq, dq + n, weight);
      return;
    }
    if (i == 0) min_over_critics(vq_, n, value_.data());
    for (size_t b = 0; b < n; ++b) {
      size_t k = 0;  // the network that gives row b's value, the first one winning ties
      for (size_t j = 1; j < used; ++j)
        if (vq_[j * n + b] < vq_[k * n + b]) k = j;
      dq[b] = i == k ? weight : T(0);
    }
  }
  // Network i's share of action_grads(), through its action columns only.
  void action_grad(size_t i, size_t n) {
    T* g = i == 0 ? g_action_.data() : &dx_[i * n * A_];
    q_[i].input_gradient(&dq_[i * n], n, g, D_, A_);
  }
  // action_grads() = the sum of the first `used` networks' shares, in order.
  void sum_action_grads(size_t n, size_t used) {
    for (size_t i = 1; i < used; ++i) {
      const T* g = &dx_[i * n * A_];
      for (size_t k = 0; k < n * A_; ++k) g_action_[k] = g_action_[k] + g[k];
    }
  }

  // Every target network moves towards its online network: tau * online + (1 - tau) * target.
  void polyak(double tau) {
    each([&](size_t i) { target_[i].polyak_update(q_[i], tau); });
  }

  // f(i) for the first `n` critics (all by default), on the pool when there is one.
  template <class F>
  void each(size_t n, F&& f) {
    if (pool_)
      pool_->for_each(n, f);
    else
      for (size_t i = 0; i < n; ++i) f(i);
  }
  template <class F>
  void each(F&& f) {
    each(count(), std::forward<F>(f));
  }

 private:
  // out[b] = min_i q[i][b] (q: [count][n]), the first network winning ties.
  void min_over_critics(const std::vector<T>& q, size_t n, T* out) const {
    for (size_t b = 0; b < n; ++b) {
      T m = q[b];
      for (size_t i = 1; i < count(); ++i) m = q[i * n + b] < m ? q[i * n + b] : m;
      out[b] = m;
    }
  }

  size_t D_, A_;
  std::vector<BasicMlp<T>> q_, target_;
  std::vector<T> x_[3], dx_, tq_, q_out_, vq_, dq_, value_, g_action_;
  std::vector<double> loss_;
  std::unique_ptr<WorkerPool> pool_;
};

// The acting half of SAC, TD3 and DDPG, copied out of the learner (System::policy()): the
// actor's network and the action box. Greedy: a = tanh of the first A outputs (SAC's mean,
// TD3's and DDPG's mu) in the Box, box.to_env(tanh(y)). Sampled (gaussian, SAC only):
// tanh(mean + exp(log_std) * noise), log_std clamped to [log_std_min, log_std_max], noise
// from request.rng; a deterministic actor's sample is its mode.
//
// model() is the greedy policy as PolicyModel::Output::tanh_scaled (the last layer cut to its
// first A columns): tanh(y) * scale + bias, the product and sum to_env computes. to_env also
// clamps to [low, high], which changes nothing on a Box with low = -high (every Box here):
// |u| <= 1 gives |scale * u| <= scale = high, rounding being monotonic.
class TanhActorPolicy final : public Policy {
 public:
  TanhActorPolicy(const Mlp& net, size_t action_dim, const ActionBox& box, bool gaussian,
                  double log_std_min, double log_std_max, std::string env)
      : net_(widths_of(net), hidden_of(net), 1.0),
        A_(action_dim),
        box_(box),
        gaussian_(gaussian),
        lo_(static_cast<float>(log_std_min)),
        hi_(static_cast<float>(log_std_max)),
        env_(std::move(env)) {
    net_.copy_params_from(net);
  }

  void act(const ActRequest& r) override {
    const size_t out = net_.out_dim(), n = r.n * A_;
    y_.resize(r.n * out);
    u_.resize(n);
    net_.predict(r.obs, r.n, y_.data());
    if (r.greedy || !gaussian_) {
      for (size_t b = 0; b < r.n; ++b)
        for (size_t d = 0; d < A_; ++d) u_[b * A_ + d] = detmath::tanh(y_[b * out + d]);
    } else {
      mean_.resize(n);
      log_std_.resize(n);
      noise_.resize(n);
      for (size_t b = 0; b < r.n; ++b)
        for (size_t d = 0; d < A_; ++d) {
          mean_[b * A_ + d] = y_[b * out + d];
          log_std_[b * A_ + d] = clamp(y_[b * out + A_ + d], lo_, hi_);
        }
      fill_normal(*r.rng, noise_.data(), n);
      tanh_gaussian::actions_rows(mean_.data(), log_std_.data(), noise_.data(), r.n, A_, u_.data());
    }
    for (size_t i = 0; i < n; ++i) r.continuous[i] = box_.to_env(u_[i]);
  }

  PolicyModel model() const override {
    PolicyModel m;
    m.env = env_;
    m.obs_dim = net_.in_dim();
    m.widths = widths_of(net_);
    m.widths.back() = A_;
    m.hidden = hidden_of(net_);
    const auto& layers = net_.layers();
    const Mlp::Layer& last = layers.back();
    m.params.assign(net_.params(), net_.params() + last.w_offset);
    for (size_t i = 0; i < last.in; ++i) {
      const float* row = net_.params() + last.w_offset + i * last.out;
      m.params.insert(m.params.end(), row, row + A_);
    }
    const float* bias = net_.params() + last.b_offset;
    m.params.insert(m.params.end(), bias, bias + A_);
    m.output = PolicyModel::Output::tanh_scaled;
    m.action_scale.assign(A_, box_.scale);
    m.action_offset.assign(A_, box_.bias);
    return m;
  }

  void append_tensors(TensorList& out, const std::string& prefix) override {
    net_.append_tensors(out, prefix + "actor");
  }

 private:
  static std::vector<size_t> widths_of(const Mlp& net) {
    std::vector<size_t> w{net.in_dim()};
    for (const auto& l : net.layers()) w.push_back(l.out);
    return w;
  }
  static Activation hidden_of(const Mlp& net) {
    return net.layers().size() > 1 ? net.layers().front().activation : Activation::tanh;
  }

  Mlp net_;
  size_t A_;
  ActionBox box_;
  bool gaussian_;
  float lo_, hi_;
  std::string env_;
  std::vector<float> y_, u_, mean_, log_std_, noise_;
};

// ---- The losses, for float (the learners) and double (the gradient checks) ----------------

// y[i] = r + discount * (1 - terminated) * (y[i] - alpha * logp[i]), y holding the min.
template <class T>
void soft_target_from_min(const TransitionBatch<T>& b, const T* logp, T alpha, T discount, T* y) {
  for (size_t i = 0; i < b.n; ++i)
    y[i] = b.reward[i] + (T(1) - b.terminated[i]) * (discount * (y[i] - alpha * logp[i]));
}

// SAC's soft target, a' ~ pi(.|s') drawn with `noise` [n][A] from the current actor:
//   y = r + discount * (1 - terminated) * (min_i Qtarget_i(s', a') - alpha * log pi(a'|s')).
template <class T>
void soft_q_target(SquashedGaussianActor<T>& actor, Critics<T>& critics,
                   const TransitionBatch<T>& b, const T* noise, T alpha, T discount, T* y) {
  actor.sample_detached(b.next_obs.data(), b.n, noise);
  critics.target_min(b.next_obs.data(), actor.detached_actions(), b.n, y);
  soft_target_from_min(b, actor.detached_log_probs(), alpha, discount, y);
}

// The loss's value from the actor's samples and the critics' values(); *entropy (if given)
// = -mean log pi.
template <class T>
double sac_actor_loss_value(const SquashedGaussianActor<T>& actor, const Critics<T>& critics,
                            size_t n, T alpha, double* entropy) {
  double loss = 0, logp_sum = 0;
  const T* logp = actor.log_probs();
  for (size_t i = 0; i < n; ++i) {
    loss += static_cast<double>(alpha * logp[i] - critics.values()[i]);
    logp_sum += static_cast<double>(logp[i]);
  }
  if (entropy) *entropy = -logp_sum / static_cast<double>(n);
  return loss / static_cast<double>(n);
}

// SAC's actor loss, a~ = actor sample for `noise` (reparameterised), with the critics as they
// are now: L = mean_b(alpha * log pi(a~_b|s_b) - min_i Q_i(s_b, a~_b)). Zeroes the actor's
// gradients and fills them with dL/dtheta (through d min Q / da, the action input of the
// critics). Returns L; actor.log_probs() holds the samples' log pi (for the alpha loss) and
// *entropy gets -mean log pi.
template <class T>
double sac_actor_loss(SquashedGaussianActor<T>& actor, Critics<T>& critics, const T* obs, size_t n,
                      const T* noise, T alpha, double* entropy) {
  actor.sample(obs, n, noise);
  const T inv_n = T(1) / static_cast<T>(n);
  critics.value_and_action_grad(obs, actor.actions(), n, true, -inv_n);
  actor.net().zero_grad();
  actor.backward(alpha * inv_n, critics.action_grads(), n);
  return sac_actor_loss_value(actor, critics, n, alpha, entropy);
}

// SAC's temperature loss (Haarnoja et al. 2018b, eq. 18, as CleanRL and RLtools):
//   L(log alpha) = mean_b(-alpha * (log pi(a_b|s_b) + target_entropy)), alpha = exp(log alpha),
// the log-probabilities held constant. Returns L; *grad = dL/d log alpha (= L).
template <class T>
double alpha_loss(T log_alpha, const T* logp, size_t n, double target_entropy, T* grad) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(logp[i]) + target_entropy;
  const double alpha = static_cast<double>(detmath::exp(log_alpha));
  const double loss = -alpha * (s / static_cast<double>(n));
  *grad = static_cast<T>(loss);
  return loss;
}

// The target action of TD3's target policy smoothing (Fujimoto et al. 2018), into
// b.next_action: a' = clip(mu_target(s') + clip(policy_noise * noise, -noise_clip, noise_clip),
// -1, 1); policy_noise = 0 gives DDPG's a' = mu_target(s').
template <class T>
void target_action(DeterministicActor<T>& target_actor, TransitionBatch<T>& b, const T* noise,
                   T policy_noise, T noise_clip) {
  target_actor.predict(b.next_obs.data(), b.n);
  const T* mu = target_actor.actions();
  for (size_t i = 0; i < b.n * b.action_dim; ++i) {
    const T eps =
        policy_noise > T(0) ? clamp(policy_noise * noise[i], -noise_clip, noise_clip) : T(0);
    b.next_action[i] = clamp(mu[i] + eps, T(-1), T(1));
  }
}

// y[i] = clip(r, +-max_abs_reward) + discount * (1 - terminated) * y[i], y holding the min.
template <class T>
void clipped_target_from_min(const TransitionBatch<T>& b, T discount, T max_abs_reward, T* y) {
  for (size_t i = 0; i < b.n; ++i)
    y[i] = clamp(b.reward[i], -max_abs_reward, max_abs_reward) +
           (T(1) - b.terminated[i]) * (discount * y[i]);
}

// TD3's (and DDPG's) target at b.next_action: y = clip(r, +-max_abs_reward) + discount *
// (1 - terminated) * min_i Qtarget_i(s', a').
template <class T>
void clipped_q_target(Critics<T>& critics, const TransitionBatch<T>& b, T discount,
                      T max_abs_reward, T* y) {
  critics.target_min(b.next_obs.data(), b.next_action.data(), b.n, y);
  clipped_target_from_min(b, discount, max_abs_reward, y);
}

// The loss's value, -mean of the critics' values().
template <class T>
double dpg_actor_loss_value(const Critics<T>& critics, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(critics.values()[i]);
  return -s / static_cast<double>(n);
}

// The deterministic policy gradient loss L = -mean_b Q_1(s_b, mu(s_b)) (TD3 and DDPG: the
// first critic). Zeroes the actor's gradients and fills them with dL/dtheta. Returns L.
template <class T>
double dpg_actor_loss(DeterministicActor<T>& actor, Critics<T>& critics, const T* obs, size_t n) {
  actor.forward(obs, n);
  critics.value_and_action_grad(obs, actor.actions(), n, false, -T(1) / static_cast<T>(n));
  actor.net().zero_grad();
  actor.backward(critics.action_grads(), n);
  return dpg_actor_loss_value(critics, n);
}

// ---- Optimisation (float) ---------------------------------------------------------------

// "q" for a single critic, "q1", "q2" for twins, after `prefix` ("opt/", "").
inline std::string critic_name(const std::string& prefix, size_t i, size_t count) {
  return prefix + (count == 1 ? std::string("q") : "q" + std::to_string(i + 1));
}

// sqrt(sum_i norms[i]^2), in order: the global norm of several networks' gradients from theirs.
inline double joint_norm(const double* norms, size_t count) {
  double sq = 0;
  for (size_t i = 0; i < count; ++i) sq += norms[i] * norms[i];
  return std::sqrt(sq);
}
// Scales q's gradients by max_norm / norm when norm (their global norm with the others')
// exceeds max_norm.
inline void clip_to(Mlp& q, double norm, double max_norm) {
  if (!(max_norm > 0 && norm > max_norm)) return;
  const float s = static_cast<float>(max_norm / norm);
  for (size_t p = 0; p < q.num_params(); ++p) q.grads()[p] *= s;
}

// optax.chain(clip_by_global_norm(max_norm), adam) over the critics, which share one
// optimiser in Stoix: the norm is taken over all their gradients together. max_norm <= 0
// disables clipping (and returns 0). Returns the norm before clipping.
inline double clip_grad_norm(Critics<float>& critics, double max_norm) {
  if (max_norm <= 0) return 0;  // off: not even the norm is needed
  double norms[2] = {0, 0};     // a learner has one or two critics
  for (size_t i = 0; i < critics.count(); ++i)
    norms[i] = global_norm(critics.q(i).grads(), critics.q(i).num_params());
  const double norm = joint_norm(norms, critics.count());
  for (size_t i = 0; i < critics.count(); ++i) clip_to(critics.q(i), norm, max_norm);
  return norm;
}

// One Adam per critic (the same as one Adam over both: Adam is per parameter), after the
// joint clipping above; "opt/q1", "opt/q2" (or "opt/q") in the checkpoint.
class CriticOptimisers {
 public:
  CriticOptimisers(Critics<float>& critics, const AdamOptions& options) {
    for (size_t i = 0; i < critics.count(); ++i)
      opt_.emplace_back(critics.q(i).num_params(), options);
  }
  // The critics' whole update on a batch: losses and gradients (Critics::loss_and_grads), the
  // clipped Adam step, then, with tau > 0, the targets' Polyak step (which reads only the
  // updated online network, so it may come this early). Without clipping each critic's share
  // is one task. Returns the loss; *q_mean as loss_and_grads gives it.
  double update(Critics<float>& critics, const float* obs, const float* act, const float* y,
                size_t n, double huber_delta, double* q_mean, double max_grad_norm, double tau) {
    auto step_and_follow = [&](size_t i) { step_one(critics, i, tau); };
    if (max_grad_norm <= 0)
      return critics.loss_and_grads(obs, act, y, n, huber_delta, q_mean, step_and_follow);
    const double loss = critics.loss_and_grads(obs, act, y, n, huber_delta, q_mean);
    clip_grad_norm(critics, max_grad_norm);  // joins the critics' gradients: a second hand-over
    critics.each(step_and_follow);
    return loss;
  }
  // Critic i's part of update() after its gradients (Critics::critic_loss_and_grads): its
  // Adam step, then its target's Polyak step when tau > 0.
  void step_one(Critics<float>& critics, size_t i, double tau) {
    opt_[i].step(critics.q(i).params(), critics.q(i).grads());
    if (tau > 0) critics.target(i).polyak_update(critics.q(i), tau);
  }
  void set_lr(double lr) {
    for (Adam& a : opt_) a.set_lr(lr);
  }
  double lr() const { return opt_.front().lr(); }
  void append_tensors(TensorList& out, const std::string& prefix) {
    for (size_t i = 0; i < opt_.size(); ++i)
      opt_[i].append_tensors(out, critic_name(prefix, i, opt_.size()));
  }
  void check_restored(const std::string& prefix) const {
    for (size_t i = 0; i < opt_.size(); ++i)
      opt_[i].check_restored(critic_name(prefix, i, opt_.size()));
  }

 private:
  std::vector<Adam> opt_;
};

// ---- Twin critics side by side for a whole step (ff_sac and ff_td3 with two threads) ------
//
// One pool job per gradient step instead of one per phase: each critic, with its target and
// optimiser, stays on its own thread for the whole step, and the actor's update runs on the
// worker, beside the training thread's share. The two threads hand small things over through
// Handoffs (actions, values, targets, action gradients). Memory one thread writes and the
// other then reads makes the writer's next write wait for the other core
// (docs/benchmarks.md, "#12's 4x, second look"), so the networks never cross. The numbers
// are those of the steps in order (soft_q_target, CriticOptimisers::update, sac_actor_loss /
// dpg_actor_loss): every piece computes the same sums on the same inputs. Needs
// critics.pool()->side_by_side().
namespace side_by_side {

enum Event {
  kNextAction,
  kTargetValue1,
  kTargetValue2,
  kSample,
  kNorm1,
  kNorm2,
  kValue1,
  kValue2,
  kGrad1,
  kBatch,
  kForward2
};

// Critic i's loss, gradients, clipping by the norm over both critics' gradients (the other
// thread's critic posts its norm), Adam step and, with tau > 0, its target's Polyak step.
inline void update_critic(Critics<float>& critics, CriticOptimisers& q_opt, size_t i,
                          const float* y, size_t n, double max_grad_norm, double tau, Handoffs& h,
                          double* norms, bool forwarded = false) {
  critics.critic_loss_and_grads(i, y, n, 0.0, forwarded);
  if (max_grad_norm > 0) {  // clip_grad_norm(critics), each critic on its own thread
    Mlp& q = critics.q(i);
    norms[i] = global_norm(q.grads(), q.num_params());
    h.post(i == 0 ? kNorm1 : kNorm2);
    h.wait(i == 0 ? kNorm2 : kNorm1);
    clip_to(q, joint_norm(norms, 2), max_grad_norm);
  }
  q_opt.step_one(critics, i, tau);
}

// Critic 2's forward pass on the batch input, run by the worker while it would wait for
// critic 1's target values; posted (kForward2): from then on the training thread may join the
// next batch's input over this one (prepare_ahead).
inline void forward_critic_2(Critics<float>& critics, size_t n, Handoffs& h) {
  critics.critic_forward(1, n);
  h.post(kForward2);
}

}  // namespace side_by_side

// The indices of a step with two threads: the batch prepared ahead if it is this step's
// (BatchAhead::take; then b holds it, its critic input is joined and critic 1 has run forward
// on it), else drawn now. Returns whether it was prepared.
inline bool take_or_sample(BatchAhead<float>& ahead, Pcg64& rng, const ReplayBuffer& buf,
                           uint32_t* idx, TransitionBatch<float>& b) {
  if (ahead.take(rng, buf, idx, b)) return true;
  buf.sample(rng, b.n, idx);
  return false;
}

// The next step's batch drawn and gathered ahead, for a buffer of size_then transitions
// (BatchAhead::prepare), its critic input joined and critic 1 run forward on it: the first
// part of that step's critic 1 update, done while the training thread would wait.
inline void prepare_ahead(BatchAhead<float>& ahead, Critics<float>& critics, const Pcg64& rng,
                          const ReplayBuffer& buf, size_t size_then, const ActionBox& box) {
  ahead.prepare(rng, buf, size_then, box);
  if (!ahead.ready()) return;
  const TransitionBatch<float>& nb = ahead.batch();
  critics.join(Critics<float>::kBatchInput, nb.obs.data(), nb.action.data(), nb.n);
  critics.critic_forward(0, nb.n);
}

// What one SAC gradient step measures (ff_sac's metrics).
struct SacStepLosses {
  double q_loss = 0, q_value = 0, actor_loss = 0, entropy = 0;
};

// One SAC gradient step side by side, on the transitions idx[0..n) of buf:
//   training thread (task 1)                 worker (task 2)
//   gather s', r, d                           gather s, a
//   a' ~ pi(.|s') (sample_detached)           a~ ~ pi(.|s) (sample, kept for backward)
//   Qtarget_1(s', a')                         Qtarget_2(s', a'); Q_2(s, a), kept for backward
//   y = r + gamma (1 - d)(min - alpha logp')  the same y, computed again
//   critic 1: (Q_1(s, a)) loss, gradients,    critic 2: loss, gradients, Adam, Polyak
//   Adam, Polyak
//   Q_1(s, a~)                                Q_2(s, a~)
//   critic 1's share of the min's gradient    critic 2's share
//   dQ_1/da~                                  dQ_2/da~; their sum; the actor's backward
//   idle(), then prepare(): whatever the      (where its sample's activations are),
//   caller has for the time the worker        clipping and Adam
//   still needs; then done(losses)
// y: room for 2n targets (each thread computes them from the other's target values rather than
// wait for them). prepared: b holds the batch, its critic input is joined and critic 1 has run
// forward on it, all done ahead by the last step's prepare() (take_or_sample, prepare_ahead);
// then neither thread gathers and critic 1's update starts at its loss. prepare() may overwrite
// the batch input once critic 2 has run forward on it (kForward2). Which thread runs which task
// is the Handoffs' TaskPlacement's choice; "training thread" is task 1's usual place. done()
// gets the step's losses (which the worker's actor step no longer changes) while the worker
// still runs: the caller's bookkeeping (the temperature's step, metrics) off the step's path.
template <class Idle, class Prepare, class Done>
void sac_step_side_by_side(SquashedGaussianActor<float>& actor, Critics<float>& critics,
                           CriticOptimisers& q_opt, Adam& actor_opt, TransitionBatch<float>& b,
                           const ReplayBuffer& buf, const uint32_t* idx, const ActionBox& box,
                           const float* noise_target, const float* noise_actor, float alpha,
                           float discount, double max_grad_norm, double tau, float* y,
                           bool prepared, Handoffs& h, Idle&& idle, Prepare&& prepare,
                           Done&& done) {
  using namespace side_by_side;
  using C = Critics<float>;
  const size_t n = b.n;
  const float inv_n = 1.0f / static_cast<float>(n);
  double norms[2] = {0, 0};
  double q_value = 0;
  run_side_by_side(
      *critics.pool(), h,
      [&] {
        if (!prepared) b.gather_next(buf, idx);
        actor.sample_detached(b.next_obs.data(), n, noise_target);
        critics.join(C::kTargetInput, b.next_obs.data(), actor.detached_actions(), n);
        h.post(kNextAction);
        critics.target_value(0, n);
        h.post(kTargetValue1);
        if (prepared) critics.q(0).transpose_ahead();  // for its update, while the worker runs on
        h.wait(kTargetValue2);
        critics.min_target(n, y);
        soft_target_from_min(b, actor.detached_log_probs(), alpha, discount, y);
        h.wait(kBatch);
        update_critic(critics, q_opt, 0, y, n, max_grad_norm, tau, h, norms, prepared);
        q_value = critics.q_mean(n);  // before prepare() runs critic 1 on the next batch
        h.wait(kSample);
        critics.value_forward(0, n);
        h.post(kValue1);
        critics.q(0).transpose_ahead(false);  // for action_grad, while the worker runs on
        h.wait(kValue2);
        critics.value_share(0, n, 2, -inv_n);
        critics.action_grad(0, n);
        h.post(kGrad1);
        idle();
        h.wait(kForward2);
        prepare();
        // Both critics' losses are in (kValue2), the values and the sample's log-probabilities
        // too (value_share, kSample): what follows reads them while the worker finishes.
        SacStepLosses out;
        out.q_value = q_value;
        out.q_loss = critics.total_loss(n, nullptr);
        out.actor_loss = sac_actor_loss_value(actor, critics, n, alpha, &out.entropy);
        done(out);
      },
      [&] {
        if (!prepared) b.gather_now(buf, idx, box);
        actor.sample(b.obs.data(), n, noise_actor);
        critics.join(C::kActorInput, b.obs.data(), actor.actions(), n);
        h.post(kSample);
        if (!prepared) critics.join(C::kBatchInput, b.obs.data(), b.action.data(), n);
        h.post(kBatch);
        h.wait(kNextAction);
        critics.target_value(1, n);
        h.post(kTargetValue2);
        forward_critic_2(critics, n, h);
        // The training thread has read the actor's parameters (its sample), which this
        // thread's Adam step will write: ask for them while waiting; then for the actor input,
        // which the training thread reads until kValue1 and this thread writes next step.
        WriteAhead own;
        own.add(actor.net().params(), actor.net().num_params() * sizeof(float));
        critics.q(1).transpose_ahead();
        h.wait(kTargetValue1, own);
        float* y2 = y + n;
        critics.min_target(n, y2);
        soft_target_from_min(b, actor.detached_log_probs(), alpha, discount, y2);
        update_critic(critics, q_opt, 1, y2, n, max_grad_norm, tau, h, norms, true);
        critics.value_forward(1, n);
        h.post(kValue2);
        critics.q(1).transpose_ahead(false);  // for action_grad
        h.wait(kValue1, own);
        own.add(critics.input(C::kActorInput), n * (b.obs_dim + b.action_dim) * sizeof(float));
        critics.value_share(1, n, 2, -inv_n);
        critics.action_grad(1, n);
        actor.net().transpose_ahead();  // its parameters and sample are this step's
        actor.net().zero_grad();
        h.wait(kGrad1, own);
        critics.sum_action_grads(n, 2);
        actor.backward(alpha * inv_n, critics.action_grads(), n);
        if (max_grad_norm > 0)
          clip_grad_norm(actor.net().grads(), actor.net().num_params(), max_grad_norm);
        actor_opt.step(actor.net().params(), actor.net().grads());
      });
}

// One TD3 gradient step side by side, on the transitions idx[0..n) of buf (the target
// smoothing's noise given; policy_update: the delayed actor step and the targets' Polyak
// steps are due):
//   training thread (task 1)                 worker (task 2)
//   gather s', r, d                           gather s, a
//   a' = smoothed mu_target(s')               (policy update) mu(s), kept for backward;
//                                             (else) idle()
//   Qtarget_1(s', a')                         Qtarget_2(s', a'); Q_2(s, a), kept for backward
//   y = clip(r) + gamma (1 - d) min           the same y, computed again
//   critic 1: loss, gradients, Adam(, Polyak) critic 2: the same
//   (policy update) Q_1(s, mu(s)), dQ_1/da,   (policy update) the actor's backward, clipping
//   then idle()                               and Adam
//   prepare()
// idle() runs once per step, on whichever thread waits for the other; y (2n), prepared and
// prepare() are as for sac_step_side_by_side. The target actor's Polyak step follows on the
// calling thread. Returns the actor's loss (policy update) and sets *q_loss, *q_value.
template <class Idle, class Prepare>
double td3_step_side_by_side(DeterministicActor<float>& actor,
                             DeterministicActor<float>& target_actor, Critics<float>& critics,
                             CriticOptimisers& q_opt, Adam& actor_opt, TransitionBatch<float>& b,
                             const ReplayBuffer& buf, const uint32_t* idx, const ActionBox& box,
                             const float* noise, float policy_noise, float noise_clip,
                             float discount, float max_abs_reward, double max_grad_norm, double tau,
                             bool policy_update, float* y, bool prepared, Handoffs& h,
                             double* q_loss, double* q_value, Idle&& idle, Prepare&& prepare) {
  using namespace side_by_side;
  using C = Critics<float>;
  const size_t n = b.n;
  const float weight = -1.0f / static_cast<float>(n);
  const double critic_tau = policy_update ? tau : 0.0;
  double norms[2] = {0, 0};
  run_side_by_side(
      *critics.pool(), h,
      [&] {
        if (!prepared) b.gather_next(buf, idx);
        target_action(target_actor, b, noise, policy_noise, noise_clip);
        critics.join(C::kTargetInput, b.next_obs.data(), b.next_action.data(), n);
        h.post(kNextAction);
        critics.target_value(0, n);
        h.post(kTargetValue1);
        if (prepared) critics.q(0).transpose_ahead();  // for its update, while the worker runs on
        h.wait(kTargetValue2);
        critics.min_target(n, y);
        clipped_target_from_min(b, discount, max_abs_reward, y);
        h.wait(kBatch);
        update_critic(critics, q_opt, 0, y, n, max_grad_norm, critic_tau, h, norms, prepared);
        *q_value = critics.q_mean(n);  // before prepare() runs critic 1 on the next batch
        if (policy_update) {
          h.wait(kSample);
          critics.value_forward(0, n);
          critics.value_share(0, n, 1, weight);
          critics.action_grad(0, n);
          h.post(kGrad1);
          idle();  // the worker still has the actor's step
        }
        h.wait(kForward2);
        prepare();
      },
      [&] {
        if (!prepared) b.gather_now(buf, idx, box);
        if (policy_update) {
          actor.forward(b.obs.data(), n);
          critics.join(C::kActorInput, b.obs.data(), actor.actions(), n);
          h.post(kSample);
        }
        if (!prepared) critics.join(C::kBatchInput, b.obs.data(), b.action.data(), n);
        h.post(kBatch);
        if (!policy_update) idle();  // while the target action is computed
        // The training thread read the actor's parameters after the last step (acting, the
        // target actor's Polyak step); this thread's Adam step will write them: ask for them
        // while waiting.
        WriteAhead own;
        if (policy_update) own.add(actor.net().params(), actor.net().num_params() * sizeof(float));
        h.wait(kNextAction, own);
        critics.target_value(1, n);
        h.post(kTargetValue2);
        forward_critic_2(critics, n, h);
        critics.q(1).transpose_ahead();
        h.wait(kTargetValue1, own);
        float* y2 = y + n;
        critics.min_target(n, y2);
        clipped_target_from_min(b, discount, max_abs_reward, y2);
        update_critic(critics, q_opt, 1, y2, n, max_grad_norm, critic_tau, h, norms, true);
        // Its weights' transposes for the next step's update, where this thread would wait
        // (nothing changes the weights before that update's Adam step).
        critics.q(1).transpose_ahead(false);
        if (!policy_update) return;
        actor.net().transpose_ahead();  // its parameters and forward pass are this step's
        h.wait(kGrad1, own);
        actor.net().zero_grad();
        actor.backward(critics.action_grads(), n);
        if (max_grad_norm > 0)
          clip_grad_norm(actor.net().grads(), actor.net().num_params(), max_grad_norm);
        actor_opt.step(actor.net().params(), actor.net().grads());
      });
  *q_loss = critics.total_loss(n, nullptr);
  if (!policy_update) return 0;
  target_actor.net().polyak_update(actor.net(), tau);
  return dpg_actor_loss_value(critics, n);
}

// The critics and their targets as "q1/params", "q1_target/params", ... (or "q/params").
inline void append_critic_tensors(Critics<float>& critics, TensorList& out) {
  for (size_t i = 0; i < critics.count(); ++i) {
    critics.q(i).append_tensors(out, critic_name("", i, critics.count()));
    critics.target(i).append_tensors(out, critic_name("", i, critics.count()) + "_target");
  }
}

// The exploration noise TD3 and DDPG add to mu(s) in [-1, 1]: independent Gaussian noise
// sigma * N(0, 1) at every step (Fujimoto et al.; Stoix, CleanRL), or an Ornstein-Uhlenbeck
// process per environment and action dimension (Lillicrap et al. 2016),
//   x <- x + theta * (0 - x) + sigma * N(0, 1),
// which starts at 0 with each episode: temporally correlated noise that reaches far in
// environments such as MountainCarContinuous where white noise only jitters in place.
class ExplorationNoise {
 public:
  ExplorationNoise(size_t num_envs, size_t action_dim, double sigma, bool ou, double theta)
      : A_(action_dim),
        sigma_(static_cast<float>(sigma)),
        theta_(static_cast<float>(theta)),
        ou_(ou),
        state_(ou ? num_envs * action_dim : 0, 0.0f) {}

  // The noise of environment e's next action (A values from rng); new_episode: e's episode
  // has just begun.
  void draw(Pcg64& rng, size_t e, bool new_episode, float* out) {
    for (size_t d = 0; d < A_; ++d) {
      const float eps = sigma_ * static_cast<float>(rng.normal());
      if (!ou_) {
        out[d] = eps;
        continue;
      }
      float& x = state_[e * A_ + d];
      if (new_episode) x = 0.0f;
      x = (x + theta_ * (0.0f - x)) + eps;
      out[d] = x;
    }
  }

  // The behaviour actions u[e] = clip(mu[e] + noise, -1, 1) of E environments, each one's
  // noise drawn as draw() does (elapsed[e] == 0: e's episode has just begun).
  void perturb(Pcg64& rng, const float* mu, const int64_t* elapsed, size_t E, float* u) {
    for (size_t e = 0; e < E; ++e) {
      float* ue = u + e * A_;
      draw(rng, e, elapsed[e] == 0, ue);
      for (size_t d = 0; d < A_; ++d) ue[d] = clamp(mu[e * A_ + d] + ue[d], -1.0f, 1.0f);
    }
  }

  bool ou() const { return ou_; }
  // The OU state as "<name>" [E][A] (nothing for Gaussian noise).
  void append_tensors(TensorList& out, const std::string& name) {
    if (ou_) out.push_back(tensor_ref(name, state_.data(), {state_.size() / A_, A_}));
  }
  bool finite() const {
    for (float x : state_)
      if (!(x == x) || x > 1e30f || x < -1e30f) return false;
    return true;
  }

 private:
  size_t A_;
  float sigma_, theta_;
  bool ou_;
  std::vector<float> state_;
};

}  // namespace edgerl
