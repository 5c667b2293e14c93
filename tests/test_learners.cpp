// Learners: the PPO losses and their gradients, short training runs that must learn, and
// byte-identical results for the same config and seed.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/pool.hpp"
#include "edgerl/config.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/system.hpp"
#include "edgerl/train.hpp"
#include "learners/common.hpp"
#include "learners/rl_math.hpp"
#include "test_util.hpp"

using namespace edgerl;
using edgerl::testing::quiet_train;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

// The CSV without its last column (wall_time).
std::string without_wall_time(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

}  // namespace

TEST_CASE("clipped surrogate: value and gradient match the PPO paper's objective") {
  float g;
  // Inside the clip range both terms agree: loss = -r A, dloss/dlogp = -r A.
  CHECK(clipped_surrogate_loss(1.1f, 2.0f, 0.2f, &g) == doctest::Approx(-2.2f));
  CHECK(g == doctest::Approx(-2.2f));
  // A > 0 and r above 1 + eps: the clipped term is smaller and constant: no gradient.
  CHECK(clipped_surrogate_loss(1.5f, 2.0f, 0.2f, &g) == doctest::Approx(-2.4f));
  CHECK(g == 0.0f);
  // A < 0 and r below 1 - eps: clipped, no gradient.
  CHECK(clipped_surrogate_loss(0.5f, -1.0f, 0.2f, &g) == doctest::Approx(0.8f));
  CHECK(g == 0.0f);
  // A < 0 and r above 1 + eps: the unclipped term is the minimum: gradient flows.
  CHECK(clipped_surrogate_loss(1.5f, -1.0f, 0.2f, &g) == doctest::Approx(1.5f));
  CHECK(g == doctest::Approx(1.5f));
}

TEST_CASE("clipped surrogate gradient equals finite differences in log pi") {
  for (float adv : {-1.7f, 0.4f, 2.5f})
    for (float logr = -0.5f; logr <= 0.5f; logr += 0.0625f) {
      float g;
      clipped_surrogate_loss(std::exp(logr), adv, 0.2f, &g);
      const float h = 1e-3f, d1 = std::exp(logr + h), d0 = std::exp(logr - h);
      float unused;
      const double fd = (clipped_surrogate_loss(d1, adv, 0.2f, &unused) -
                         clipped_surrogate_loss(d0, adv, 0.2f, &unused)) /
                        (2.0 * h);
      // Skip the two kinks, where the one-sided derivatives differ.
      if (std::fabs(std::exp(logr) - 1.2f) < 2e-3f || std::fabs(std::exp(logr) - 0.8f) < 2e-3f)
        continue;
      CAPTURE(adv);
      CAPTURE(logr);
      CHECK(g == doctest::Approx(fd).epsilon(2e-3));
    }
}

TEST_CASE("value loss clips around the old value and passes the right gradient") {
  float g;
  CHECK(value_loss(2.0f, 1.0f, 0.0f, 0.2f, false, &g) == 2.0f);
  CHECK(g == 2.0f);
  // v moved far from v_old towards the return: the clipped error is larger and constant in v.
  CHECK(value_loss(0.0f, 1.0f, 0.0f, 0.2f, true, &g) == doctest::Approx(0.5f * 0.8f * 0.8f));
  CHECK(g == 0.0f);
  // v moved away from the return: the unclipped error dominates.
  CHECK(value_loss(2.0f, 1.0f, 0.0f, 0.2f, true, &g) == 2.0f);
  CHECK(g == 2.0f);
}

TEST_CASE("a discrete-action system on a continuous environment is a config error") {
  // Loading the config says so (so `edgerl config` and a sweep do too), naming the learners
  // that fit; a config built without loading is refused by make_system() the same way.
  const std::string pendulum = builtin_config_text("ppo_pendulum.ini");
  for (const char* name : {"ff_ppo", "ff_dqn"}) {
    const std::string want = std::string("system.system_name = ") + name +
                             " needs discrete actions, but Pendulum-v1 has continuous actions "
                             "(continuous actions: ff_ppo_continuous, ff_sac, ff_td3, ff_ddpg)";
    CHECK_THROWS_WITH_AS(
        load_config_text(pendulum, "p", {std::string("system.system_name=") + name}),
        doctest::Contains(want.c_str()), ConfigError);
  }
  Config cfg = load_config_text(pendulum, "p");
  cfg.system.system_name = "ff_ppo";
  CHECK_THROWS_WITH_AS(make_system(cfg), doctest::Contains("needs discrete actions"), ConfigError);
  CHECK_THROWS_WITH_AS(load_config_text(pendulum, "p", {"env.scenario.name=Pendulum-v0"}),
                       doctest::Contains("env.scenario.name: unknown environment 'Pendulum-v0'"),
                       ConfigError);
}

TEST_CASE("ff_ppo learns CartPole: mean return above 150 after 50k steps") {
  TempDir t;
  const TrainSummary s = quiet_train("ppo_cartpole.ini", std::filesystem::path(t.path()),
                                     {"arch.total_timesteps=51200", "arch.num_evaluation=5"});
  CHECK(s.timesteps == 51200);
  CHECK(s.episode_return_mean > 150);
}

TEST_CASE("ff_ppo learns Acrobot: mean return above -200 after 100k steps") {
  TempDir t;
  const TrainSummary s = quiet_train("ppo_acrobot.ini", std::filesystem::path(t.path()),
                                     {"arch.total_timesteps=102400", "arch.num_evaluation=2"});
  CHECK(s.episode_return_mean > -200);
}

TEST_CASE("ff_ppo_continuous learns Pendulum: mean return above -500 after 150k steps") {
  TempDir t;
  const TrainSummary s = quiet_train("ppo_pendulum.ini", std::filesystem::path(t.path()),
                                     {"arch.total_timesteps=147456", "arch.num_evaluation=2"});
  CHECK(s.episode_return_mean > -500);
}

TEST_CASE("ff_dqn learns CartPole: mean return above 100 after 150k steps") {
  TempDir t;
  const TrainSummary s = quiet_train("dqn_cartpole.ini", std::filesystem::path(t.path()),
                                     {"arch.total_timesteps=150000", "arch.num_evaluation=2"});
  CHECK(s.episode_return_mean > 100);
}

// The view named `name` in a learner's tensor list (a failed check if there is none).
const TensorRef& tensor_named(const TensorList& list, const std::string& name) {
  for (const TensorRef& t : list)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return list.front();
}

TEST_CASE("ff_dqn stores n-step windows: discounted rewards, the observation after the window") {
  // A greedy untrained policy (no gradient steps) is replayed on a fresh copy of the training
  // environment through act(); every step starts one window of up to n = 3 steps that ends
  // early at the episode's end. Windows cut by termination are stored without bootstrap,
  // windows cut by the time limit (9 steps here) are dropped, all others are stored in order.
  const Config cfg =
      load_config_text(builtin_config_text("dqn_cartpole.ini"), "d",
                       {"system.n_step=3", "system.warmup_steps=1000000", "system.epsilon_start=0",
                        "system.training_epsilon=0", "arch.total_timesteps=300",
                        "arch.num_evaluation=1", "env.kwargs.max_episode_steps=9"});
  auto sys = make_system(cfg);
  Metrics train, act;
  sys->learn(train, act);
  REQUIRE(sys->counters().timestep == 300);
  TensorList ts;
  sys->append_tensors(ts);

  VecEnv env(cfg.env, 1, cfg.arch.seed);
  env.reset();
  const size_t od = env.obs_dim(), steps = 300;
  std::vector<float> obs(steps * od), next(steps * od), rew(steps);
  std::vector<int32_t> actions(steps);
  std::vector<uint8_t> term(steps), done(steps);
  for (size_t t = 0; t < steps; ++t) {
    std::copy(env.obs(), env.obs() + od, &obs[t * od]);
    ActRequest r;
    r.obs = env.obs();
    r.n = 1;
    r.discrete = &actions[t];
    sys->act(r);
    env.step(&actions[t]);
    rew[t] = env.rewards()[0];
    term[t] = env.terminated()[0];
    done[t] = env.terminated()[0] || env.truncated()[0];
    std::copy(done[t] ? env.final_obs() : env.obs(), (done[t] ? env.final_obs() : env.obs()) + od,
              &next[t * od]);
  }

  const float* b_obs = static_cast<const float*>(tensor_named(ts, "buffer/obs").data);
  const float* b_next = static_cast<const float*>(tensor_named(ts, "buffer/next_obs").data);
  const int32_t* b_act = static_cast<const int32_t*>(tensor_named(ts, "buffer/action").data);
  const float* b_rew = static_cast<const float*>(tensor_named(ts, "buffer/reward").data);
  const uint8_t* b_term = static_cast<const uint8_t*>(tensor_named(ts, "buffer/terminated").data);
  const uint64_t b_size = *static_cast<const uint64_t*>(tensor_named(ts, "buffer/size").data);
  int64_t* queued = static_cast<int64_t*>(tensor_named(ts, "nstep/count").data);
  size_t stored = 0, short_terminated = 0, dropped = 0;
  for (size_t t = 0; t < steps; ++t) {
    size_t end = t;  // the window's last step
    while (end < t + 2 && end + 1 < steps && !done[end]) ++end;
    if (!done[end] && end < t + 2) break;  // still queued when training stopped
    if (!term[end] && end < t + 2) {       // cut by the time limit
      ++dropped;
      continue;
    }
    CAPTURE(t);
    REQUIRE(stored < b_size);
    double ret = 0, discount = 1;
    for (size_t k = t; k <= end; ++k, discount *= 0.99) ret += discount * rew[k];
    CHECK(std::memcmp(&b_obs[stored * od], &obs[t * od], od * sizeof(float)) == 0);
    CHECK(std::memcmp(&b_next[stored * od], &next[end * od], od * sizeof(float)) == 0);
    CHECK(b_act[stored] == actions[t]);
    CHECK(b_rew[stored] == static_cast<float>(ret));
    CHECK(b_term[stored] == term[end]);
    short_terminated += term[end] && end < t + 2;
    ++stored;
  }
  CHECK(stored == b_size);
  CHECK(short_terminated > 0);
  CHECK(dropped > 0);
  CHECK(stored + dropped + static_cast<size_t>(*queued) == steps);

  // The queue length is tied to the environment's step counter; a mismatch is refused.
  CHECK_NOTHROW(sys->after_restore());
  *queued = (*queued + 1) % 3;
  CHECK_THROWS(sys->after_restore());
}

TEST_CASE("the same config and seed give byte-identical state and logs") {
  for (const char* name : {"ppo_cartpole.ini", "dqn_cartpole.ini", "ppo_pendulum.ini"}) {
    CAPTURE(name);
    TempDir a, b;
    const std::vector<std::string> o = {"arch.total_timesteps=20480", "arch.num_evaluation=2",
                                        "logger.checkpointing.save_args.checkpoint_uid=run"};
    quiet_train(name, std::filesystem::path(a.path()), o);
    quiet_train(name, std::filesystem::path(b.path()), o);
    const Config cfg = load_config_text(builtin_config_text(name), name);
    const std::string rel = "/" + cfg.system.system_name + "/" + cfg.env.scenario_name + "/run/";
    for (const char* csv : {"eval.csv", "train.csv", "absolute.csv"}) {
      CAPTURE(csv);
      const std::string ca = slurp(std::filesystem::path(a.path()).string() + rel + csv);
      REQUIRE(!ca.empty());
      CHECK(without_wall_time(ca) ==
            without_wall_time(slurp(std::filesystem::path(b.path()).string() + rel + csv)));
    }
  }
}

TEST_CASE("ff_ppo: the actor's and the critic's updates side by side give the same bytes") {
  for (const char* name : {"ppo_cartpole.ini", "ppo_pendulum.ini"}) {
    CAPTURE(name);
    const std::vector<std::string> o = {"arch.total_timesteps=16384", "arch.num_evaluation=2"};
    auto with = [&](const char* threads) {
      std::vector<std::string> t = o;
      t.push_back(std::string("arch.num_threads=") + threads);
      return edgerl::testing::trained_state(name, t, 2);
    };
    const auto one = with("1");
    CHECK(one == with("2"));
    CHECK(one == with("0"));  // all cores
    // Some minibatch steps on one thread (PairGuard, as on a busy machine): the same bytes.
    static std::atomic<int> alone{0};
    alone = 0;
    edgerl::PairGuard::set_pattern_for_tests([](int64_t k) {
      const bool a = k % 5 >= 3;
      alone += a;
      return a;
    });
    const auto mixed = with("2");
    edgerl::PairGuard::set_pattern_for_tests(nullptr);
    CHECK(alone.load() > 20);
    CHECK(one == mixed);
  }
}

TEST_CASE("two systems built from one config hold identical state, and training moves it") {
  const Config cfg = load_config_text(builtin_config_text("ppo_cartpole.ini"), "c",
                                      {"arch.total_timesteps=20480", "arch.num_evaluation=2"});
  auto a = make_system(cfg), b = make_system(cfg);
  Metrics m1, m2, m3, m4;
  a->learn(m1, m2);
  b->learn(m3, m4);
  TensorList ta, tb;
  a->append_tensors(ta);
  b->append_tensors(tb);
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    CAPTURE(ta[i].name);
    CHECK(ta[i].size_bytes() == tb[i].size_bytes());
    CHECK(std::memcmp(ta[i].data, tb[i].data, ta[i].size_bytes()) == 0);
  }
  CHECK(a->counters().timestep == 10240);
  CHECK(a->counters().eval_step == 1);
}

TEST_CASE("a policy loaded as a model, or copied through its tensors, acts as the learner's own") {
  const std::pair<const char*, const char*> cases[] = {
      {"ppo_cartpole.ini", "arch.seed=3"},
      {"ppo_pendulum.ini", "system.normalize_observations=true"},
      {"dqn_cartpole.ini", "system.warmup_steps=100"},
      {"sac_pendulum.ini", "arch.total_timesteps=1000"}};
  for (const auto& [name, extra] : cases) {
    CAPTURE(name);
    const Config cfg =
        load_config_text(builtin_config_text(name), name,
                         {"arch.total_timesteps=20480", "arch.num_evaluation=2", extra});
    auto sys = make_system(cfg);
    Metrics m1, m2;
    sys->learn(m1, m2);
    const std::unique_ptr<Policy> own = sys->policy();
    ModelPolicy model(own->model());
    // An untrained policy and its model, given the trained ones' tensors (what BestPolicy does).
    const std::unique_ptr<Policy> copy = make_system(cfg)->policy();
    ModelPolicy model_copy(copy->model());
    copy_policy(*own, *copy);
    copy_policy(model, model_copy);
    VecEnv env(cfg.env, 64, 7);
    env.reset();
    const size_t adim = env.is_discrete() ? 1 : env.action_dim();
    std::vector<int32_t> d1(64), d2(64);
    std::vector<float> c1(64 * adim), c2(64 * adim);
    for (int step = 0; step < 50; ++step) {
      ActRequest r;
      r.obs = env.obs();
      r.n = 64;
      r.discrete = d1.data();
      r.continuous = c1.data();
      own->act(r);
      r.discrete = d2.data();
      r.continuous = c2.data();
      model.act(r);
      CHECK(d1 == d2);
      CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
      for (Policy* p : {static_cast<Policy*>(copy.get()), static_cast<Policy*>(&model_copy)}) {
        p->act(r);
        CHECK(d1 == d2);
        CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
      }
      if (env.is_discrete())
        env.step(d1.data());
      else
        env.step(c1.data());
    }
  }
}
