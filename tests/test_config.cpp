// The config is the user's contract: every key validated, every mistake named with its place.
#include <doctest/doctest.h>

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "edgerl/config.hpp"
#include "test_util.hpp"

using namespace edgerl;
using edgerl::testing::slurp;

// A temporary folder with small config files written into it.
struct ConfigDir : edgerl::testing::TempDir {
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(*this / name) << text;
    return *this / name;
  }
};

namespace {

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    load_config_text(text, "t.ini", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the built-in default is PPO on CartPole-v1 with checkpointing on") {
  const Config c = default_config();
  CHECK(c.system.system_name == "ff_ppo");
  CHECK(c.env.scenario_name == "CartPole-v1");
  CHECK(c.checkpointing.save_model);
}

TEST_CASE("every built-in config round-trips through its INI output") {
  for (const auto& name : builtin_config_names()) {
    CAPTURE(name);
    const Config c = load_config_text(builtin_config_text(name), name);
    const std::string ini = to_ini(c);
    CHECK(to_ini(load_config_text(ini, "resolved.ini")) == ini);
  }
}

TEST_CASE("round trip keeps non-default values exactly") {
  const Config c = load_config_text(
      "", "t.ini",
      {"system.actor_lr=0.000123456789", "arch.seed=18446744073709551615",
       "network.actor_network.layer_sizes=[7, 3]", "logger.base_exp_path=/tmp/a b",
       "system.gamma=0.1", "logger.checkpointing.save_args.checkpoint_uid=run-1.x"});
  const Config d = load_config_text(to_ini(c), "r.ini");
  CHECK(config_value(d, "system.actor_lr") == "0.000123456789");
  CHECK(d.arch.seed == 18446744073709551615ull);
  CHECK(config_value(d, "network.actor_network.layer_sizes") == "7, 3");
  CHECK(d.logger.base_exp_path == "/tmp/a b");
  CHECK(config_value(d, "system.gamma") == "0.1");
  CHECK(d.checkpointing.save_args.checkpoint_uid == "run-1.x");
  CHECK(to_ini(d) == to_ini(c));
}

TEST_CASE("the built-in configs are exactly the files in configs/") {
  std::vector<std::string> files;
  DIR* d = ::opendir("configs");
  REQUIRE(d != nullptr);
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 4 && n.substr(n.size() - 4) == ".ini") files.push_back(n);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  std::vector<std::string> builtin = builtin_config_names();
  std::sort(builtin.begin(), builtin.end());
  CHECK(files == builtin);
  for (const auto& f : files) CHECK(slurp("configs/" + f) == builtin_config_text(f));
}

TEST_CASE("docs/config.md is the generated reference") {
  CHECK(slurp("docs/config.md") == config_reference_markdown());
}

TEST_CASE("an unknown key names file and line and suggests the closest key") {
  const std::string e = error_of("[arch]\nseed = 1\nnum_envz = 3\n");
  CHECK(e == "t.ini:3: unknown key arch.num_envz (did you mean arch.num_envs?)");
}

TEST_CASE("an unknown section is refused even when empty") {
  CHECK(error_of("[arch]\n[systen]\n") ==
        "t.ini:2: unknown section [systen] (did you mean system?)");
}

TEST_CASE("values of the wrong type or out of range name key, value and range") {
  CHECK(error_of("[arch]\nnum_envs = -3\n") ==
        "t.ini:2: arch.num_envs = -3 is out of range (allowed: 1 to 65536)");
  CHECK(error_of("[arch]\nnum_envs = four\n") ==
        "t.ini:2: arch.num_envs = 'four' is invalid (expected an integer; allowed: 1 to 65536)");
  CHECK(error_of("[system]\ngamma = 1.5\n") ==
        "t.ini:2: system.gamma = 1.5 is out of range (allowed: 0 to 1)");
  CHECK(error_of("[arch]\nevaluation_greedy = maybe\n") ==
        "t.ini:2: arch.evaluation_greedy = 'maybe' is invalid (allowed: true or false)");
  CHECK(error_of("[system]\nsystem_name = ff_ppx\n") ==
        "t.ini:2: system.system_name = 'ff_ppx' is invalid (allowed: one of ff_ppo, "
        "ff_ppo_continuous, ff_dqn, ff_sac, ff_td3, ff_ddpg) (did you mean ff_ppo?)");
  CHECK(error_of("[arch]\nseed = -1\n").find("arch.seed = '-1' is invalid") != std::string::npos);
  CHECK(error_of("[arch]\nnum_envs = 2.5\n").find("expected an integer") != std::string::npos);
}

TEST_CASE("integers may be written as Stoix writes them") {
  const Config c = load_config_text("[arch]\ntotal_timesteps = 1e7\nnum_envs = 1_024\n", "t.ini");
  CHECK(c.arch.total_timesteps == 10000000);
  CHECK(c.arch.num_envs == 1024);
}

TEST_CASE("names used as folder names cannot escape their folder") {
  CHECK(error_of("[logger.checkpointing.save_args]\ncheckpoint_uid = ../x\n").find("is invalid") !=
        std::string::npos);
  CHECK(error_of("[logger.checkpointing]\nmodel_name = a/b\n").find("is invalid") !=
        std::string::npos);
  CHECK(error_of("[logger.checkpointing]\nmodel_name = ..\n").find("is invalid") !=
        std::string::npos);
}

TEST_CASE("syntax errors and duplicate keys are refused with their line") {
  CHECK(error_of("[arch]\nseed\n") == "t.ini:2: syntax error (expected [section] or key = value)");
  CHECK(error_of("[arch]\nseed = 1\nseed = 2\n") == "t.ini:3: arch.seed is set twice in this file");
  CHECK(error_of("seed = 1\n").find("outside a section") != std::string::npos);
  CHECK(error_of("[arch]\nseed = 1" + std::string(300, ' ') + "\n")
            .find("t.ini:2: line longer than") != std::string::npos);
}

TEST_CASE("overrides: later values win, malformed or unknown ones are refused") {
  const Config c = load_config_text("[arch]\nnum_envs = 8\n", "t.ini", {"arch.num_envs=16"});
  CHECK(c.arch.num_envs == 16);
  CHECK(error_of("", {"arch.num_envs"}) == "override 'arch.num_envs': expected section.key=value");
  CHECK(error_of("", {"arch.num_envz=3"}) ==
        "override 'arch.num_envz=3': unknown key arch.num_envz (did you mean arch.num_envs?)");
  CHECK(error_of("", {"arch.num_envs=0"}) ==
        "override 'arch.num_envs=0': arch.num_envs = 0 is out of range (allowed: 1 to 65536)");
  CHECK(error_of("", {"=3"}) == "override '=3': expected section.key=value");
  // Whatever an override holds, its error stays one line (found by tests/fuzz/fuzz_config).
  CHECK(error_of("", {"arch.num\nenvs=3"}) ==
        "override 'arch.num\\x0aenvs=3': unknown key "
        "arch.num\\x0aenvs (did you mean arch.num_envs?)");
  CHECK(error_of("", {"arch.num_envs=\n1e30"}).find('\n') == std::string::npos);
}

TEST_CASE("base = composes configs; the including file wins; cycles are errors") {
  ConfigDir t;
  t.write("a.ini", "[arch]\nnum_envs = 8\nseed = 5\n");
  const std::string b = t.write("b.ini", "base = a.ini\n[arch]\nseed = 7\n");
  const Config c = load_config(b);
  CHECK(c.arch.num_envs == 8);
  CHECK(c.arch.seed == 7);
  const Config o = load_config(b, {"arch.seed=9"});
  CHECK(o.arch.seed == 9);

  t.write("x.ini", "base = y.ini\n");
  const std::string y = t.write("y.ini", "base = x.ini\n");
  std::string err;
  try {
    load_config(y);
  } catch (const ConfigError& e) {
    err = e.what();
  }
  CHECK(err.find("forms a cycle") != std::string::npos);

  const std::string s = t.write("self.ini", "base = self.ini\n");
  CHECK_THROWS_AS(load_config(s), ConfigError);
  const std::string m = t.write("m.ini", "base = missing.ini\n");
  CHECK_THROWS_WITH_AS(load_config(m), doctest::Contains("no such file"), ConfigError);
}

TEST_CASE("base = can name a built-in config") {
  ConfigDir t;
  const std::string p = t.write("mine.ini", "base = ppo_cartpole.ini\n[arch]\nseed = 3\n");
  const Config c = load_config(p);
  CHECK(c.arch.seed == 3);
  CHECK(c.system.system_name == "ff_ppo");
  CHECK(config_value(c, "network.actor_network.layer_sizes") ==
        config_value(default_config(), "network.actor_network.layer_sizes"));
}

TEST_CASE("cross-field checks catch impossible batch layouts") {
  CHECK(error_of("[system]\nnum_minibatches = 3\n[arch]\nnum_envs = 4\n").find("must divide") !=
        std::string::npos);
  CHECK(error_of("[arch]\ntotal_timesteps = 10\n").find("less than one update") !=
        std::string::npos);
}

TEST_CASE("a missing config file is one clear error") {
  CHECK_THROWS_WITH_AS(load_config("/nonexistent/x.ini"), "/nonexistent/x.ini: no such config file",
                       ConfigError);
}

TEST_CASE("each learner has its own keys; another learner's keys are refused unless inherited") {
  // DQN on top of the PPO config: PPO's keys in the base are dropped, shared ones kept.
  const Config dqn =
      load_config_text("base = ppo_cartpole.ini\n[system]\nsystem_name = ff_dqn\n", "t.ini");
  CHECK(config_value(dqn, "system.gamma") == config_value(default_config(), "system.gamma"));
  CHECK_THROWS_AS(config_value(dqn, "system.clip_eps"), ConfigError);
  CHECK(to_ini(dqn).find("clip_eps") == std::string::npos);
  // A PPO key next to the choice of DQN, or given on the command line, is a mistake.
  CHECK(error_of("[system]\nsystem_name = ff_dqn\nclip_eps = 0.1\n") ==
        "t.ini:3: system.clip_eps is not a key of ff_dqn (it is a key of ff_ppo, "
        "ff_ppo_continuous)");
  CHECK(error_of("", {"system.system_name=ff_dqn", "system.rollout_length=8"})
            .find("system.rollout_length is not a key of ff_dqn") != std::string::npos);
  CHECK(error_of("", {"network.critic_network.layer_sizes=8", "system.system_name=ff_dqn"})
            .find("not a key of ff_dqn") != std::string::npos);
  // Switching learners on the command line starts from the new learner's defaults.
  const Config switched = load_config_text("[system]\nrollout_length = 64\n", "t.ini",
                                           {"system.system_name=ff_dqn", "system.n_step=3"});
  CHECK(config_value(switched, "system.n_step") == "3");
  // A key no learner has is unknown, with a suggestion across every learner's keys.
  CHECK(error_of("[system]\nn_stpe = 3\n") ==
        "t.ini:2: unknown key system.n_stpe (did you mean system.n_step?)");
}

TEST_CASE("the schema says what each difference changes") {
  const Config a = default_config();
  const Config b = load_config_text(builtin_config_text("ppo_cartpole.ini"), "b.ini",
                                    {"system.actor_lr=0.001", "arch.total_timesteps=1e6",
                                     "arch.num_eval_episodes=8", "logger.base_exp_path=elsewhere"});
  const std::vector<ConfigDifference> d = config_differences(a, b);
  REQUIRE(d.size() == 4);
  CHECK(d[0].name == "system.actor_lr");
  CHECK(d[0].effect == KeyEffect::training);
  CHECK(d[0].other_value == "0.001");
  CHECK(d[1].name == "arch.total_timesteps");
  CHECK(d[1].effect == KeyEffect::length);
  CHECK(d[2].name == "arch.num_eval_episodes");
  CHECK(d[2].effect == KeyEffect::evaluation);
  CHECK(d[3].name == "logger.base_exp_path");
  CHECK(d[3].effect == KeyEffect::none);
  // Another learner is one difference, at system_name.
  const std::vector<ConfigDifference> e =
      config_differences(a, load_config_text(builtin_config_text("dqn_cartpole.ini"), "d.ini"));
  CHECK(e.front().name == "system.system_name");
  for (const auto& x : e) CHECK(x.name.rfind("network.", 0) != 0);
}

TEST_CASE("integers in exponent form, through a double, at the bounds of their ranges") {
  const Config c = load_config_text(
      "", "t.ini", {"arch.total_timesteps=9.2e18", "arch.seed=1.8e19", "arch.num_envs=6.4e1"});
  CHECK(c.arch.total_timesteps == 9200000000000000000);
  CHECK(c.arch.seed == 18000000000000000000ull);
  CHECK(c.arch.num_envs == 64);
  // 2^64 and 2^63 are beyond the seed's and the timesteps' ranges, however they are written.
  CHECK(error_of("", {"arch.seed=1.8446744073709551616e19"}).find("is invalid") !=
        std::string::npos);
  CHECK(error_of("", {"arch.seed=18446744073709551616"}).find("is invalid") != std::string::npos);
  for (const char* big : {"9.223372036854775808e18", "9223372036854775807", "1e300"}) {
    CAPTURE(big);
    CHECK(error_of("", {std::string("arch.total_timesteps=") + big})
              .find("is out of range (allowed: 1 to 9.2e18)") != std::string::npos);
  }
  CHECK(error_of("", {"arch.total_timesteps=1.5e0"}).find("expected an integer") !=
        std::string::npos);
}

TEST_CASE("integers stay exact on every target (long double is a double on 32-bit ARM)") {
  const Config c =
      load_config_text("", "t.ini",
                       {"arch.total_timesteps=9007199254740993",
                        "logger.checkpointing.save_args.min_free_bytes=9199999999999999999"});
  CHECK(c.arch.total_timesteps == 9007199254740993);
  CHECK(c.checkpointing.save_args.min_free_bytes == 9199999999999999999);
  CHECK(error_of("", {"logger.checkpointing.save_args.min_free_bytes=9200000000000000001"})
            .find("is out of range") != std::string::npos);
  CHECK(config_value(c, "arch.total_timesteps") == "9007199254740993");
}

TEST_CASE("config: a resolved config (a checkpoint's) never follows base =") {
  const std::string ini = to_ini(edgerl::default_config());
  CHECK(to_ini(edgerl::load_resolved_config(ini, "stored")) == ini);
  // A crafted checkpoint must not make the reader open files of this machine.
  CHECK_THROWS_WITH_AS(edgerl::load_resolved_config("base = /etc/passwd\n" + ini, "stored"),
                       doctest::Contains("stored:1: base = in a resolved config"),
                       edgerl::ConfigError);
}
