// VecEnv: num_envs environments with same-step auto-reset. Its behaviour is defined by the
// single Env (pinned against Gymnasium in test_envs.cpp): every test here steps independent Envs
// alongside and requires the VecEnv's outputs to equal theirs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/rng.hpp"

using edgerl::Env;
using edgerl::EnvError;
using edgerl::VecEnv;

namespace {

// Actions for step t of environment i: discrete ones uniform over the action space, continuous
// ones uniform over 1.5 times the Box so that clipping happens.
struct ActionSource {
  explicit ActionSource(const edgerl::EnvInfo& info, uint64_t seed) : info(info), rng(seed) {}
  void next(size_t n) {
    discrete.resize(n);
    continuous.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (info.discrete)
        discrete[i] = static_cast<int32_t>(rng.below(static_cast<uint64_t>(info.num_actions)));
      else
        continuous[i] =
            static_cast<float>(rng.uniform(1.5 * info.action_low, 1.5 * info.action_high));
    }
  }
  void step(VecEnv& v) {
    if (info.discrete)
      v.step(discrete.data());
    else
      v.step(continuous.data());
  }
  Env::Step step(Env& e, size_t i) {
    return info.discrete ? e.step(discrete[i]) : e.step(continuous[i]);
  }
  const edgerl::EnvInfo& info;
  edgerl::Pcg64 rng;
  std::vector<int32_t> discrete;
  std::vector<float> continuous;
};

bool rows_equal(const float* a, const float* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

using Policy = double (*)(const float* obs);

struct Ends {
  int terminations = 0, truncations = 0;
};

// Steps a VecEnv and n independent Envs (env i reset with seed + i, later resets continuing its
// stream) with the same actions and checks every output of every step. Actions are random, or
// chosen by `policy` from the single envs' observations (to reach the goal states).

Ends check_against_single_envs(const std::string& name, size_t n, uint64_t seed, int64_t limit,
                               int steps, Policy policy = nullptr) {
  INFO(name);
  VecEnv vec(name, n, seed, limit);
  std::vector<std::unique_ptr<Env>> envs;
  std::vector<double> returns(n, 0.0);
  const size_t od = vec.obs_dim();
  vec.reset();
  for (size_t i = 0; i < n; ++i) {
    envs.push_back(std::make_unique<Env>(name, limit));
    envs[i]->reset(seed + i);
    REQUIRE(rows_equal(vec.obs() + i * od, envs[i]->obs(), od));
  }
  ActionSource actions(vec.info(), 77);
  Ends ends;
  for (int t = 0; t < steps; ++t) {
    actions.next(n);
    if (policy)
      for (size_t i = 0; i < n; ++i) {
        actions.discrete[i] = static_cast<int32_t>(policy(envs[i]->obs()));
        actions.continuous[i] = static_cast<float>(policy(envs[i]->obs()));
      }
    actions.step(vec);
    size_t next_episode = 0;
    for (size_t i = 0; i < n; ++i) {
      INFO("step " << t << ", env " << i);
      const Env::Step s = actions.step(*envs[i], i);
      returns[i] += s.reward;
      CHECK(vec.rewards()[i] == static_cast<float>(s.reward));
      CHECK(vec.terminated()[i] == s.terminated);
      CHECK(vec.truncated()[i] == s.truncated);
      if (s.terminated || s.truncated) {
        ends.terminations += s.terminated;
        ends.truncations += s.truncated;
        CHECK(rows_equal(vec.final_obs() + i * od, envs[i]->obs(), od));
        REQUIRE(next_episode < vec.completed().size());
        const edgerl::EpisodeStats& ep = vec.completed()[next_episode++];
        CHECK(ep.env == i);
        CHECK(ep.ret == returns[i]);
        CHECK(ep.length == envs[i]->elapsed_steps());
        CHECK(ep.terminated == s.terminated);
        returns[i] = 0.0;
        envs[i]->reset();  // same-step auto-reset: obs() is already the new episode's
      }
      CHECK(rows_equal(vec.obs() + i * od, envs[i]->obs(), od));
      CHECK(vec.episode_returns()[i] == returns[i]);
    }
    CHECK(vec.completed().size() == next_episode);
  }
  return ends;
}

std::vector<std::vector<uint8_t>> snapshot(const edgerl::TensorList& views) {
  std::vector<std::vector<uint8_t>> out;
  for (const auto& t : views) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    out.emplace_back(p, p + t.size_bytes());
  }
  return out;
}

void restore(const edgerl::TensorList& views, const std::vector<std::vector<uint8_t>>& saved) {
  REQUIRE(views.size() == saved.size());
  for (size_t i = 0; i < views.size(); ++i) {
    REQUIRE(views[i].size_bytes() == saved[i].size());
    std::memcpy(views[i].data, saved[i].data(), saved[i].size());
  }
}

// Everything a learner reads from `steps` steps: obs, rewards, flags, final obs, episodes.
std::vector<double> record(VecEnv& v, ActionSource& actions, int steps) {
  std::vector<double> out;
  const size_t n = v.num_envs(), od = v.obs_dim();
  for (int t = 0; t < steps; ++t) {
    actions.next(n);
    actions.step(v);
    for (size_t i = 0; i < n; ++i) {
      out.insert(out.end(), v.obs() + i * od, v.obs() + (i + 1) * od);
      out.push_back(v.rewards()[i]);
      out.push_back(v.terminated()[i]);
      out.push_back(v.truncated()[i]);
      if (v.terminated()[i] || v.truncated()[i])
        out.insert(out.end(), v.final_obs() + i * od, v.final_obs() + (i + 1) * od);
    }
    for (const auto& ep : v.completed()) {
      out.push_back(static_cast<double>(ep.env));
      out.push_back(ep.ret);
      out.push_back(static_cast<double>(ep.length));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("VecEnv environment i starts as Gymnasium's reset(seed=seed+i)") {
  VecEnv vec("CartPole-v1", 3, 7);
  vec.reset();
  for (size_t i = 0; i < 3; ++i) {
    Env e("CartPole-v1");
    e.reset(7 + i);
    CHECK(rows_equal(vec.obs() + 4 * i, e.obs(), 4));
    CHECK(std::memcmp(vec.state() + 4 * i, e.state(), 4 * sizeof(double)) == 0);
  }
  VecEnv zero("CartPole-v1", 1, 0);
  zero.reset();
  CHECK(zero.state()[0] == 0.013696168732145436);  // CartPole-v1 reset(seed=0)
}

TEST_CASE("VecEnv reset(seed) re-seeds; reset() continues every stream") {
  VecEnv vec("Pendulum-v1", 2, 5);
  vec.reset();
  const std::vector<double> s0(vec.state(), vec.state() + 4);
  vec.reset();  // continues: different states
  CHECK(std::memcmp(vec.state(), s0.data(), 4 * sizeof(double)) != 0);
  vec.reset(5);  // the same seed again: the first states again
  CHECK(std::memcmp(vec.state(), s0.data(), 4 * sizeof(double)) == 0);
  Env e("Pendulum-v1");
  e.reset(6);
  e.reset();
  vec.reset();
  CHECK(std::memcmp(vec.state() + 2, e.state(), 2 * sizeof(double)) == 0);
}

TEST_CASE("VecEnv matches independent envs, with same-step auto-reset and final observations") {
  // Time limits shorter than Gymnasium's mix truncations with terminations. Random actions end
  // CartPole episodes; Acrobot and the mountain cars need an energy-pumping policy to reach
  // their goals (the policies of tests/envs_reference.py's "pump" scenarios).
  const Ends cart = check_against_single_envs("CartPole-v1", 5, 100, 25, 300);
  CHECK(cart.terminations > 0);
  CHECK(cart.truncations > 0);
  CHECK(check_against_single_envs("Pendulum-v1", 4, 400, 30, 100).truncations == 4 * 3);
  CHECK(check_against_single_envs("Acrobot-v1", 3, 200, 40, 100).truncations == 3 * 2);
  CHECK(check_against_single_envs("MountainCar-v0", 3, 300, 30, 60).truncations == 3 * 2);
  const Ends acro = check_against_single_envs("Acrobot-v1", 3, 0, 200, 500,
                                              [](const float* o) { return o[5] > 0 ? 2.0 : 0.0; });
  CHECK(acro.terminations > 3);
  const Ends car = check_against_single_envs("MountainCar-v0", 3, 0, 150, 600,
                                             [](const float* o) { return o[1] >= 0 ? 2.0 : 0.0; });
  CHECK(car.terminations > 3);
  const Ends cont =
      check_against_single_envs("MountainCarContinuous-v0", 3, 11, 150, 600,
                                [](const float* o) { return o[1] >= 0 ? 1.3 : -0.7; });
  CHECK(cont.terminations > 3);
}

TEST_CASE("VecEnv restored mid-episode from its tensors continues identically") {
  for (const std::string& name : edgerl::env_names()) {
    INFO(name);
    VecEnv a(name, 4, 21, 20);
    ActionSource act_a(a.info(), 5);
    a.reset();
    record(a, act_a, 13);  // mid-episode for every env (limit 20)
    const auto saved = snapshot(a.tensors("env/"));
    const auto saved_actions = act_a.rng.state();
    const std::vector<double> want = record(a, act_a, 90);  // through several auto-resets

    VecEnv b(name, 4, 999, 20);  // different seeds: everything must come from the restore
    b.reset();
    restore(b.tensors("env/"), saved);
    CHECK_NOTHROW(b.check_state());
    ActionSource act_b(b.info(), 0);
    REQUIRE(act_b.rng.set_state(saved_actions));
    const std::vector<double> got = record(b, act_b, 90);
    CHECK(got == want);
  }
}

TEST_CASE("VecEnv lists its state as named flat tensors") {
  VecEnv v("Acrobot-v1", 3, 0);
  const auto t = v.tensors("env/");
  REQUIRE(t.size() == 6);
  CHECK(t[0].name == "env/state");
  CHECK(t[0].dtype == edgerl::DType::f64);
  CHECK(t[0].shape == std::vector<uint64_t>{3, 4});
  CHECK(t[1].name == "env/obs");
  CHECK(t[1].dtype == edgerl::DType::f32);
  CHECK(t[1].shape == std::vector<uint64_t>{3, 6});
  CHECK(t[2].name == "env/elapsed_steps");
  CHECK(t[3].name == "env/episode_return");
  CHECK(t[4].name == "env/rng");
  CHECK(t[4].dtype == edgerl::DType::u64);
  CHECK(t[4].shape == std::vector<uint64_t>{3, 6});
  CHECK(t[5].name == "env/needs_reset");
  CHECK(t[5].dtype == edgerl::DType::u8);
}

TEST_CASE("VecEnv check_state rejects values no run can produce") {
  VecEnv v("CartPole-v1", 2, 0, 50);
  v.reset();
  CHECK_NOTHROW(v.check_state());
  const auto t = v.tensors();
  auto* rng = static_cast<uint64_t*>(t[4].data);
  rng[6 + 3] &= ~1ull;  // env 1: an even PCG increment
  CHECK_THROWS_WITH_AS(v.check_state(), doctest::Contains("environment 1"), EnvError);
  rng[6 + 3] |= 1;
  auto* elapsed = static_cast<int64_t*>(t[2].data);
  elapsed[0] = 50;
  CHECK_THROWS_WITH_AS(v.check_state(), doctest::Contains("step counter 50"), EnvError);
  elapsed[0] = 0;
  static_cast<uint8_t*>(t[5].data)[1] = 7;
  CHECK_THROWS_AS(v.check_state(), EnvError);
}

TEST_CASE("VecEnv refuses bad construction, steps before reset and out-of-range actions") {
  CHECK_THROWS_AS(VecEnv("Nope-v0", 2, 0), EnvError);
  CHECK_THROWS_AS(VecEnv("CartPole-v1", 0, 0), EnvError);
  CHECK_THROWS_AS(VecEnv("CartPole-v1", 2, 0, -5), EnvError);
  VecEnv v("MountainCar-v0", 2, 0);
  const int32_t ok[2] = {0, 2}, bad[2] = {1, 3};
  const float cont[2] = {0.0f, 0.0f};
  CHECK_THROWS_AS(v.step(ok), EnvError);  // before reset
  v.reset();
  const std::vector<double> before(v.state(), v.state() + 4);
  CHECK_THROWS_WITH_AS(v.step(bad), doctest::Contains("action 3 of environment 1"), EnvError);
  CHECK_THROWS_AS(v.step(cont), EnvError);  // continuous actions to a discrete env
  CHECK(std::memcmp(v.state(), before.data(), 4 * sizeof(double)) == 0);  // nothing stepped
  CHECK_NOTHROW(v.step(ok));
  VecEnv p("Pendulum-v1", 2, 0);
  p.reset();
  CHECK_THROWS_AS(p.step(ok), EnvError);
}

TEST_CASE("VecEnv step never allocates and keeps its buffers in place") {
  for (const std::string& name : edgerl::env_names()) {
    INFO(name);
    VecEnv v(name, 16, 3, 7);  // a short limit: many auto-resets
    ActionSource actions(v.info(), 1);
    actions.next(16);
    const float* obs = v.reset();
    const float* final_obs = v.final_obs();
    const uint64_t before = edgerl::testing::allocation_count();
    size_t episodes = 0;
    for (int t = 0; t < 500; ++t) {
      actions.step(v);
      episodes += v.completed().size();
    }
    CHECK(edgerl::testing::allocation_count() == before);
    CHECK(episodes >= 16 * (500 / 7));  // every env ends an episode every 7 steps or sooner
    CHECK(v.obs() == obs);
    CHECK(v.final_obs() == final_obs);
  }
}
