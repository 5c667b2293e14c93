// The environments reproduce Gymnasium step for step. Every pinned value below was printed by
// tests/envs_reference.py: Gymnasium 1.x's update equations written out with NumPy 1.24 scalars
// (float64 states, np.float32 observations, NumPy's `%`, `**`, np.clip and float32 promotion)
// and libm's sin/cos through Python's math module. Each test names the scenario ("== NAME" in
// that script's output) it checks. Observations are compared exactly: %.9g prints a float32
// and %.17g a float64 so that they read back to the same bits.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli_call.hpp"
#include "edgerl/envs.hpp"
#include "envs/env_kind.hpp"

using edgerl::Env;
using edgerl::EnvConfig;
using edgerl::EnvError;

namespace {

// FNV-1a 64 over a trajectory, as Fnv in tests/envs_reference.py: each step's observation as
// float32 bytes, its reward as float64 bytes, then the terminated and truncated flags.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
  }
  void step(const Env& env, const Env::Step& s) {
    add(env.obs(), env.info().obs_dim * sizeof(float));
    add(&s.reward, sizeof s.reward);
    const unsigned char flags[2] = {s.terminated, s.truncated};
    add(flags, 2);
  }
};

struct Trajectory {
  std::vector<std::vector<float>> obs;  // obs[0] after reset, obs[t] after step t
  std::vector<double> rewards;          // rewards[t - 1] of step t
  int steps = 0;
  bool terminated = false;
  bool truncated = false;
  uint64_t hash = 0;
};

// Runs as run() in tests/envs_reference.py: reset(seed), optionally overwrite the state, then
// step with policy(obs, t) until the episode ends or `max_steps` steps have been taken.
Trajectory run(Env& env, const std::function<double(const float*, int)>& policy, uint64_t seed,
               const std::vector<double>& init_state = {}, int max_steps = 0) {
  Trajectory tr;
  Fnv fnv;
  env.reset(seed);
  if (!init_state.empty()) env.set_state(init_state.data());
  const size_t od = env.info().obs_dim;
  tr.obs.emplace_back(env.obs(), env.obs() + od);
  while (true) {
    const double a = policy(env.obs(), tr.steps);
    const Env::Step s =
        env.info().discrete ? env.step(static_cast<int32_t>(a)) : env.step(static_cast<float>(a));
    ++tr.steps;
    fnv.step(env, s);
    tr.obs.emplace_back(env.obs(), env.obs() + od);
    tr.rewards.push_back(s.reward);
    tr.terminated = s.terminated;
    tr.truncated = s.truncated;
    if (s.terminated || s.truncated || tr.steps == max_steps) break;
  }
  tr.hash = fnv.h;
  return tr;
}

Trajectory run(const std::string& name, const std::function<double(const float*, int)>& policy,
               uint64_t seed, const std::vector<double>& init_state = {}, int max_steps = 0) {
  Env env(name);
  return run(env, policy, seed, init_state, max_steps);
}

void check_obs(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t j = 0; j < want.size(); ++j) {
    INFO("obs[" << j << "]");
    CHECK(got[j] == want[j]);
  }
}

}  // namespace

TEST_CASE("env registry lists the five classic-control environments with Gymnasium's facts") {
  CHECK(edgerl::env_names() == std::vector<std::string>{"CartPole-v1", "Acrobot-v1",
                                                        "MountainCar-v0",
                                                        "MountainCarContinuous-v0", "Pendulum-v1"});
  const auto& cp = edgerl::env_info("CartPole-v1");
  CHECK(cp.obs_dim == 4);
  CHECK(cp.state_dim == 4);
  CHECK(cp.discrete);
  CHECK(cp.num_actions == 2);
  CHECK(cp.max_episode_steps == 500);
  const auto& ac = edgerl::env_info("Acrobot-v1");
  CHECK(ac.obs_dim == 6);
  CHECK(ac.num_actions == 3);
  CHECK(ac.max_episode_steps == 500);
  const auto& mc = edgerl::env_info("MountainCar-v0");
  CHECK(mc.obs_dim == 2);
  CHECK(mc.num_actions == 3);
  CHECK(mc.max_episode_steps == 200);
  const auto& mcc = edgerl::env_info("MountainCarContinuous-v0");
  CHECK_FALSE(mcc.discrete);
  CHECK(mcc.action_low == -1.0f);
  CHECK(mcc.action_high == 1.0f);
  CHECK(mcc.max_episode_steps == 999);
  const auto& pe = edgerl::env_info("Pendulum-v1");
  CHECK(pe.obs_dim == 3);
  CHECK(pe.state_dim == 2);
  CHECK(pe.action_low == -2.0f);
  CHECK(pe.action_high == 2.0f);
  CHECK(pe.max_episode_steps == 200);
}

TEST_CASE("env registry rejects an unknown name and lists the valid ones") {
  try {
    edgerl::env_info("Cartpole-v1");
    FAIL("no error");
  } catch (const EnvError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("unknown environment 'Cartpole-v1'") != std::string::npos);
    CHECK(msg.find("did you mean CartPole-v1?") != std::string::npos);
    for (const auto& n : edgerl::env_names()) CHECK(msg.find(n) != std::string::npos);
  }
  CHECK_THROWS_AS(Env("Pong-v5"), EnvError);
  CHECK_THROWS_AS(Env("CartPole-v1", -1), EnvError);
}

TEST_CASE("envs: CartPole-v1 reset(seed=0) draws Gymnasium's initial state") {
  Env env("CartPole-v1");
  env.reset(0);
  CHECK(env.state()[0] == 0.013696168732145436);
  CHECK(env.state()[1] == -0.02302132862361297);
  CHECK(env.state()[2] == -0.045902647606380534);
  CHECK(env.state()[3] == -0.04834723644714709);
  for (int j = 0; j < 4; ++j) CHECK(env.obs()[j] == static_cast<float>(env.state()[j]));
}

TEST_CASE("env resets without a seed continue the seeded stream") {
  // "== CartPole reset k after seed 42": three successive uniform(-0.05, 0.05, size=4) draws.
  const double want[3][4] = {
      {0.027395604855596334, -0.0061121560247947709, 0.035859791991138243, 0.019736802905936393},
      {-0.04058226521123505, 0.047562235163675595, 0.026113970199035302, 0.02860643052769539},
      {-0.037188636732445414, -0.0049614062104432893, -0.012920197576741878, 0.042676498884860178}};
  Env env("CartPole-v1");
  env.reset(42);
  for (int k = 0; k < 3; ++k) {
    if (k > 0) env.reset();
    for (int j = 0; j < 4; ++j) CHECK(env.state()[j] == want[k][j]);
  }
  env.reset(42);  // re-seeding starts the stream again
  CHECK(env.state()[0] == want[0][0]);
}

TEST_CASE("envs: CartPole-v1 pushed right falls over at step 8 as in Gymnasium") {
  const Trajectory tr = run(
      "CartPole-v1", [](const float*, int) { return 1; }, 0);
  check_obs(tr.obs[1], {0.0132357422f, 0.172727749f, -0.0468695909f, -0.35515219f});
  check_obs(tr.obs[2], {0.0166902971f, 0.368483692f, -0.0539726354f, -0.66223824f});
  check_obs(tr.obs[3], {0.0240599699f, 0.564313412f, -0.0672174022f, -0.971415341f});
  CHECK(tr.steps == 8);
  CHECK(tr.terminated);
  CHECK_FALSE(tr.truncated);
  check_obs(tr.obs[8], {0.119711742f, 1.54528797f, -0.228205398f, -2.60521603f});
  CHECK(tr.rewards.back() == 1.0);  // the terminating step is rewarded too
  CHECK(tr.hash == 0x5e6d43babd4d967eull);
}

TEST_CASE("envs: CartPole-v1 balanced by a controller is truncated at step 500") {
  // "== CartPole balance": a = obs[2] + 0.5 obs[3] + 0.05 obs[1] > 0, from reset(seed=3). The
  // policy reads the float32 observations, so 500 steps of identical actions need every
  // observation bit-exact.
  const Trajectory tr = run(
      "CartPole-v1",
      [](const float* o, int) { return o[2] + 0.5 * o[3] + 0.05 * o[1] > 0 ? 1 : 0; }, 3);
  check_obs(tr.obs[0], {-0.0414350815f, -0.0263189487f, 0.0301274471f, 0.00821620319f});
  check_obs(tr.obs[250], {-0.107679062f, -0.0261880402f, -0.00647069979f, 0.00532499794f});
  CHECK(tr.steps == 500);
  CHECK(tr.truncated);
  CHECK_FALSE(tr.terminated);
  check_obs(tr.obs[500], {-0.23415567f, -0.0261410959f, 0.00192180276f, 0.0042894138f});
  CHECK(tr.hash == 0x73ef9f5964adb261ull);
}

TEST_CASE("env time limit comes from EnvConfig.max_episode_steps when set") {
  EnvConfig cfg;
  cfg.scenario_name = "CartPole-v1";
  cfg.max_episode_steps = 3;
  Env env(cfg);
  CHECK(env.max_episode_steps() == 3);
  const Trajectory tr = run(
      env, [](const float*, int t) { return t % 2; }, 0);
  CHECK(tr.steps == 3);
  CHECK(tr.truncated);
  CHECK_FALSE(tr.terminated);
}

TEST_CASE("envs: numpy float32 sin and cos are reproduced where they differ from libm") {
  // "== float32 x=...": arguments where NumPy's float32 SIMD sin/cos is not correctly rounded.
  const uint32_t cases[4][3] = {{0x3da4c740u, 0x3f7f2bfeu, 0x3da499c1u},
                                {0x3d8c3402u, 0x3f7f667du, 0x3d8c17fbu},
                                {0xbdbdd742u, 0x3f7ee6a5u, 0xbdbd91b1u},
                                {0x3dbebea5u, 0x3f7ee3f5u, 0x3dbe7814u}};
  for (const auto& c : cases) {
    float x, want_cos, want_sin;
    std::memcpy(&x, &c[0], 4);
    std::memcpy(&want_cos, &c[1], 4);
    std::memcpy(&want_sin, &c[2], 4);
    INFO("x = " << x);
    CHECK(edgerl::detail::numpy_cos_f32(x) == want_cos);
    CHECK(edgerl::detail::numpy_sin_f32(x) == want_sin);
    CHECK(static_cast<float>(std::cos(static_cast<double>(x))) != want_cos);  // libm differs
  }
  // Larger arguments take the other quadrants: within 2 float32 ULP of libm.
  for (float x = -20.0f; x < 20.0f; x += 0.37f) {
    CHECK(std::fabs(edgerl::detail::numpy_cos_f32(x) - std::cos(static_cast<double>(x))) < 3e-7);
    CHECK(std::fabs(edgerl::detail::numpy_sin_f32(x) - std::sin(static_cast<double>(x))) < 3e-7);
  }
}

TEST_CASE("envs: numpy_square is x*x rounded once, not libm's pow(x, 2)") {
  // NumPy's `x ** 2` calls libm's pow, which glibc rounds the other way for about 1 square in
  // 1000, differently with and without FMA; edgerl takes the correctly rounded square instead,
  // the same on every machine (docs/environments.md).
  static volatile double two = 2.0;
  edgerl::Pcg64 rng(11);
  int pow_differs = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x =
        rng.uniform(-10.0, 10.0) * std::ldexp(1.0, static_cast<int>(rng.below(80)) - 40);
    const double sq = edgerl::detail::numpy_square(x);
    REQUIRE(sq == x * x);
    // Correctly rounded: the exact square is within half an ulp of it.
    const double err = std::fabs(std::fma(x, x, -sq));
    REQUIRE(err <= 0.5 * (std::nextafter(sq, INFINITY) - sq));
    if (std::pow(x, two) != sq) ++pow_differs;
  }
  MESSAGE("glibc pow(x, 2) != x*x for " << pow_differs << " of 100000 squares");
  CHECK(pow_differs < 1000);  // rare: the reference trajectories never meet one
  CHECK(edgerl::detail::numpy_square(0.0) == 0.0);
  CHECK(edgerl::detail::numpy_square(-0.0) == 0.0);
  CHECK(edgerl::detail::numpy_square(0.5) == 0.25);
  CHECK(std::isinf(edgerl::detail::numpy_square(1e200)));
}

TEST_CASE("envs: numpy_floor_mod follows Python's sign convention") {
  const double two_pi = 2 * M_PI;
  CHECK(edgerl::detail::numpy_floor_mod(1.0, two_pi) == 1.0);
  CHECK(edgerl::detail::numpy_floor_mod(-1.0, two_pi) == -1.0 + two_pi);
  CHECK(edgerl::detail::numpy_floor_mod(20.0 + M_PI, two_pi) == std::fmod(20.0 + M_PI, two_pi));
  CHECK(edgerl::detail::numpy_floor_mod(0.0, two_pi) == 0.0);
  CHECK_FALSE(std::signbit(edgerl::detail::numpy_floor_mod(-0.0, two_pi)));
}

TEST_CASE(
    "envs: Acrobot-v1 reset(seed=0) observes its float32 state with NumPy's float32 sin/cos") {
  Env env("Acrobot-v1");
  env.reset(0);
  for (int j = 0; j < 4; ++j) CHECK(static_cast<float>(env.state()[j]) == env.state()[j]);
  check_obs(
      std::vector<float>(env.obs(), env.obs() + 6),
      {0.999624848f, 0.0273889117f, 0.998940229f, -0.0460263938f, -0.0918052942f, -0.0966944695f});
}

TEST_CASE("envs: Acrobot-v1 follows Gymnasium's RK4 step for step") {
  // "== Acrobot cycle": actions 0,1,2,2,1,0,0 repeated, from reset(seed=0), 60 steps.
  const int cycle[7] = {0, 1, 2, 2, 1, 0, 0};
  const Trajectory tr = run(
      "Acrobot-v1", [&](const float*, int t) { return cycle[t % 7]; }, 0, {}, 60);
  check_obs(tr.obs[1], {0.999824524f, 0.0187324528f, 0.995746017f, -0.0921402201f, 0.00529763987f,
                        -0.358525395f});
  check_obs(tr.obs[2], {0.999883175f, 0.0152854836f, 0.988744736f, -0.149612159f, -0.0407040529f,
                        -0.211417213f});
  check_obs(tr.obs[30],
            {0.996428311f, 0.084442921f, 0.995540202f, -0.0943383351f, 0.496723443f, -1.10082507f});
  check_obs(tr.obs[60], {0.999667645f, -0.0257803574f, 0.997848034f, 0.0655691549f, -0.30767116f,
                         0.854916573f});
  CHECK(tr.rewards[0] == -1.0);
  CHECK(tr.hash == 0x3c7acf7016a1b988ull);
}

TEST_CASE("envs: Acrobot-v1 swung up by an energy pump terminates at step 122 with reward 0") {
  // "== Acrobot pump": torque along dtheta2 (a = 2 if obs[5] > 0 else 0), reset(seed=0).
  const Trajectory tr = run(
      "Acrobot-v1", [](const float* o, int) { return o[5] > 0 ? 2 : 0; }, 0);
  CHECK(tr.steps == 122);
  CHECK(tr.terminated);
  CHECK_FALSE(tr.truncated);
  check_obs(tr.obs[122],
            {-0.511531711f, -0.859264374f, -0.26768294f, -0.963507056f, 0.314697266f, 16.9058132f});
  CHECK(tr.rewards[120] == -1.0);
  CHECK(tr.rewards[121] == 0.0);
  CHECK(tr.hash == 0x67cf806e30a6b427ull);
}

TEST_CASE("envs: Acrobot-v1 is truncated at step 500") {
  // "== Acrobot truncated": torque along dtheta1 never lifts the tip high enough, reset(seed=5).
  const Trajectory tr = run(
      "Acrobot-v1", [](const float* o, int) { return o[4] > 0 ? 2 : 0; }, 5);
  CHECK(tr.steps == 500);
  CHECK(tr.truncated);
  CHECK_FALSE(tr.terminated);
  check_obs(tr.obs[500],
            {0.935548902f, 0.353197157f, -0.0638502464f, 0.997959495f, 0.651537478f, 0.752670228f});
  CHECK(tr.hash == 0x8fbbf09a9a6ceeacull);
}

TEST_CASE("envs: Acrobot-v1 started high terminates on the first step") {
  // "== Acrobot high start": state [3.0, 0.1, 0, 0] (float64), action 1.
  const Trajectory tr =
      run("Acrobot-v1", [](const float*, int) { return 1; }, 0, {3.0, 0.1, 0.0, 0.0});
  check_obs(tr.obs[0], {-0.989992499f, 0.141120002f, 0.995004177f, 0.099833414f, 0.0f, 0.0f});
  check_obs(tr.obs[1],
            {-0.986988544f, 0.160790563f, 0.992246389f, 0.12428616f, -0.2036805f, 0.253113776f});
  CHECK(tr.steps == 1);
  CHECK(tr.terminated);
  CHECK(tr.rewards[0] == 0.0);
}

TEST_CASE("envs: Acrobot-v1 does not hang on absurd angles set from outside") {
  Env env("Acrobot-v1");
  env.reset(0);
  const double huge[4] = {1e300, -1e17, 0.0, 0.0};
  env.set_state(huge);
  env.step(1);
  CHECK(std::fabs(env.state()[0]) <= M_PI);
  CHECK(std::fabs(env.state()[1]) <= M_PI);
  const double inf[4] = {INFINITY, 0.0, 0.0, 0.0};
  env.reset();
  env.set_state(inf);
  env.step(1);
  CHECK(std::isnan(env.state()[0]));
}

TEST_CASE("envs: MountainCar-v0 left alone is truncated at step 200") {
  // "== MountainCar idle": action 1 (no push) from reset(seed=0).
  const Trajectory tr = run(
      "MountainCar-v0", [](const float*, int) { return 1; }, 0);
  check_obs(tr.obs[0], {-0.472607672f, 0.0f});
  check_obs(tr.obs[1], {-0.472988605f, -0.000380943558f});
  check_obs(tr.obs[2], {-0.473747671f, -0.000759063114f});
  check_obs(tr.obs[100], {-0.56159687f, -0.00308594177f});
  CHECK(tr.steps == 200);
  CHECK(tr.truncated);
  CHECK_FALSE(tr.terminated);
  check_obs(tr.obs[200], {-0.520281136f, 0.0044147321f});
  CHECK(tr.rewards[199] == -1.0);
  CHECK(tr.hash == 0x23f747aa2456dcf3ull);
}

TEST_CASE("envs: MountainCar-v0 pushed along its velocity reaches the goal at step 122") {
  // "== MountainCar pump": a = 2 if obs[1] >= 0 else 0, reset(seed=0).
  const Trajectory tr = run(
      "MountainCar-v0", [](const float* o, int) { return o[1] >= 0 ? 2 : 0; }, 0);
  check_obs(tr.obs[1], {-0.471988618f, 0.00061905646f});
  CHECK(tr.steps == 122);
  CHECK(tr.terminated);
  check_obs(tr.obs[122], {0.509897172f, 0.0435363129f});
  CHECK(tr.rewards[121] == -1.0);
  CHECK(tr.hash == 0x75e617ad2f9b671eull);
}

TEST_CASE("envs: MountainCar-v0 stops at the left wall") {
  // "== MountainCar wall": state [-1.19, -0.05], action 0 twice.
  const Trajectory tr = run(
      "MountainCar-v0", [](const float*, int) { return 0; }, 0, {-1.19, -0.05}, 2);
  check_obs(tr.obs[0], {-1.19000006f, -0.0500000007f});
  check_obs(tr.obs[1], {-1.20000005f, 0.0f});
  check_obs(tr.obs[2], {-1.19875813f, 0.00124189607f});
  CHECK(tr.hash == 0xde6a3470707ed39bull);
}

TEST_CASE("envs: MountainCarContinuous-v0 reaches the goal with reward 100 minus the action cost") {
  // "== MountainCarContinuous pump": a = 1.0 if obs[1] >= 0 else -1.0, reset(seed=0).
  Env env("MountainCarContinuous-v0");
  const Trajectory tr = run(
      env, [](const float* o, int) { return o[1] >= 0 ? 1.0 : -1.0; }, 0);
  check_obs(tr.obs[1], {-0.471488595f, 0.00111905648f});
  check_obs(tr.obs[2], {-0.469258785f, 0.00222982001f});
  CHECK(tr.rewards[0] == -0.10000000000000001);
  CHECK(tr.steps == 106);
  CHECK(tr.terminated);
  check_obs(tr.obs[106], {0.502086759f, 0.0640476868f});
  CHECK(tr.rewards[105] == 99.900000000000006);
  CHECK(tr.hash == 0x0198f1a2de9e84c4ull);
  // After a step the state is stored as float32.
  CHECK(static_cast<float>(env.state()[0]) == env.state()[0]);
  CHECK(static_cast<float>(env.state()[1]) == env.state()[1]);
}

TEST_CASE("envs: MountainCarContinuous-v0 clips the force but charges the unclipped action") {
  // "== MountainCarContinuous odd actions": 2.0, -3.0, 0.5, 0.3 from reset(seed=1).
  const double actions[4] = {2.0, -3.0, 0.5, 0.3};
  const Trajectory tr = run(
      "MountainCarContinuous-v0", [&](const float*, int t) { return actions[t]; }, 1, {}, 4);
  check_obs(tr.obs[0], {-0.497635663f, 0.0f});
  check_obs(tr.obs[1], {-0.496330202f, 0.00130547362f});
  check_obs(tr.obs[2], {-0.496729016f, -0.000398812641f});
  check_obs(tr.obs[4], {-0.496181697f, 0.000397456926f});
  CHECK(tr.rewards[0] == -0.40000000000000002);
  CHECK(tr.rewards[1] == -0.90000000000000002);
  CHECK(tr.rewards[2] == -0.025000000000000001);
  CHECK(tr.rewards[3] == -0.0090000007152557515);  // 0.3 as float32, squared in float64
  CHECK(tr.hash == 0x3d9631f73b560362ull);
}

TEST_CASE("envs: Pendulum-v1 follows Gymnasium's semi-implicit Euler until the 200-step limit") {
  // "== Pendulum cycle": torques 2, -2, 0.7, 3.5 (clipped to 2), -0.25 repeated, reset(seed=0).
  const double torques[5] = {2.0, -2.0, 0.7, 3.5, -0.25};
  Env env("Pendulum-v1");
  const Trajectory tr = run(
      env, [&](const float*, int t) { return torques[t % 5]; }, 0);
  check_obs(tr.obs[0], {0.652016282f, 0.758204997f, -0.460426569f});
  check_obs(tr.obs[1], {0.636405528f, 0.771354675f, 0.408227175f});
  check_obs(tr.obs[2], {0.609549463f, 0.792748034f, 0.68674314f});
  check_obs(tr.obs[3], {0.553180218f, 0.833061576f, 1.38630414f});
  check_obs(tr.obs[100], {0.580062091f, 0.814572275f, 4.96166611f});
  CHECK(tr.rewards[0] == -0.76575530927393465);
  CHECK(tr.rewards[1] == -0.79676783118650474);
  CHECK(tr.rewards[2] == -0.88543335301436621);
  CHECK(tr.rewards[99] == -2.5329562968576433);
  CHECK(tr.steps == 200);
  CHECK(tr.truncated);
  CHECK_FALSE(tr.terminated);
  check_obs(tr.obs[200], {-0.150225624f, -0.988651752f, 6.70624828f});
  CHECK(tr.rewards[199] == -9.7170881789701973);
  CHECK(tr.hash == 0xc61e2e7b5644664bull);
}

TEST_CASE("envs: Pendulum-v1 normalises angles with a floor modulo when it spins") {
  // "== Pendulum spinning" (state [20, 8], torque 2) and "== Pendulum spinning back" (state
  // [-15, -8], torque -2): the angle is never wrapped, only normalised inside the cost.
  const Trajectory up = run(
      "Pendulum-v1", [](const float*, int) { return 2.0; }, 0, {20.0, 8.0}, 3);
  check_obs(up.obs[0], {0.408082068f, 0.912945271f, 8.0f});
  check_obs(up.obs[3], {-0.703028977f, 0.711161196f, 8.0f});
  CHECK(up.rewards[0] == -7.7275215776665345);
  CHECK(up.rewards[1] == -8.8078768404355241);
  CHECK(up.rewards[2] == -10.20823210320451);
  CHECK(up.hash == 0x6ca486e2573b827dull);
  const Trajectory down = run(
      "Pendulum-v1", [](const float*, int) { return -2.0; }, 0, {-15.0, -8.0}, 3);
  check_obs(down.obs[0], {-0.759687901f, -0.650287867f, -8.0f});
  check_obs(down.obs[2], {-0.995767593f, 0.091906853f, -8.0f});
  CHECK(down.rewards[0] == -12.326551986654552);
  CHECK(down.rewards[2] == -15.703791318592103);
  CHECK(down.hash == 0x84a5536ba58cf24eull);
}

TEST_CASE("envs: Pendulum-v1 reset(seed=0) draws Gymnasium's initial state") {
  Env env("Pendulum-v1");
  env.reset(0);
  CHECK(env.state()[0] == 0.8605556614246863);
  CHECK(env.state()[1] == -0.4604265724722594);
}

TEST_CASE("Env refuses steps out of order and actions outside the action space") {
  Env cart("CartPole-v1");
  CHECK_THROWS_AS(cart.step(0), EnvError);  // before reset
  cart.reset(0);
  CHECK_THROWS_AS(cart.step(2), EnvError);
  CHECK_THROWS_AS(cart.step(-1), EnvError);
  CHECK_THROWS_AS(cart.step(0.5f), EnvError);  // continuous action to a discrete env
  const double before = cart.state()[0];
  CHECK(cart.state()[0] == before);  // the refused steps changed nothing
  CHECK(cart.elapsed_steps() == 0);
  while (!cart.step(1).terminated) {
  }
  CHECK_THROWS_AS(cart.step(1), EnvError);  // the episode has ended
  cart.reset();
  CHECK_NOTHROW(cart.step(1));

  Env pend("Pendulum-v1");
  pend.reset(0);
  CHECK_THROWS_AS(pend.step(1), EnvError);
  CHECK_THROWS_AS(pend.step(NAN), EnvError);
  CHECK_NOTHROW(pend.step(100.0f));  // clipped, as Gymnasium does
}

TEST_CASE("Env state restored through its tensors continues identically, across resets") {
  Env a("Acrobot-v1", 30);
  a.reset(9);
  for (int t = 0; t < 17; ++t) a.step(t % 3);
  // Save: copy every tensor's bytes.
  std::vector<std::vector<uint8_t>> saved;
  for (const auto& t : a.tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    saved.emplace_back(p, p + t.size_bytes());
  }
  // The original continues through two resets (30-step limit).
  std::vector<float> want;
  for (int t = 0; t < 70; ++t) {
    const Env::Step s = a.step(t % 3);
    want.insert(want.end(), a.obs(), a.obs() + 6);
    if (s.terminated || s.truncated) {
      a.reset();
      want.insert(want.end(), a.obs(), a.obs() + 6);
    }
  }
  // A fresh env, seeded differently, restored from the copies, does the same.
  Env b("Acrobot-v1", 30);
  b.reset(1234);
  const auto views = b.tensors();
  REQUIRE(views.size() == saved.size());
  for (size_t i = 0; i < views.size(); ++i) {
    REQUIRE(views[i].size_bytes() == saved[i].size());
    std::memcpy(views[i].data, saved[i].data(), saved[i].size());
  }
  std::vector<float> got;
  for (int t = 0; t < 70; ++t) {
    const Env::Step s = b.step(t % 3);
    got.insert(got.end(), b.obs(), b.obs() + 6);
    if (s.terminated || s.truncated) {
      b.reset();
      got.insert(got.end(), b.obs(), b.obs() + 6);
    }
  }
  CHECK(got == want);
  CHECK(got.size() > 70 * 6);  // the 70 steps did pass through resets
}

// --- edgerl rollout, called directly (src/main.cpp dispatches `edgerl rollout` to it) ---

namespace {

using Captured = edgerl::testing::CliCall;

// Runs `edgerl rollout` (cli::run) with stdout and stderr captured.
Captured rollout(const edgerl::cli::Args& args) {
  return edgerl::testing::call_cli("rollout", args);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  while (start < s.size()) {
    const size_t nl = s.find('\n', start);
    v.push_back(s.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return v;
}

void check_one_error_line(const Captured& c, const std::string& fragment) {
  CHECK(c.status == 2);
  CHECK(c.out.empty());
  const auto l = lines(c.err);
  REQUIRE(l.size() == 1);
  CHECK(l[0].rfind("edgerl rollout: ", 0) == 0);
  INFO("stderr: " << c.err);
  CHECK(l[0].find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("envs: edgerl rollout prints reset and step rows with full precision") {
  const Captured c = rollout({"--env", "CartPole-v1", "--actions", "1,1,1"});
  CHECK(c.status == 0);
  CHECK(c.err.empty());
  const auto l = lines(c.out);
  REQUIRE(l.size() == 5);
  CHECK(l[0] == "t,obs_0,obs_1,obs_2,obs_3,action,reward,terminated,truncated");
  CHECK(l[1] == "0,0.0136961685,-0.0230213292,-0.0459026471,-0.0483472347,,,,");
  CHECK(l[2] == "1,0.0132357422,0.172727749,-0.0468695909,-0.35515219,1,1,0,0");
  CHECK(l[4] == "3,0.0240599699,0.564313412,-0.0672174022,-0.971415341,1,1,0,0");
}

TEST_CASE("envs: edgerl rollout resets after an episode ends and continues the stream") {
  // CartPole pushed right from seed 0 ends at step 8 ("== CartPole right"); step 9 starts the
  // second episode from the stream's next draw.
  const Captured c = rollout({"--env=CartPole-v1", "--seed=0", "--actions", "1,1,1,1,1,1,1,1,0"});
  REQUIRE(c.status == 0);
  const auto l = lines(c.out);
  REQUIRE(l.size() == 12);  // header, reset, 8 steps, reset, 1 step
  CHECK(l[9] == "8,0.119711742,1.54528797,-0.228205398,-2.60521603,1,1,1,0");
  Env env("CartPole-v1");
  env.reset(0);
  env.reset();
  char want[256];
  std::snprintf(want, sizeof want, "8,%.9g,%.9g,%.9g,%.9g,,,,", env.obs()[0], env.obs()[1],
                env.obs()[2], env.obs()[3]);
  CHECK(l[10] == want);
  CHECK(l[11].rfind("9,", 0) == 0);
}

TEST_CASE("envs: edgerl rollout overwrites the state after every reset and takes numeric actions") {
  // "== Pendulum spinning": state [20, 8], torque 2, with a 2-step limit so the second episode
  // starts from the same state again.
  const Captured c = rollout({"--env", "Pendulum-v1", "--init-state", "20,8", "--max-episode-steps",
                              "2", "--actions", "2,2,2"});
  REQUIRE(c.status == 0);
  const auto l = lines(c.out);
  REQUIRE(l.size() == 6);  // header, reset, 2 steps, reset, 1 step
  CHECK(l[0] == "t,obs_0,obs_1,obs_2,action,reward,terminated,truncated");
  CHECK(l[1] == "0,0.408082068,0.912945271,8,,,,");
  CHECK(l[2] == "1,0.0203508437,0.999792874,8,2,-7.7275215776665345,0,0");
  CHECK(l[3].find(",2,-8.8078768404355241,0,1") != std::string::npos);
  CHECK(l[4] == "2,0.408082068,0.912945271,8,,,,");
  CHECK(l[5] == "3,0.0203508437,0.999792874,8,2,-7.7275215776665345,0,0");
}

TEST_CASE("envs: edgerl rollout errors are one line and exit status 2") {
  check_one_error_line(rollout({"--env", "Pong-v5", "--actions", "1"}), "valid names: CartPole-v1");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--actions", "1,2"}),
                       "action 2 is 2, outside CartPole-v1's actions 0..1");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--actions", "1,x"}), "action 2 'x'");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--actions", "1,,0"}), "empty item");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--init-state", "1,2,3", "--actions", "1"}),
                       "--init-state has 3 values; CartPole-v1 needs 4 (x,x_dot,theta,theta_dot)");
  check_one_error_line(rollout({"--env", "Pendulum-v1", "--actions", "nan"}),
                       "not a finite number");
  check_one_error_line(rollout({"--env", "Pendulum-v1", "--actions", "1e300"}), "float32");
  check_one_error_line(rollout({"--env", "CartPole-v1"}), "--actions");
  check_one_error_line(rollout({"--actions", "1"}), "--env NAME is required");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--seed", "-1", "--actions", "1"}),
                       "--seed '-1'");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--actions", "1", "--frob"}),
                       "unknown option '--frob'");
  check_one_error_line(rollout({"--env", "CartPole-v1", "--actions"}), "--actions needs a value");
}

TEST_CASE("envs: edgerl rollout --help prints its usage") {
  const Captured c = rollout({"--help"});
  CHECK(c.status == 0);
  CHECK(c.out.rfind("usage: edgerl rollout", 0) == 0);
}
