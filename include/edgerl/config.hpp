// config: the typed run configuration, loaded from INI files (inih) with `section.key=value`
// overrides, strictly validated, and written back as INI.
//
// Sections mirror Stoix's Hydra tree (system, arch, env, network, logger, logger.checkpointing)
// so a Stoix user finds each key where they expect it. The schema (every key, its type,
// default, allowed range and one line of documentation) lives in one table in config.cpp; the
// loader, the validator, the INI writer and `edgerl config --doc` all read that table.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/error.hpp"

namespace edgerl {

struct SystemConfig {
  std::string system_name = "ff_ppo";  // ff_ppo | ff_ppo_continuous | ff_dqn
  // Optimisation (shared).
  double actor_lr = 2.5e-4;
  double critic_lr = 2.5e-4;
  double q_lr = 2.5e-4;
  double adam_eps = 1e-5;
  double max_grad_norm = 0.5;  // 0 disables global gradient-norm clipping
  bool decay_learning_rates = false;
  double gamma = 0.99;
  // PPO.
  int64_t rollout_length = 128;
  int64_t epochs = 4;  // PPO: passes over each rollout; DQN: gradient steps per update
  int64_t num_minibatches = 4;
  double gae_lambda = 0.95;
  double clip_eps = 0.2;
  bool clip_value_loss = true;
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  bool standardize_advantages = true;
  bool normalize_observations = false;
  double init_action_std = 1.0;  // continuous PPO: initial std of the Gaussian policy
  // DQN.
  int64_t total_buffer_size = 10000;
  int64_t total_batch_size = 128;
  int64_t warmup_steps = 1000;         // env steps collected before the first update
  int64_t train_frequency = 10;        // env steps (per env) between updates
  double tau = 1.0;                    // 1 = hard target update, < 1 = Polyak averaging
  int64_t target_update_period = 500;  // updates between target updates
  double epsilon_start = 1.0;
  double training_epsilon = 0.05;     // final exploration epsilon
  double exploration_fraction = 0.5;  // fraction of training over which epsilon decays
  double evaluation_epsilon = 0.0;
  double huber_loss_parameter = 0.0;  // 0 = mean squared error, > 0 = Huber with this delta
  bool double_q = false;
  int64_t n_step = 1;  // rewards summed into one transition before bootstrapping
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
};

struct EnvConfig {
  std::string env_name = "classic_control";
  std::string scenario_name = "CartPole-v1";  // [env.scenario] name
  std::string task_name = "cartpole";         // [env.scenario] task_name
  int64_t max_episode_steps = 0;              // [env.kwargs]; 0 = Gymnasium's time limit
};

struct NetworkConfig {
  std::vector<int64_t> layer_sizes = {64, 64};
  std::string activation = "tanh";  // tanh | relu
};

struct SinkConfig {
  bool enabled = true;
};

struct ConsoleConfig {
  bool enabled = true;
  std::string progress = "auto";  // auto (bar on a terminal) | always | never
  std::string colour = "auto";    // auto | always | never
};

struct SaveArgs {
  int64_t save_interval_steps = 1;  // save on every Nth evaluation step
  int64_t max_to_keep = 1;          // keep the N newest
  int64_t keep_period = 0;          // keep every Kth step forever (0 = off)
  int64_t keep_best = 0;            // additionally keep the M best by episode_return
  std::string checkpoint_uid;       // empty = a timestamp chosen at start
  std::string rel_dir = "checkpoints";
  int64_t compression_level = 6;       // zlib level 0..9, 0 = stored raw
  int64_t min_free_bytes = 16 << 20;   // refuse to save below this much free space
  std::string on_save_error = "warn";  // warn (keep training) | abort (exit status 3)
};

struct LoadArgs {
  std::string checkpoint_uid;  // empty = newest run of this model_name
  std::string rel_dir = "checkpoints";
  int64_t load_step = -1;  // -1 = newest
};

struct CheckpointConfig {
  bool save_model = true;
  bool load_model = false;
  std::string model_name;  // empty = system.system_name
  SaveArgs save_args;
  LoadArgs load_args;
};

struct LoggerConfig {
  std::string base_exp_path = "results";
  ConsoleConfig console;
  SinkConfig csv;
  SinkConfig tensorboard;
  CheckpointConfig checkpointing;
};

struct Config {
  SystemConfig system;
  ArchConfig arch;
  EnvConfig env;
  NetworkConfig actor_network;
  NetworkConfig critic_network;
  LoggerConfig logger;

  // Where this config came from (for messages); not part of the config itself.
  std::string origin = "<built-in ppo_cartpole.ini>";
};

// Any user-facing config problem: what() is the one line printed before exit status 2.
struct ConfigError : Error {
  using Error::Error;
};

// The default config (configs/ppo_cartpole.ini, compiled into the binary).
Config default_config();

// Loads an INI file (following `base = other.ini` chains, paths relative to the including
// file), then applies `section.key=value` overrides in order. Throws ConfigError.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Same, from INI text (name is used in messages; `base` paths are relative to base_dir).
Config load_config_text(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides = {},
                        const std::string& base_dir = ".");
// The built-in config with this file name (e.g. "ppo_pendulum.ini"), or "" if none.
std::string builtin_config_text(const std::string& name);
std::vector<std::string> builtin_config_names();

// Applies one `section.key=value` override. Throws ConfigError.
void apply_override(Config& cfg, const std::string& override_text);

// The resolved config as INI text: every key, in schema order. Loading it gives `cfg` back.
std::string to_ini(const Config& cfg);

// Markdown reference of every section and key (docs/config.md is generated from it).
std::string config_reference_markdown();

// Cross-field checks that single-key ranges cannot express (e.g. minibatch divisibility).
void validate(const Config& cfg);

// The model name used for checkpoints: checkpointing.model_name or system.system_name.
std::string model_name(const Config& cfg);

}  // namespace edgerl
