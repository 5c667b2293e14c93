// config: the typed run configuration, loaded from INI files (inih) with `section.key=value`
// overrides, strictly validated, and written back as INI.
//
// Sections mirror Stoix's Hydra tree (system, arch, env, network, logger, logger.checkpointing)
// so a Stoix user finds each key where they expect it. Each module declares the struct of its
// own sections (EnvConfig in envs.hpp, LoggerConfig in logger.hpp, CheckpointConfig in
// checkpoint.hpp); Config puts them together. The [system] and [network.*] sections belong to
// the chosen learner: each learner's file declares their struct, rows and checks
// (src/learners/), and Config carries the chosen learner's values in `system.params`. The
// schema (every key, its type, default, range, whether it changes what training computes, and
// one line of documentation) is read by the loader, the validator, the INI writer,
// `edgerl config --doc` and the resume check alike.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "edgerl/checkpoint.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/error.hpp"
#include "edgerl/logger.hpp"

namespace edgerl {

// The chosen learner's own values (its [system] keys and [network.*] sections) in the struct
// its file declares, e.g. PpoConfig in src/learners/ff_ppo.cpp. Copies are deep.
class LearnerParams {
 public:
  LearnerParams() = default;
  template <class T>
  static LearnerParams of(T value) {
    LearnerParams p;
    p.box_ = std::make_unique<Box<T>>(std::move(value));
    return p;
  }
  LearnerParams(const LearnerParams& o) : box_(o.box_ ? o.box_->clone() : nullptr) {}
  LearnerParams& operator=(const LearnerParams& o) {
    box_ = o.box_ ? o.box_->clone() : nullptr;
    return *this;
  }
  LearnerParams(LearnerParams&&) = default;
  LearnerParams& operator=(LearnerParams&&) = default;

  // The values as the learner's struct; throws std::logic_error for another type.
  template <class T>
  const T& as() const {
    if (!box_ || box_->type() != typeid(T))
      throw std::logic_error("LearnerParams holds another learner's config");
    return static_cast<const Box<T>*>(box_.get())->value;
  }
  void* data() { return box_ ? box_->get() : nullptr; }
  const void* data() const { return box_ ? box_->get() : nullptr; }

 private:
  struct BoxBase {
    virtual ~BoxBase() = default;
    virtual std::unique_ptr<BoxBase> clone() const = 0;
    virtual void* get() = 0;
    virtual const std::type_info& type() const = 0;
  };
  template <class T>
  struct Box final : BoxBase {
    explicit Box(T v) : value(std::move(v)) {}
    std::unique_ptr<BoxBase> clone() const override { return std::make_unique<Box<T>>(value); }
    void* get() override { return &value; }
    const std::type_info& type() const override { return typeid(T); }
    T value;
  };
  std::unique_ptr<BoxBase> box_;
};

struct SystemConfig {
  std::string system_name = "ff_ppo";  // a registered learner (edgerl config --doc lists them)
  LearnerParams params;                // that learner's [system] and [network.*] values
};

struct ArchConfig {
  uint64_t seed = 42;
  int64_t num_envs = 4;
  int64_t total_timesteps = 500000;
  int64_t num_updates = 0;  // 0 = derived from total_timesteps
  int64_t num_evaluation = 20;
  int64_t num_eval_episodes = 32;
  bool evaluation_greedy = true;
  bool absolute_metric = true;
  // Threads of one run: 0 = the cores it may use, at most what its learner can use (2 for
  // PPO, SAC and TD3; 1 for DQN and DDPG). Never changes a result (docs/config.md).
  int64_t num_threads = 0;
};

struct Config {
  Config();  // the schema's defaults: ff_ppo with its default values

  SystemConfig system;
  ArchConfig arch;
  EnvConfig env;
  LoggerConfig logger;
  CheckpointConfig checkpointing;  // [logger.checkpointing]

  // Where this config came from (for messages); not part of the config itself.
  std::string origin = "<built-in ppo_cartpole.ini>";
};

// Any user-facing config problem: what() is the one line printed before exit status 2.
struct ConfigError : Error {
  using Error::Error;
};

// The default config (configs/ppo_cartpole.ini, compiled into the binary).
Config default_config();
// The config a command line names: `ref` is empty (the default config), "builtin:NAME" (a
// built-in config) or a file's path; then the overrides, resolved as one layer over it.
Config load_config_from(const std::string& ref, const std::vector<std::string>& overrides);

// Loads an INI file (following `base = other.ini` chains, paths relative to the including
// file), then applies `section.key=value` overrides in order. Throws ConfigError.
//
// A learner's keys set where another learner was chosen are refused, except when they were
// inherited from a `base =` file below the one that chose the learner (then they are dropped):
// `base = ppo_cartpole.ini` with `system_name = ff_dqn` gives DQN's defaults, while
// `system.clip_eps` next to `system_name = ff_dqn` is an error.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Same, from INI text (name is used in messages; `base` paths are relative to base_dir).
Config load_config_text(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides = {},
                        const std::string& base_dir = ".");
// A resolved config as to_ini() writes it (the one stored in a checkpoint): every key in the
// text itself, so a `base =` line is refused rather than followed.
Config load_resolved_config(const std::string& text, const std::string& name);
// The built-in config with this file name (e.g. "ppo_pendulum.ini"), or "" if none.
std::string builtin_config_text(const std::string& name);
std::vector<std::string> builtin_config_names();

// Applies one `section.key=value` override to a loaded config (system.system_name resets the
// learner's values to that learner's defaults). Throws ConfigError.
void apply_override(Config& cfg, const std::string& override_text);

// The resolved config as INI text: every key, in schema order. Loading it gives `cfg` back.
std::string to_ini(const Config& cfg);

// One key's value as to_ini writes it, by its full name ("system.actor_lr"). Throws
// ConfigError for a key this config does not have.
std::string config_value(const Config& cfg, const std::string& name);

// What a key changes, as the schema records it.
enum class KeyEffect {
  training,    // what training computes: a different value is a different run
  length,      // how long training runs (total_timesteps, num_updates, num_evaluation)
  evaluation,  // what evaluation measures and logs, not the learner's state
  none,        // where and how results are written (logging, checkpoint rotation, paths),
               // and how fast (arch.num_threads)
};

// A key whose value differs between two configs.
struct ConfigDifference {
  std::string name;  // "system.actor_lr"
  std::string value, other_value;
  KeyEffect effect;
};
// The keys whose values differ, in schema order (a different learner is one difference, at
// system.system_name).
std::vector<ConfigDifference> config_differences(const Config& a, const Config& b);

// Whether `name` ("network.actor_network.layer_sizes") is a key of the config or of some
// learner, and whether its value is a list (whose commas belong to the value).
bool is_config_key(const std::string& name);
bool is_list_key(const std::string& name);

// Markdown reference of every section and key (docs/config.md is generated from it).
std::string config_reference_markdown();

// Cross-field checks that single-key ranges cannot express (e.g. minibatch divisibility),
// including the chosen learner's own. Throws ConfigError.
void validate(const Config& cfg);

// The model name used for checkpoints: checkpointing.model_name or system.system_name.
std::string model_name(const Config& cfg);

}  // namespace edgerl
