// Off-policy continuous control (ff_sac, ff_td3, ff_ddpg and learners/actor_critic.hpp): every
// loss and its gradients against central differences in double, the targets against direct
// computations, Polyak averaging, delayed policy updates, the action box, short trainings that
// must learn, byte-identical reruns, and no allocation per step after warm-up.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "core/detmath.hpp"
#include "edgerl/config.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/system.hpp"
#include "edgerl/train.hpp"
#include "learners/actor_critic.hpp"
#include "nn/distributions.hpp"
#include "test_util.hpp"

#include <utility>

using namespace edgerl;
using edgerl::testing::TempDir;

namespace {

const NetworkConfig kNet{{6, 5}, "tanh"};  // small, smooth: finite differences are exact enough

std::vector<double> normals(Pcg64& rng, size_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (double& x : v) x = scale * rng.normal();
  return v;
}

// Random parameters (not the orthogonal init: non-zero biases, every path used).
template <class Net>
void randomise(Net& net, Pcg64& rng, double scale = 0.5) {
  for (size_t p = 0; p < net.num_params(); ++p) net.params()[p] = scale * rng.normal();
}

// A batch of n transitions with D = 3, A = 2; the second one terminated.
TransitionBatch<double> make_batch(Pcg64& rng, size_t n) {
  TransitionBatch<double> b(n, 3, 2);
  b.obs = normals(rng, n * 3);
  b.next_obs = normals(rng, n * 3);
  for (double& a : b.action) a = std::tanh(rng.normal());
  b.reward = normals(rng, n);
  for (size_t i = 0; i < n; ++i) b.terminated[i] = i == 1 ? 1.0 : 0.0;
  return b;
}

// Largest relative difference between `analytic` and central differences of f over params.
double worst_fd_error(double* params, size_t n, const std::vector<double>& analytic,
                      const std::function<double()>& f) {
  const double h = 1e-6;
  double worst = 0;
  for (size_t p = 0; p < n; ++p) {
    const double saved = params[p];
    params[p] = saved + h;
    const double up = f();
    params[p] = saved - h;
    const double down = f();
    params[p] = saved;
    const double fd = (up - down) / (2 * h);
    worst = std::max(worst, std::fabs(fd - analytic[p]) /
                                std::max({std::fabs(fd), std::fabs(analytic[p]), 1e-7}));
  }
  return worst;
}

std::vector<double> grads_of(MlpD& net) {
  return std::vector<double>(net.grads(), net.grads() + net.num_params());
}

// Q of one network at one (obs, action) row, computed on its own.
double q_at(MlpD& net, const double* obs, const double* act) {
  double x[5] = {obs[0], obs[1], obs[2], act[0], act[1]}, y;
  net.forward(x, 1, &y);
  return y;
}

// A quiet run of a built-in config with overrides, in `dir`.
TrainSummary quiet_train(const std::string& builtin, const std::string& dir,
                         std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(), "logger.loggers.csv.enabled=false");
  return testing::quiet_train(builtin, dir, std::move(overrides));
}

const TensorRef& tensor_named(const TensorList& list, const std::string& name) {
  for (const TensorRef& t : list)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return list.front();
}

std::vector<float> floats_of(const TensorList& list, const std::string& name) {
  const TensorRef& t = tensor_named(list, name);
  const float* p = static_cast<const float*>(t.data);
  return std::vector<float>(p, p + t.size_bytes() / sizeof(float));
}

}  // namespace

TEST_CASE("offpolicy: the action box maps [-1, 1] onto [low, high] and back, clipped") {
  const ActionBox pendulum(-2.0f, 2.0f);
  CHECK(pendulum.to_env(-1.0f) == -2.0f);
  CHECK(pendulum.to_env(1.0f) == 2.0f);
  CHECK(pendulum.to_env(0.25f) == 0.5f);
  CHECK(pendulum.to_unit(0.5f) == 0.25f);
  const ActionBox shifted(0.0f, 3.0f);  // scale 1.5, bias 1.5
  CHECK(shifted.to_env(-1.0f) == 0.0f);
  CHECK(shifted.to_env(1.0f) == 3.0f);
  CHECK(shifted.to_env(0.0f) == 1.5f);
  CHECK(shifted.to_env(1.5f) == 3.0f);  // clipped into the Box
  CHECK(shifted.to_unit(3.0f) == 1.0f);
  CHECK(shifted.to_unit(-7.0f) == -1.0f);
  for (float u = -1.0f; u <= 1.0f; u += 0.125f) CHECK(shifted.to_unit(shifted.to_env(u)) == u);
}

TEST_CASE(
    "offpolicy: critic loss and its gradients, squared and Huber, against finite differences") {
  Pcg64 rng(1);
  for (double huber : {0.0, 0.3}) {
    CAPTURE(huber);
    Critics<double> critics(2, 3, 2, kNet, 8);
    for (size_t i = 0; i < 2; ++i) randomise(critics.q(i), rng);
    const TransitionBatch<double> b = make_batch(rng, 8);
    const std::vector<double> y = normals(rng, 8, 2.0);
    double q_mean = 0;
    const double loss =
        critics.loss_and_grads(b.obs.data(), b.action.data(), y.data(), 8, huber, &q_mean);
    // The value, summed over the critics, each a mean over the batch.
    double want = 0, q1 = 0;
    for (size_t i = 0; i < 2; ++i)
      for (size_t r = 0; r < 8; ++r) {
        const double q = q_at(critics.q(i), &b.obs[r * 3], &b.action[r * 2]);
        const double d = std::fabs(q - y[r]);
        want += (huber > 0 && d > huber ? huber * (d - 0.5 * huber) : 0.5 * d * d) / 8;
        if (i == 0) q1 += q / 8;
      }
    CHECK(loss == doctest::Approx(want).epsilon(1e-12));
    CHECK(q_mean == doctest::Approx(q1).epsilon(1e-12));
    for (size_t i = 0; i < 2; ++i) {
      const std::vector<double> g = grads_of(critics.q(i));
      Critics<double>* c = &critics;
      CHECK(worst_fd_error(critics.q(i).params(), critics.q(i).num_params(), g, [&] {
              double unused;
              return c->loss_and_grads(b.obs.data(), b.action.data(), y.data(), 8, huber, &unused);
            }) < 1e-5);
    }
  }
}

TEST_CASE(
    "offpolicy: SAC's soft twin-critic target with the entropy term, and its critic gradient") {
  Pcg64 rng(2);
  SquashedGaussianActor<double> actor(3, 2, kNet, 8, -20, 2);
  Critics<double> critics(2, 3, 2, kNet, 8);
  randomise(actor.net(), rng);
  for (size_t i = 0; i < 2; ++i) {
    randomise(critics.q(i), rng);
    randomise(critics.target(i), rng);  // targets differ from the online networks
  }
  const TransitionBatch<double> b = make_batch(rng, 8);
  const std::vector<double> noise = normals(rng, 16);
  const double alpha = 0.3, gamma = 0.99;
  std::vector<double> y(8);
  soft_q_target(actor, critics, b, noise.data(), alpha, gamma, y.data());
  for (size_t r = 0; r < 8; ++r) {
    // a' = tanh(mean + exp(log_std) eps) from the actor's outputs on s'.
    double out[4];
    actor.net().forward(&b.next_obs[r * 3], 1, out);
    double a[2];
    for (size_t d = 0; d < 2; ++d)
      a[d] = std::tanh(out[d] + std::exp(out[2 + d]) * noise[r * 2 + d]);
    const double logp = tanh_gaussian::log_prob(out, out + 2, &noise[r * 2], 2);
    const double minq = std::min(q_at(critics.target(0), &b.next_obs[r * 3], a),
                                 q_at(critics.target(1), &b.next_obs[r * 3], a));
    const double want = b.reward[r] + (r == 1 ? 0.0 : gamma * (minq - alpha * logp));
    CAPTURE(r);
    CHECK(y[r] == doctest::Approx(want).epsilon(1e-12));
  }
  CHECK(y[1] == b.reward[1]);  // terminated: no bootstrap
  // The critic loss on this target: the online critics' gradients against finite differences
  // (the target does not depend on them).
  double unused;
  critics.loss_and_grads(b.obs.data(), b.action.data(), y.data(), 8, 0.0, &unused);
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<double> g = grads_of(critics.q(i));
    CHECK(worst_fd_error(critics.q(i).params(), critics.q(i).num_params(), g, [&] {
            std::vector<double> yy(8);
            soft_q_target(actor, critics, b, noise.data(), alpha, gamma, yy.data());
            double u;
            return critics.loss_and_grads(b.obs.data(), b.action.data(), yy.data(), 8, 0.0, &u);
          }) < 1e-5);
  }
}

TEST_CASE(
    "offpolicy: SAC's actor loss flows through d min Q / da into the actor, as finite "
    "differences") {
  Pcg64 rng(3);
  SquashedGaussianActor<double> actor(3, 2, kNet, 8, -20, 2);
  Critics<double> critics(2, 3, 2, kNet, 8);
  randomise(actor.net(), rng);
  for (size_t i = 0; i < 2; ++i) randomise(critics.q(i), rng, 0.8);
  const TransitionBatch<double> b = make_batch(rng, 8);
  const std::vector<double> noise = normals(rng, 16);
  const double alpha = 0.2;
  // Shift Q2 so that each critic is the smaller one on about half the rows.
  actor.sample(b.obs.data(), 8, noise.data());
  std::vector<double> diff(8);
  for (size_t r = 0; r < 8; ++r)
    diff[r] = q_at(critics.q(1), &b.obs[r * 3], &actor.actions()[r * 2]) -
              q_at(critics.q(0), &b.obs[r * 3], &actor.actions()[r * 2]);
  std::sort(diff.begin(), diff.end());
  size_t k = 1;  // the widest gap between two sorted differences, away from the ends
  for (size_t j = 2; j < 6; ++j)
    if (diff[j + 1] - diff[j] > diff[k + 1] - diff[k]) k = j;
  critics.q(1).params()[critics.q(1).num_params() - 1] -= 0.5 * (diff[k] + diff[k + 1]);
  auto loss = [&] {
    double h;
    return sac_actor_loss(actor, critics, b.obs.data(), 8, noise.data(), alpha, &h);
  };
  double entropy = 0;
  const double l = sac_actor_loss(actor, critics, b.obs.data(), 8, noise.data(), alpha, &entropy);
  const std::vector<double> g = grads_of(actor.net());
  // The value: mean(alpha log pi - min Q) at the sampled actions, and both critics were the
  // smaller one somewhere (so the gradient switched between them).
  double want = 0, logp_sum = 0;
  int smaller[2] = {0, 0};
  for (size_t r = 0; r < 8; ++r) {
    const double* a = &actor.actions()[r * 2];
    const double q1 = q_at(critics.q(0), &b.obs[r * 3], a),
                 q2 = q_at(critics.q(1), &b.obs[r * 3], a);
    smaller[q2 < q1 ? 1 : 0] += 1;
    want += (alpha * actor.log_probs()[r] - std::min(q1, q2)) / 8;
    logp_sum += actor.log_probs()[r];
  }
  sac_actor_loss(actor, critics, b.obs.data(), 8, noise.data(), alpha, &entropy);
  CHECK(l == doctest::Approx(want).epsilon(1e-12));
  CHECK(entropy == doctest::Approx(-logp_sum / 8).epsilon(1e-12));
  CHECK(smaller[0] > 0);
  CHECK(smaller[1] > 0);
  CHECK(worst_fd_error(actor.net().params(), actor.net().num_params(), g, loss) < 1e-5);
  // The critics' own gradients are left alone (only their input gradient is used).
  for (size_t i = 0; i < 2; ++i)
    for (size_t p = 0; p < critics.q(i).num_params(); ++p) REQUIRE(critics.q(i).grads()[p] == 0.0);
}

TEST_CASE("offpolicy: the clamped log-std passes no gradient outside its bounds") {
  Pcg64 rng(4);
  // Bounds so tight that most raw log-stds fall outside them.
  SquashedGaussianActor<double> actor(3, 2, kNet, 8, -0.1, 0.1);
  Critics<double> critics(2, 3, 2, kNet, 8);
  randomise(actor.net(), rng, 1.0);
  for (size_t i = 0; i < 2; ++i) randomise(critics.q(i), rng);
  const TransitionBatch<double> b = make_batch(rng, 8);
  const std::vector<double> noise = normals(rng, 16);
  double h;
  sac_actor_loss(actor, critics, b.obs.data(), 8, noise.data(), 0.5, &h);
  const std::vector<double> g = grads_of(actor.net());
  CHECK(worst_fd_error(actor.net().params(), actor.net().num_params(), g, [&] {
          double e;
          return sac_actor_loss(actor, critics, b.obs.data(), 8, noise.data(), 0.5, &e);
        }) < 1e-5);
}

TEST_CASE("offpolicy: the temperature loss and its gradient in log alpha") {
  const std::vector<double> logp = {-0.5, 1.2, 0.3, -2.0};
  const double target = -1.0;
  for (double log_alpha : {-1.5, 0.0, 0.7}) {
    double g = 0;
    const double l = alpha_loss(log_alpha, logp.data(), 4, target, &g);
    double mean = 0;
    for (double v : logp) mean += (v + target) / 4;
    CHECK(l == doctest::Approx(-std::exp(log_alpha) * mean).epsilon(1e-12));
    const double h = 1e-6;
    double u;
    const double fd = (alpha_loss(log_alpha + h, logp.data(), 4, target, &u) -
                       alpha_loss(log_alpha - h, logp.data(), 4, target, &u)) /
                      (2 * h);
    CHECK(g == doctest::Approx(fd).epsilon(1e-7));
  }
  // Entropy above the target (log pi below -target): alpha must fall, so the gradient is > 0.
  const std::vector<double> high_entropy = {-3.0, -2.5};
  double g;
  alpha_loss(0.0, high_entropy.data(), 2, -1.0, &g);
  CHECK(g > 0);
}

TEST_CASE("offpolicy: TD3's smoothed target action and clipped double-Q target") {
  Pcg64 rng(5);
  DeterministicActor<double> target_actor(3, 2, kNet, 8);
  Critics<double> critics(2, 3, 2, kNet, 8);
  randomise(target_actor.net(), rng, 1.5);  // saturated actions: the clip to [-1, 1] matters
  for (size_t i = 0; i < 2; ++i) randomise(critics.target(i), rng);
  TransitionBatch<double> b = make_batch(rng, 8);
  b.reward[3] = 50.0;  // beyond max_abs_reward
  const std::vector<double> noise = normals(rng, 16, 2.0);
  const double sigma = 0.4, c = 0.5, gamma = 0.9, max_r = 10.0;
  target_action(target_actor, b, noise.data(), sigma, c);
  int clipped_noise = 0, clipped_action = 0;
  for (size_t r = 0; r < 8; ++r)
    for (size_t d = 0; d < 2; ++d) {
      double out[2];
      target_actor.net().forward(&b.next_obs[r * 3], 1, out);
      const double mu = std::tanh(out[d]);
      const double eps = std::max(-c, std::min(c, sigma * noise[r * 2 + d]));
      clipped_noise += std::fabs(sigma * noise[r * 2 + d]) > c;
      clipped_action += std::fabs(mu + eps) > 1;
      CHECK(b.next_action[r * 2 + d] ==
            doctest::Approx(std::max(-1.0, std::min(1.0, mu + eps))).epsilon(1e-14));
    }
  CHECK(clipped_noise > 0);
  CHECK(clipped_action > 0);
  std::vector<double> y(8);
  clipped_q_target(critics, b, gamma, max_r, y.data());
  for (size_t r = 0; r < 8; ++r) {
    const double* a = &b.next_action[r * 2];
    const double minq = std::min(q_at(critics.target(0), &b.next_obs[r * 3], a),
                                 q_at(critics.target(1), &b.next_obs[r * 3], a));
    const double want =
        std::max(-max_r, std::min(max_r, b.reward[r])) + (r == 1 ? 0 : gamma * minq);
    CHECK(y[r] == doctest::Approx(want).epsilon(1e-12));
  }
  // DDPG: no smoothing noise at all.
  target_action(target_actor, b, static_cast<const double*>(nullptr), 0.0, 0.0);
  for (size_t i = 0; i < 16; ++i) CHECK(b.next_action[i] == target_actor.actions()[i]);
}

TEST_CASE(
    "offpolicy: the deterministic policy gradient through Q1's action input, as finite "
    "differences") {
  Pcg64 rng(6);
  DeterministicActor<double> actor(3, 2, kNet, 8);
  Critics<double> critics(2, 3, 2, kNet, 8);
  randomise(actor.net(), rng);
  for (size_t i = 0; i < 2; ++i) randomise(critics.q(i), rng, 0.8);
  const TransitionBatch<double> b = make_batch(rng, 8);
  auto loss = [&] { return dpg_actor_loss(actor, critics, b.obs.data(), 8); };
  const double l = loss();
  const std::vector<double> g = grads_of(actor.net());
  double want = 0;
  for (size_t r = 0; r < 8; ++r)
    want -= q_at(critics.q(0), &b.obs[r * 3], &actor.actions()[r * 2]) / 8;
  loss();
  CHECK(l == doctest::Approx(want).epsilon(1e-12));
  CHECK(worst_fd_error(actor.net().params(), actor.net().num_params(), g, loss) < 1e-5);
}

TEST_CASE("offpolicy: Polyak averaging moves every target by tau towards its network") {
  Pcg64 rng(7);
  Critics<float> critics(2, 3, 1, kNet, 4);
  critics.init(rng);
  for (size_t i = 0; i < 2; ++i)
    for (size_t p = 0; p < critics.q(i).num_params(); ++p)
      CHECK(critics.target(i).params()[p] == critics.q(i).params()[p]);
  std::vector<std::vector<float>> before(2);
  for (size_t i = 0; i < 2; ++i) {
    randomise(critics.q(i), rng);
    before[i].assign(critics.target(i).params(),
                     critics.target(i).params() + critics.target(i).num_params());
  }
  critics.polyak(0.25);
  for (size_t i = 0; i < 2; ++i)
    for (size_t p = 0; p < critics.q(i).num_params(); ++p)
      CHECK(critics.target(i).params()[p] ==
            0.25f * critics.q(i).params()[p] + 0.75f * before[i][p]);
}

TEST_CASE("offpolicy: TD3 updates its actor and targets every policy_frequency-th gradient step") {
  // One update per interval, so the state can be read after each gradient step.
  const Config cfg = load_config_text(
      builtin_config_text("td3_pendulum.ini"), "t",
      {"arch.total_timesteps=160", "arch.num_evaluation=160", "system.warmup_steps=100",
       "system.total_batch_size=50", "system.policy_frequency=3"});
  auto sys = make_system(cfg);
  TensorList ts;
  sys->append_tensors(ts);
  const char* moving[] = {"actor/params", "actor_target/params", "q1_target/params",
                          "q2_target/params"};
  Metrics train, act;
  int64_t checked = 0;
  while (sys->counters().eval_step < 160) {
    std::vector<std::vector<float>> before;
    for (const char* n : moving) before.push_back(floats_of(ts, n));
    const std::vector<float> q1 = floats_of(ts, "q1/params");
    sys->learn(train, act);
    const int64_t g = *static_cast<const int64_t*>(tensor_named(ts, "counters/grad_steps").data);
    const bool stepped = sys->counters().timestep >= 100;
    CHECK(g == (stepped ? sys->counters().timestep - 99 : 0));
    CHECK((floats_of(ts, "q1/params") != q1) == stepped);  // the critics learn every step
    for (size_t k = 0; k < before.size(); ++k) {
      CAPTURE(moving[k]);
      CHECK((floats_of(ts, moving[k]) != before[k]) == (stepped && g % 3 == 0));
    }
    checked += stepped && g % 3 == 0;
  }
  CHECK(checked == 20);
}

TEST_CASE(
    "offpolicy: SAC's and DDPG's targets follow every gradient step; SAC has no actor target") {
  struct Case {
    const char* config;
    std::vector<std::string> moving;  // tensors that change with every gradient step
  };
  for (const Case& c :
       {Case{"sac_pendulum.ini",
             {"actor/params", "q1/params", "q2/params", "q1_target/params", "q2_target/params",
              "log_alpha"}},
        Case{"ddpg_pendulum.ini",
             {"actor/params", "actor_target/params", "q/params", "q_target/params"}}}) {
    CAPTURE(c.config);
    const Config cfg = load_config_text(
        builtin_config_text(c.config), c.config,
        {"arch.total_timesteps=110", "arch.num_evaluation=110", "system.total_batch_size=50"});
    auto sys = make_system(cfg);
    TensorList ts;
    sys->append_tensors(ts);
    bool has_actor_target = false;
    for (const TensorRef& t : ts) has_actor_target |= t.name == "actor_target/params";
    CHECK(has_actor_target == (c.moving[1] == "actor_target/params"));
    Metrics train, act;
    while (sys->counters().eval_step < 110) {
      std::vector<std::vector<float>> before;
      for (const std::string& n : c.moving) before.push_back(floats_of(ts, n));
      sys->learn(train, act);
      const bool stepped = sys->counters().timestep >= 100;
      for (size_t k = 0; k < c.moving.size(); ++k) {
        CAPTURE(c.moving[k]);
        CHECK((floats_of(ts, c.moving[k]) != before[k]) == stepped);
      }
    }
  }
}

TEST_CASE("offpolicy: actions reach the environment scaled to its Box, and the buffer holds them") {
  // Pendulum's Box is [-2, 2]: the warm-up's uniform actions fill it (beyond the policy's
  // [-1, 1]), and evaluation actions are 2 tanh(mean) (SAC) or 2 mu(s) (TD3).
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini", "ddpg_pendulum.ini"}) {
    CAPTURE(name);
    const Config cfg = load_config_text(builtin_config_text(name), name,
                                        {"arch.total_timesteps=300", "arch.num_evaluation=1"});
    auto sys = make_system(cfg);
    Metrics train, act;
    sys->learn(train, act);
    TensorList ts;
    sys->append_tensors(ts);
    const std::vector<float> a = floats_of(ts, "buffer/action");
    float lo = 0, hi = 0;
    for (size_t i = 0; i < 300; ++i) lo = std::min(lo, a[i]), hi = std::max(hi, a[i]);
    CHECK(lo >= -2.0f);
    CHECK(hi <= 2.0f);
    CHECK(lo < -1.8f);
    CHECK(hi > 1.8f);
    VecEnv env(cfg.env, 64, 3);
    env.reset();
    std::vector<float> out(64);
    ActRequest r;
    r.obs = env.obs();
    r.n = 64;
    r.continuous = out.data();
    sys->act(r);
    for (float v : out) {
      CHECK(v >= -2.0f);
      CHECK(v <= 2.0f);
    }
  }
}

TEST_CASE(
    "offpolicy: the copied-out policy acts as its model (and the C exporter's), bit for bit, and "
    "stays the policy of its moment") {
  // SAC's model is its network cut to the mean columns; greedy SAC, TD3 and DDPG act as
  // tanh(y) * scale + bias, what ModelPolicy and the exported header compute.
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini", "ddpg_pendulum.ini"}) {
    CAPTURE(name);
    const Config cfg = load_config_text(
        builtin_config_text(name), name,
        {"arch.total_timesteps=600", "arch.num_evaluation=2", "system.warmup_steps=100"});
    auto sys = make_system(cfg);
    Metrics train, act;
    sys->learn(train, act);
    const std::unique_ptr<Policy> own = sys->policy();
    const PolicyModel pm = own->model();
    CHECK(pm.output == PolicyModel::Output::tanh_scaled);
    CHECK(pm.widths == std::vector<size_t>{3, 64, 64, 1});
    CHECK(pm.hidden == Activation::relu);
    CHECK(pm.action_scale == std::vector<float>{2.0f});
    CHECK(pm.action_offset == std::vector<float>{0.0f});
    ModelPolicy model(pm);
    VecEnv env(cfg.env, 64, 7);
    env.reset();
    std::vector<float> a1(64), a2(64), a3(64), first;
    Pcg64 rng(5);
    size_t sampled_differs = 0;
    for (int step = 0; step < 50; ++step) {
      ActRequest r;
      r.obs = env.obs();
      r.n = 64;
      r.continuous = a1.data();
      own->act(r);
      r.continuous = a2.data();
      model.act(r);
      CHECK(std::memcmp(a1.data(), a2.data(), a1.size() * sizeof(float)) == 0);
      r.continuous = a3.data();
      r.greedy = false;
      r.rng = &rng;
      own->act(r);
      for (size_t i = 0; i < 64; ++i) {
        CHECK(a3[i] >= -2.0f);
        CHECK(a3[i] <= 2.0f);
        sampled_differs += a3[i] != a1[i];
      }
      if (step == 0) first = a1;
      env.step(a1.data());
    }
    // Sampled evaluation: SAC's samples differ from its mode; a deterministic actor's do not.
    CHECK((sampled_differs > 0) == (std::string(name) == "sac_pendulum.ini"));
    // More training changes the learner, not the policy copied out before it.
    sys->learn(train, act);
    VecEnv again(cfg.env, 64, 7);
    again.reset();
    ActRequest r;
    r.obs = again.obs();
    r.n = 64;
    r.continuous = a1.data();
    own->act(r);
    CHECK(a1 == first);
    r.continuous = a2.data();
    sys->policy()->act(r);
    CHECK(a2 != first);
  }
}

TEST_CASE("offpolicy: each network's kernel_init reaches its networks and targets") {
  // Orthogonal starts with zero biases, torch_default draws them: the first hidden layer's
  // biases tell which init each network got (actor 3-64-64-*, critics 4-64-64-1).
  for (const char* name : {"ff_sac", "ff_td3", "ff_ddpg"}) {
    CAPTURE(name);
    for (const char* actor_init : {"orthogonal", "torch_default"}) {
      for (const char* q_init : {"orthogonal", "torch_default"}) {
        const Config cfg =
            load_config_text(builtin_config_text("td3_pendulum.ini"), "c",
                             {std::string("system.system_name=") + name,
                              std::string("network.actor_network.kernel_init=") + actor_init,
                              std::string("network.q_network.kernel_init=") + q_init});
        auto sys = make_system(cfg);
        TensorList ts;
        sys->append_tensors(ts);
        auto biases_drawn = [&](const std::string& tensor, size_t in) {
          const std::vector<float> p = floats_of(ts, tensor);
          size_t nonzero = 0;
          for (size_t o = 0; o < 64; ++o) nonzero += p[in * 64 + o] != 0.0f;
          return nonzero == 64;
        };
        const bool actor_drawn = std::string(actor_init) == "torch_default";
        const bool q_drawn = std::string(q_init) == "torch_default";
        CHECK(biases_drawn("actor/params", 3) == actor_drawn);
        const bool twin = std::string(name) != "ff_ddpg";
        for (const std::string& q :
             twin ? std::vector<std::string>{"q1", "q2"} : std::vector<std::string>{"q"}) {
          CHECK(biases_drawn(q + "/params", 4) == q_drawn);
          CHECK(floats_of(ts, q + "_target/params") == floats_of(ts, q + "/params"));
        }
      }
    }
  }
}

TEST_CASE("offpolicy: a discrete environment is a config error for the continuous learners") {
  for (const char* name : {"ff_sac", "ff_td3", "ff_ddpg"}) {
    CHECK_THROWS_WITH_AS(load_config_text(builtin_config_text("ppo_cartpole.ini"), "c",
                                          {std::string("system.system_name=") + name}),
                         doctest::Contains("needs continuous actions, but CartPole-v1 has "
                                           "discrete actions (discrete actions: ff_ppo, ff_dqn)"),
                         ConfigError);
  }
}

TEST_CASE("offpolicy: restored state that no run can produce is refused") {
  const Config cfg = load_config_text(builtin_config_text("sac_pendulum.ini"), "s",
                                      {"arch.total_timesteps=200", "arch.num_evaluation=1"});
  auto sys = make_system(cfg);
  Metrics train, act;
  sys->learn(train, act);
  TensorList ts;
  sys->append_tensors(ts);
  CHECK_NOTHROW(sys->after_restore());
  float* log_alpha = static_cast<float*>(tensor_named(ts, "log_alpha").data);
  const float saved = *log_alpha;
  *log_alpha = NAN;
  CHECK_THROWS_WITH(sys->after_restore(), doctest::Contains("log_alpha"));
  *log_alpha = saved;
  uint64_t* rng = static_cast<uint64_t*>(tensor_named(ts, "rng/noise").data);
  rng[3] &= ~uint64_t(1);  // an even PCG increment
  CHECK_THROWS_WITH(sys->after_restore(), doctest::Contains("rng/"));
  rng[3] |= 1;
  float* action = static_cast<float*>(tensor_named(ts, "buffer/action").data);
  action[0] = 2.5f;  // outside Pendulum's Box
  CHECK_THROWS_WITH(sys->after_restore(), doctest::Contains("buffer/action"));
}

TEST_CASE("offpolicy: no heap allocation per environment step or gradient step after warm-up") {
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini", "ddpg_pendulum.ini"}) {
    CAPTURE(name);
    const Config cfg = load_config_text(builtin_config_text(name), name,
                                        {"arch.total_timesteps=1000", "arch.num_evaluation=5",
                                         "system.warmup_steps=100", "arch.num_threads=2"});
    auto sys = make_system(cfg);
    Metrics train, act;
    sys->learn(train, act);  // warm-up and the first gradient steps: metrics grow their arrays
    sys->learn(train, act);
    const uint64_t before = edgerl::testing::allocation_count();
    sys->learn(train, act);  // 200 env steps, 200 gradient steps
    CHECK(edgerl::testing::allocation_count() == before);
  }
}

TEST_CASE("offpolicy: ff_sac, ff_td3 and ff_ddpg learn Pendulum beyond a random policy's reach") {
  // A random policy scores about -1200 (-1000 to -1500 over 10 episodes); these short runs
  // (a third to a half of the shipped configs' steps) must reach -600 in their final
  // 10-episode evaluation.
  struct Case {
    const char* config;
    const char* steps;
  };
  for (const Case c : {Case{"sac_pendulum.ini", "3500"}, Case{"td3_pendulum.ini", "6000"},
                       Case{"ddpg_pendulum.ini", "4000"}}) {
    CAPTURE(c.config);
    TempDir t;
    const TrainSummary s = quiet_train(c.config, t.path(),
                                       {std::string("arch.total_timesteps=") + c.steps,
                                        "arch.num_evaluation=1", "arch.absolute_metric=false"});
    CHECK(s.episode_return_mean > -600);
  }
}

TEST_CASE(
    "offpolicy: the same config and seed give the same bytes, with 1 or 2 threads; another seed "
    "does not") {
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini", "ddpg_pendulum.ini"}) {
    CAPTURE(name);
    auto run = [&](const char* seed, int threads = 1) {
      return edgerl::testing::trained_state(
          name,
          {"arch.total_timesteps=400", "arch.num_evaluation=2", std::string("arch.seed=") + seed,
           "arch.num_threads=" + std::to_string(threads)},
          2);
    };
    const auto a = run("3"), b = run("3"), c = run("4"), two = run("3", 2);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a == two);  // the twin critics side by side: the same bytes
  }
}

TEST_CASE("offpolicy: a batch prepared ahead is taken only when it is the step's own") {
  // BatchAhead draws the next step's indices from a copy of the stream for the predicted
  // buffer size and gathers them before the environment step adds its transition; the step
  // may take them only if they are exactly what it would draw and gather itself.
  const ActionBox box(-2.0f, 2.0f);
  auto filled = [](size_t rows) {
    auto buf = std::make_unique<ReplayBuffer>(64, 2, 1);
    for (size_t i = 0; i < rows; ++i) {
      const float o[] = {float(i), -float(i)}, n[] = {float(i) + 0.5f, 0.0f}, a[] = {0.01f * i};
      buf->add(o, n, 0, a, float(i), i % 7 == 0);
    }
    return buf;
  };
  int taken = 0, refused = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    CAPTURE(seed);
    auto buf = filled(40);
    Pcg64 rng(seed);
    BatchAhead<float> ahead(8, 2, 1);
    ahead.prepare(rng, *buf, 41, box);  // one transition will come first
    REQUIRE(ahead.ready());
    const float o[] = {99, 99}, a[] = {0.5f};
    buf->add(o, o, 0, a, 99.0f, true);  // row 40
    Pcg64 expect = rng;
    std::vector<uint32_t> want(8), idx(8);
    buf->sample(expect, want.size(), want.data());
    TransitionBatch<float> own(8, 2, 1), b(8, 2, 1);
    own.gather(*buf, want.data(), box);
    const bool newest_drawn = std::count(want.begin(), want.end(), 40u) > 0;
    const auto before = rng.state();
    if (ahead.take(rng, *buf, idx.data(), b)) {
      ++taken;
      CHECK_FALSE(newest_drawn);
      CHECK(idx == want);
      CHECK(rng.state() == expect.state());
      CHECK(b.obs == own.obs);
      CHECK(b.action == own.action);
      CHECK(b.reward == own.reward);
      CHECK(b.terminated == own.terminated);
      CHECK(b.next_obs == own.next_obs);
    } else {
      ++refused;
      CHECK(newest_drawn);  // the gathered row was stale
      CHECK(rng.state() == before);
    }
    CHECK_FALSE(ahead.take(rng, *buf, idx.data(), b));  // taken or refused, it is gone
  }
  CHECK(taken > 100);
  CHECK(refused > 10);

  // A stream that moved, or a size that did not come true, is refused too.
  auto buf = filled(40);
  TransitionBatch<float> b(8, 2, 1);
  std::vector<uint32_t> idx(8);
  BatchAhead<float> ahead(8, 2, 1);
  Pcg64 rng(3);
  ahead.prepare(rng, *buf, 40, box);
  rng.next_u64();
  CHECK_FALSE(ahead.take(rng, *buf, idx.data(), b));
  Pcg64 rng2(3);
  ahead.prepare(rng2, *buf, 41, box);  // nothing added: still 40
  CHECK_FALSE(ahead.take(rng2, *buf, idx.data(), b));
  ahead.prepare(rng2, *buf, 40, box);
  ahead.clear();  // a restore
  CHECK_FALSE(ahead.take(rng2, *buf, idx.data(), b));
  ahead.prepare(rng2, *buf, 40, box);
  CHECK(ahead.take(rng2, *buf, idx.data(), b));
}

// trained_state of a built-in config for two intervals with `overrides` and arch.num_threads.
static std::vector<std::vector<uint8_t>> state_with_threads(const char* name,
                                                            std::vector<std::string> overrides,
                                                            int threads) {
  overrides.push_back("arch.num_threads=" + std::to_string(threads));
  return edgerl::testing::trained_state(name, overrides, 2);
}

TEST_CASE(
    "offpolicy: 2 threads train to 1 thread's bytes when the batch prepared ahead is often "
    "stale") {
  // A buffer barely larger than the batch (most prepared batches hold a row that the next
  // environment steps overwrite), several environments and steps per update and two gradient
  // steps per update (the second prepared without an environment step in between).
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini"}) {
    CAPTURE(name);
    const std::vector<std::string> o = {"arch.total_timesteps=600", "arch.num_evaluation=2",
                                        "arch.num_envs=2",          "system.rollout_length=3",
                                        "system.epochs=2",          "system.total_buffer_size=150",
                                        "system.warmup_steps=120"};
    CHECK(state_with_threads(name, o, 1) == state_with_threads(name, o, 2));
  }
}

TEST_CASE(
    "offpolicy: 2 threads train to 1 thread's bytes when steps run alone in between "
    "(PairGuard)") {
  // A busy machine sends some of the steps of two threads to the training thread alone, at any
  // step: single ones (with three gradient steps per update, some between two steps of two
  // threads with no environment step in between: the batch prepared ahead by the first is then
  // not the third's) and runs of them, also with the batch prepared ahead often stale. Here a
  // pattern stands in for the busy machine.
  static std::atomic<int> asked[2];
  edgerl::PairGuard::set_pattern_for_tests([](int64_t k) {
    const bool alone = k % 7 == 1 || k % 23 >= 18;
    asked[alone] += 1;
    return alone;
  });
  struct Restore {
    ~Restore() { edgerl::PairGuard::set_pattern_for_tests(nullptr); }
  } restore;
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini"}) {
    CAPTURE(name);
    for (const std::vector<std::string>& o : std::vector<std::vector<std::string>>{
             {"arch.total_timesteps=600", "arch.num_evaluation=2"},
             {"arch.total_timesteps=600", "arch.num_evaluation=2", "arch.num_envs=2",
              "system.rollout_length=3", "system.epochs=3", "system.total_buffer_size=150",
              "system.warmup_steps=120"}}) {
      asked[0] = asked[1] = 0;
      const auto two = state_with_threads(name, o, 2);
      CHECK(asked[0].load() > 100);
      CHECK(asked[1].load() > 100);
      CHECK(state_with_threads(name, o, 1) == two);
    }
  }
}

TEST_CASE("offpolicy: with gradient clipping too, 2 threads train to 1 thread's bytes") {
  // ff_sac and ff_td3 with two threads keep each critic on its own thread for the whole step
  // (sac_step_side_by_side, td3_step_side_by_side), exchanging the gradient norms for the joint
  // clipping; every learning rate and clipping threshold takes part.
  for (const char* name : {"sac_pendulum.ini", "td3_pendulum.ini"}) {
    CAPTURE(name);
    const std::vector<std::string> o = {"arch.total_timesteps=600", "arch.num_evaluation=2",
                                        "system.max_grad_norm=0.05"};
    const auto one = state_with_threads(name, o, 1);
    CHECK(one == state_with_threads(name, o, 2));
    const auto unclipped = edgerl::testing::trained_state(
        name, {"arch.total_timesteps=600", "arch.num_evaluation=2", "arch.num_threads=2"}, 2);
    CHECK(one != unclipped);  // the clipping took effect
  }
}
