// The config schema and everything that reads it: INI loading through inih (with `base =`
// composition), `section.key=value` overrides, validation with suggestions, INI output and the
// Markdown reference. Every key exists in exactly one place: the kFields table below.
#include "edgerl/config.hpp"

#include <ini.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/text.hpp"
#include "edgerl/io.hpp"

namespace edgerl {
namespace {

enum class Kind { Bool, Int, UInt, Double, String, Name, OptName, Choice, IntList };

struct Field {
  const char* section;
  const char* key;
  Kind kind;
  void* (*get)(Config&);
  double min;
  double max;
  std::vector<const char*> choices;  // Kind::Choice only
  const char* applies;               // systems it applies to ("" = all)
  const char* doc;
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kI64Max = 9.2e18;

#define EDGERL_FIELD(sec, key, kind, member, lo, hi, choices, applies, doc)                       \
  Field {                                                                                         \
    sec, key, Kind::kind, [](Config& c) -> void* { return &c.member; }, lo, hi, choices, applies, \
        doc                                                                                       \
  }

const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = {
      // [system]
      EDGERL_FIELD("system", "system_name", Choice, system.system_name, 0, 0,
                   (std::vector<const char*>{"ff_ppo", "ff_ppo_continuous", "ff_dqn"}), "",
                   "learning system: ff_ppo (discrete actions), ff_ppo_continuous, ff_dqn"),
      EDGERL_FIELD("system", "actor_lr", Double, system.actor_lr, 0, 1, {}, "ff_ppo*",
                   "Adam learning rate of the actor"),
      EDGERL_FIELD("system", "critic_lr", Double, system.critic_lr, 0, 1, {}, "ff_ppo*",
                   "Adam learning rate of the critic"),
      EDGERL_FIELD("system", "q_lr", Double, system.q_lr, 0, 1, {}, "ff_dqn",
                   "Adam learning rate of the Q-network"),
      EDGERL_FIELD("system", "adam_eps", Double, system.adam_eps, 1e-12, 1, {}, "",
                   "Adam epsilon (added to the root of the second moment)"),
      EDGERL_FIELD("system", "max_grad_norm", Double, system.max_grad_norm, 0, 1e6, {}, "",
                   "global gradient-norm clipping threshold; 0 disables clipping"),
      EDGERL_FIELD("system", "decay_learning_rates", Bool, system.decay_learning_rates, 0, 0, {},
                   "", "anneal learning rates linearly to 0 over training"),
      EDGERL_FIELD("system", "gamma", Double, system.gamma, 0, 1, {}, "", "discount factor"),
      EDGERL_FIELD("system", "rollout_length", Int, system.rollout_length, 1, 1 << 20, {},
                   "ff_ppo*", "environment steps per env per update"),
      EDGERL_FIELD("system", "epochs", Int, system.epochs, 1, 10000, {}, "ff_ppo*, ff_dqn",
                   "ff_ppo: passes over each rollout; ff_dqn: gradient steps per update"),
      EDGERL_FIELD("system", "num_minibatches", Int, system.num_minibatches, 1, 1 << 20, {},
                   "ff_ppo*", "minibatches per epoch (num_envs*rollout_length must divide)"),
      EDGERL_FIELD("system", "gae_lambda", Double, system.gae_lambda, 0, 1, {}, "ff_ppo*",
                   "GAE lambda"),
      EDGERL_FIELD("system", "clip_eps", Double, system.clip_eps, 0, 10, {}, "ff_ppo*",
                   "PPO ratio clipping epsilon (also clips the value loss if enabled)"),
      EDGERL_FIELD("system", "clip_value_loss", Bool, system.clip_value_loss, 0, 0, {}, "ff_ppo*",
                   "clip the value loss around the old values"),
      EDGERL_FIELD("system", "ent_coef", Double, system.ent_coef, 0, 100, {}, "ff_ppo*",
                   "entropy bonus coefficient"),
      EDGERL_FIELD("system", "vf_coef", Double, system.vf_coef, 0, 100, {}, "ff_ppo*",
                   "value loss coefficient"),
      EDGERL_FIELD("system", "standardize_advantages", Bool, system.standardize_advantages, 0, 0,
                   {}, "ff_ppo*", "normalise advantages per minibatch"),
      EDGERL_FIELD("system", "normalize_observations", Bool, system.normalize_observations, 0, 0,
                   {}, "ff_ppo*", "running mean/std observation normalisation"),
      EDGERL_FIELD("system", "init_action_std", Double, system.init_action_std, 1e-6, 1e6, {},
                   "ff_ppo_continuous", "initial standard deviation of the Gaussian policy"),
      EDGERL_FIELD("system", "total_buffer_size", Int, system.total_buffer_size, 1, 1e9, {},
                   "ff_dqn", "replay buffer capacity in transitions"),
      EDGERL_FIELD("system", "total_batch_size", Int, system.total_batch_size, 1, 1 << 20, {},
                   "ff_dqn", "transitions per gradient step"),
      EDGERL_FIELD("system", "warmup_steps", Int, system.warmup_steps, 0, kI64Max, {}, "ff_dqn",
                   "environment steps collected before learning starts"),
      EDGERL_FIELD("system", "train_frequency", Int, system.train_frequency, 1, 1 << 20, {},
                   "ff_dqn",
                   "environment steps (per env) between updates of `epochs` gradient steps"),
      EDGERL_FIELD("system", "tau", Double, system.tau, 0, 1, {}, "ff_dqn",
                   "target update: 1 = hard copy, < 1 = Polyak averaging factor"),
      EDGERL_FIELD("system", "target_update_period", Int, system.target_update_period, 1, 1 << 30,
                   {}, "ff_dqn", "gradient steps between target-network updates"),
      EDGERL_FIELD("system", "epsilon_start", Double, system.epsilon_start, 0, 1, {}, "ff_dqn",
                   "initial exploration epsilon"),
      EDGERL_FIELD("system", "training_epsilon", Double, system.training_epsilon, 0, 1, {},
                   "ff_dqn", "final exploration epsilon"),
      EDGERL_FIELD("system", "exploration_fraction", Double, system.exploration_fraction, 0, 1, {},
                   "ff_dqn", "fraction of total_timesteps over which epsilon decays"),
      EDGERL_FIELD("system", "evaluation_epsilon", Double, system.evaluation_epsilon, 0, 1, {},
                   "ff_dqn", "epsilon of non-greedy evaluation"),
      EDGERL_FIELD("system", "huber_loss_parameter", Double, system.huber_loss_parameter, 0, 1e6,
                   {}, "ff_dqn", "0 = mean squared TD error, > 0 = Huber loss with this delta"),
      EDGERL_FIELD("system", "double_q", Bool, system.double_q, 0, 0, {}, "ff_dqn",
                   "double DQN targets (online argmax, target value)"),
      EDGERL_FIELD("system", "n_step", Int, system.n_step, 1, 1000, {}, "ff_dqn",
                   "n-step returns: rewards summed over n steps before bootstrapping"),
      // [arch]
      EDGERL_FIELD("arch", "seed", UInt, arch.seed, 0, 0, {}, "",
                   "seed of every random stream (numpy SeedSequence semantics)"),
      EDGERL_FIELD("arch", "num_envs", Int, arch.num_envs, 1, 65536, {}, "",
                   "environments stepped together"),
      EDGERL_FIELD("arch", "total_timesteps", Int, arch.total_timesteps, 1, kI64Max, {}, "",
                   "environment steps of the whole run"),
      EDGERL_FIELD("arch", "num_updates", Int, arch.num_updates, 0, kI64Max, {}, "",
                   "updates of the whole run; 0 = derived from total_timesteps"),
      EDGERL_FIELD("arch", "num_evaluation", Int, arch.num_evaluation, 1, 1 << 24, {}, "",
                   "evaluations (and checkpoint opportunities) over the run"),
      EDGERL_FIELD("arch", "num_eval_episodes", Int, arch.num_eval_episodes, 1, 1 << 24, {}, "",
                   "episodes per evaluation"),
      EDGERL_FIELD("arch", "evaluation_greedy", Bool, arch.evaluation_greedy, 0, 0, {}, "",
                   "evaluate the greedy (mode) action instead of sampling"),
      EDGERL_FIELD("arch", "absolute_metric", Bool, arch.absolute_metric, 0, 0, {}, "",
                   "final evaluation with 10x the episodes"),
      // [env], [env.scenario], [env.kwargs]
      EDGERL_FIELD("env", "env_name", Choice, env.env_name, 0, 0,
                   (std::vector<const char*>{"classic_control"}), "", "environment suite"),
      EDGERL_FIELD("env.scenario", "name", Name, env.scenario_name, 0, 0, {}, "",
                   "environment id, e.g. CartPole-v1 (see `edgerl rollout --help`)"),
      EDGERL_FIELD("env.scenario", "task_name", Name, env.task_name, 0, 0, {}, "",
                   "short task name used in run folders"),
      EDGERL_FIELD("env.kwargs", "max_episode_steps", Int, env.max_episode_steps, 0, 1 << 30, {},
                   "", "episode time limit; 0 = Gymnasium's"),
      // [network.*]
      EDGERL_FIELD("network.actor_network", "layer_sizes", IntList, actor_network.layer_sizes, 1,
                   4096, {}, "", "hidden layer sizes of the actor (Q-network for ff_dqn)"),
      EDGERL_FIELD("network.actor_network", "activation", Choice, actor_network.activation, 0, 0,
                   (std::vector<const char*>{"tanh", "relu"}), "", "hidden activation"),
      EDGERL_FIELD("network.critic_network", "layer_sizes", IntList, critic_network.layer_sizes, 1,
                   4096, {}, "ff_ppo*", "hidden layer sizes of the critic"),
      EDGERL_FIELD("network.critic_network", "activation", Choice, critic_network.activation, 0, 0,
                   (std::vector<const char*>{"tanh", "relu"}), "ff_ppo*", "hidden activation"),
      // [logger]
      EDGERL_FIELD("logger", "base_exp_path", String, logger.base_exp_path, 0, 0, {}, "",
                   "folder that holds run folders and checkpoints"),
      EDGERL_FIELD("logger.loggers.console", "enabled", Bool, logger.console.enabled, 0, 0, {}, "",
                   "print one line per event"),
      EDGERL_FIELD("logger.loggers.console", "progress", Choice, logger.console.progress, 0, 0,
                   (std::vector<const char*>{"auto", "always", "never"}), "",
                   "live progress bar (auto = only on a terminal)"),
      EDGERL_FIELD("logger.loggers.console", "colour", Choice, logger.console.colour, 0, 0,
                   (std::vector<const char*>{"auto", "always", "never"}), "",
                   "ANSI colour (auto = only on a terminal)"),
      EDGERL_FIELD("logger.loggers.csv", "enabled", Bool, logger.csv.enabled, 0, 0, {}, "",
                   "one CSV file per event kind in the run folder"),
      EDGERL_FIELD("logger.loggers.tensorboard", "enabled", Bool, logger.tensorboard.enabled, 0, 0,
                   {}, "", "TensorBoard event file in the run folder"),
      // [logger.checkpointing]
      EDGERL_FIELD("logger.checkpointing", "save_model", Bool, logger.checkpointing.save_model, 0,
                   0, {}, "", "save checkpoints during training"),
      EDGERL_FIELD("logger.checkpointing", "load_model", Bool, logger.checkpointing.load_model, 0,
                   0, {}, "", "resume from a checkpoint (see load_args)"),
      EDGERL_FIELD("logger.checkpointing", "model_name", OptName, logger.checkpointing.model_name, 0,
                   0, {}, "", "checkpoint folder name; empty = system_name"),
      EDGERL_FIELD("logger.checkpointing.save_args", "save_interval_steps", Int,
                   logger.checkpointing.save_args.save_interval_steps, 1, 1 << 30, {}, "",
                   "save on every Nth evaluation step"),
      EDGERL_FIELD("logger.checkpointing.save_args", "max_to_keep", Int,
                   logger.checkpointing.save_args.max_to_keep, 1, 1 << 30, {}, "",
                   "keep the N newest checkpoints"),
      EDGERL_FIELD("logger.checkpointing.save_args", "keep_period", Int,
                   logger.checkpointing.save_args.keep_period, 0, 1 << 30, {}, "",
                   "also keep every Kth evaluation step forever; 0 = off"),
      EDGERL_FIELD("logger.checkpointing.save_args", "keep_best", Int,
                   logger.checkpointing.save_args.keep_best, 0, 1 << 30, {}, "",
                   "also keep the M best by episode_return; 0 = off"),
      EDGERL_FIELD("logger.checkpointing.save_args", "checkpoint_uid", OptName,
                   logger.checkpointing.save_args.checkpoint_uid, 0, 0, {}, "",
                   "run id (folder name); empty = a timestamp chosen at start"),
      EDGERL_FIELD("logger.checkpointing.save_args", "rel_dir", Name,
                   logger.checkpointing.save_args.rel_dir, 0, 0, {}, "",
                   "checkpoint folder under base_exp_path"),
      EDGERL_FIELD("logger.checkpointing.save_args", "compression_level", Int,
                   logger.checkpointing.save_args.compression_level, 0, 9, {}, "",
                   "zlib level per tensor; 0 = stored raw"),
      EDGERL_FIELD("logger.checkpointing.save_args", "min_free_bytes", Int,
                   logger.checkpointing.save_args.min_free_bytes, 0, kI64Max, {}, "",
                   "do not save when less than this would remain free"),
      EDGERL_FIELD("logger.checkpointing.save_args", "on_save_error", Choice,
                   logger.checkpointing.save_args.on_save_error, 0, 0,
                   (std::vector<const char*>{"warn", "abort"}), "",
                   "after a failed save: warn and keep training, or stop with exit status 3"),
      EDGERL_FIELD("logger.checkpointing.load_args", "checkpoint_uid", OptName,
                   logger.checkpointing.load_args.checkpoint_uid, 0, 0, {}, "",
                   "run to resume; empty = the newest run of this model_name"),
      EDGERL_FIELD("logger.checkpointing.load_args", "rel_dir", Name,
                   logger.checkpointing.load_args.rel_dir, 0, 0, {}, "",
                   "checkpoint folder under base_exp_path"),
      EDGERL_FIELD("logger.checkpointing.load_args", "load_step", Int,
                   logger.checkpointing.load_args.load_step, -1, kI64Max, {}, "",
                   "evaluation step to load; -1 = the newest that verifies"),
  };
  return kFields;
}

#undef EDGERL_FIELD

const char* kBuiltinConfigs[][2] = {
#include "builtin_configs.inc"
};

std::vector<std::string> section_names() {
  std::vector<std::string> out;
  for (const auto& f : fields())
    if (std::find(out.begin(), out.end(), f.section) == out.end()) out.push_back(f.section);
  return out;
}

const Field* find_field(const std::string& section, const std::string& key) {
  for (const auto& f : fields())
    if (section == f.section && key == f.key) return &f;
  return nullptr;
}

std::string full_name(const Field& f) {
  return std::string(f.section) + "." + f.key;
}

std::string format_double(double v) {
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string format_number(double v) {
  if (v == kInf) return "inf";
  if (v >= kI64Max) return "2^63-1";
  return format_double(v);
}

std::string range_text(const Field& f) {
  switch (f.kind) {
    case Kind::Bool:
      return "true or false";
    case Kind::UInt:
      return "0 to 18446744073709551615";
    case Kind::Int:
    case Kind::Double:
      return format_number(f.min) + " to " + format_number(f.max);
    case Kind::IntList:
      return "comma-separated integers, each " + format_number(f.min) + " to " +
             format_number(f.max);
    case Kind::Choice: {
      std::string s = "one of";
      for (size_t i = 0; i < f.choices.size(); ++i)
        s += (i ? ", " : " ") + std::string(f.choices[i]);
      return s;
    }
    case Kind::Name:
    case Kind::OptName:
      return std::string(f.kind == Kind::OptName ? "empty, or " : "") + "1 to " +
             std::to_string(kMaxFolderNameBytes) +
             " letters, digits, '.', '_', '-' (no path separators, not . or ..)";
    case Kind::String:
      return "text without ';' or line breaks";
  }
  return "";
}

bool parse_bool(const std::string& v, bool& out) {
  const std::string s = lower(v);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return out = true, true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return out = false, true;
  return false;
}

// Integers as Stoix writes them: 500000, 500_000 or an exact 5e5.
bool parse_integer(const std::string& v, long double& out) {
  std::string s;
  for (char c : v)
    if (c != '_') s += c;
  if (s.empty() || s.find_first_of("xXpP") != std::string::npos) return false;
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  const long double x = std::strtold(b, &end);
  if (end == b || *end != '\0' || errno == ERANGE || !std::isfinite(x)) return false;
  if (x != std::floor(x)) return false;
  out = x;
  return true;
}

// Sets field `f` of `cfg` from text, or returns why it cannot (without the location prefix).
std::string set_field(Config& cfg, const Field& f, const std::string& raw) {
  const std::string value = trim(raw);
  void* p = f.get(cfg);
  const std::string bad = full_name(f) + " = '" + value + "' is invalid";
  const std::string allowed = " (allowed: " + range_text(f) + ")";
  switch (f.kind) {
    case Kind::Bool:
      if (!parse_bool(value, *static_cast<bool*>(p))) return bad + allowed;
      return "";
    case Kind::Int: {
      long double x;
      if (!parse_integer(value, x))
        return bad + " (expected an integer; allowed: " + range_text(f) + ")";
      if (x < f.min || x > f.max)
        return full_name(f) + " = " + value + " is out of range (allowed: " + range_text(f) + ")";
      *static_cast<int64_t*>(p) = static_cast<int64_t>(x);
      return "";
    }
    case Kind::UInt: {
      if (value.empty() || value[0] == '-' || value[0] == '+') return bad + allowed;
      long double x;
      if (!parse_integer(value, x) || x < 0 || x > 18446744073709551615.0L) return bad + allowed;
      // strtoull keeps full precision for plain decimal seeds above 2^53.
      std::string digits;
      for (char c : value)
        if (c != '_') digits += c;
      if (digits.find_first_not_of("0123456789") == std::string::npos) {
        errno = 0;
        const unsigned long long u = std::strtoull(digits.c_str(), nullptr, 10);
        if (errno == ERANGE) return bad + allowed;
        *static_cast<uint64_t*>(p) = u;
      } else {
        *static_cast<uint64_t*>(p) = static_cast<uint64_t>(x);
      }
      return "";
    }
    case Kind::Double: {
      const char* b = value.c_str();
      char* end = nullptr;
      errno = 0;
      const double x = std::strtod(b, &end);
      if (value.empty() || *end != '\0' || !std::isfinite(x))
        return bad + " (expected a number; allowed: " + range_text(f) + ")";
      if (x < f.min || x > f.max)
        return full_name(f) + " = " + value + " is out of range (allowed: " + range_text(f) + ")";
      *static_cast<double*>(p) = x;
      return "";
    }
    case Kind::Choice:
      for (const char* c : f.choices)
        if (value == c) return *static_cast<std::string*>(p) = value, "";
      {
        std::vector<std::string> cs(f.choices.begin(), f.choices.end());
        std::string hint = did_you_mean(value, cs);
        return bad + allowed + hint;
      }
    case Kind::Name:
    case Kind::OptName:
      if ((f.kind == Kind::Name || !value.empty()) && !folder_name_problem(value).empty())
        return bad + allowed;
      *static_cast<std::string*>(p) = value;
      return "";
    case Kind::String:
      if (value.find(';') != std::string::npos) return bad + allowed;
      *static_cast<std::string*>(p) = value;
      return "";
    case Kind::IntList: {
      std::string s = value;
      if (!s.empty() && s.front() == '[') {
        if (s.back() != ']') return bad + allowed;
        s = s.substr(1, s.size() - 2);
      }
      std::vector<int64_t> out;
      if (!trim(s).empty()) {
        std::stringstream ss(s);
        std::string item;
        while (std::getline(ss, item, ',')) {
          long double x;
          if (!parse_integer(trim(item), x) || x < f.min || x > f.max) return bad + allowed;
          out.push_back(static_cast<int64_t>(x));
        }
        if (s.back() == ',') return bad + allowed;
      }
      *static_cast<std::vector<int64_t>*>(p) = out;
      return "";
    }
  }
  return "";
}

std::string get_field(const Config& cfg, const Field& f) {
  void* p = f.get(const_cast<Config&>(cfg));
  switch (f.kind) {
    case Kind::Bool:
      return *static_cast<bool*>(p) ? "true" : "false";
    case Kind::Int:
      return std::to_string(*static_cast<int64_t*>(p));
    case Kind::UInt:
      return std::to_string(*static_cast<uint64_t*>(p));
    case Kind::Double:
      return format_double(*static_cast<double*>(p));
    case Kind::Choice:
    case Kind::Name:
    case Kind::OptName:
    case Kind::String:
      return *static_cast<std::string*>(p);
    case Kind::IntList: {
      std::string s;
      for (int64_t v : *static_cast<std::vector<int64_t>*>(p))
        s += (s.empty() ? "" : ", ") + std::to_string(v);
      return s;
    }
  }
  return "";
}

// One `key = value` line of an INI file, kept with where it came from.
struct Entry {
  std::string section, key, value, file;
  int line;
};

struct ParseState {
  std::string name;
  const char* cursor;
  int line = 0;
  std::vector<Entry> entries;
  std::vector<std::pair<int, std::string>> sections;
  std::string error;
};

char* read_line(char* buf, int size, void* stream) {
  auto* st = static_cast<ParseState*>(stream);
  if (*st->cursor == '\0') return nullptr;
  const char* nl = std::strchr(st->cursor, '\n');
  const size_t len = nl ? static_cast<size_t>(nl - st->cursor + 1) : std::strlen(st->cursor);
  ++st->line;
  if (len + 1 > static_cast<size_t>(size)) {
    if (st->error.empty())
      st->error = st->name + ":" + std::to_string(st->line) + ": line longer than " +
                  std::to_string(size - 3) + " characters";
    buf[0] = '\n';
    buf[1] = '\0';
  } else {
    std::memcpy(buf, st->cursor, len);
    buf[len] = '\0';
    const std::string t = trim(buf);
    if (!t.empty() && t.front() == '[') {
      const size_t close = t.find(']');
      st->sections.emplace_back(
          st->line, trim(t.substr(1, close == std::string::npos ? std::string::npos : close - 1)));
    }
  }
  st->cursor += len;
  return buf;
}

int on_entry(void* user, const char* section, const char* name, const char* value) {
  auto* st = static_cast<ParseState*>(user);
  st->entries.push_back({section, name, value ? value : "", st->name, st->line});
  return 1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read config file (" + std::strerror(errno) + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string canonical(const std::string& path) {
  char buf[4096];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

void apply_text(Config& cfg, const std::string& text, const std::string& name,
                const std::string& base_dir, std::vector<std::string>& chain);

// Loads `base = ...` (a file relative to the including file, else a built-in config).
void apply_base(Config& cfg, const Entry& e, const std::string& base_dir,
                std::vector<std::string>& chain) {
  const std::string ref = trim(e.value);
  const std::string where = e.file + ":" + std::to_string(e.line) + ": ";
  if (ref.empty()) throw ConfigError(where + "base = needs a file name");
  const std::string path = !ref.empty() && ref[0] == '/' ? ref : base_dir + "/" + ref;
  std::string id, text, dir;
  if (file_exists(path)) {
    id = canonical(path);
    text = read_file(path);
    dir = dir_name(path);
    if (std::find(chain.begin(), chain.end(), id) != chain.end())
      throw ConfigError(where + "base = " + ref + " forms a cycle (" + path + " includes itself)");
  } else if (!(text = builtin_config_text(ref)).empty()) {
    id = "builtin:" + ref;
    dir = base_dir;
    if (std::find(chain.begin(), chain.end(), id) != chain.end())
      throw ConfigError(where + "base = " + ref + " forms a cycle");
  } else {
    throw ConfigError(where + "base = " + ref + ": no such file (" + path + ") or built-in config");
  }
  chain.push_back(id);
  apply_text(cfg, text, file_exists(path) ? path : "<built-in " + ref + ">", dir, chain);
  chain.pop_back();
}

void apply_text(Config& cfg, const std::string& text, const std::string& name,
                const std::string& base_dir, std::vector<std::string>& chain) {
  if (chain.size() > 32) throw ConfigError(name + ": base = chain deeper than 32 files");
  if (text.find('\0') != std::string::npos) throw ConfigError(name + ": not a text file");
  ParseState st;
  st.name = name;
  st.cursor = text.c_str();
  const int rc = ini_parse_stream(read_line, &st, on_entry, &st);
  if (!st.error.empty()) throw ConfigError(st.error);
  if (rc > 0)
    throw ConfigError(name + ":" + std::to_string(rc) +
                      ": syntax error (expected [section] or key = value)");
  if (rc < 0) throw ConfigError(name + ": cannot parse");

  const std::vector<std::string> sections = section_names();
  for (const auto& s : st.sections)
    if (std::find(sections.begin(), sections.end(), s.second) == sections.end())
      throw ConfigError(name + ":" + std::to_string(s.first) + ": unknown section [" + s.second +
                        "]" + did_you_mean(s.second, sections));

  std::set<std::string> seen;
  for (const Entry& e : st.entries) {
    const std::string where = name + ":" + std::to_string(e.line) + ": ";
    if (e.section.empty()) {
      if (e.key != "base")
        throw ConfigError(where + "key '" + e.key +
                          "' outside a section (only base = FILE may stand there)");
      if (&e != &st.entries.front())
        throw ConfigError(where + "base = must come before every other key");
      apply_base(cfg, e, base_dir, chain);
      continue;
    }
    const Field* f = find_field(e.section, e.key);
    if (!f) {
      std::vector<std::string> candidates;
      for (const auto& g : fields()) candidates.push_back(full_name(g));
      throw ConfigError(where + "unknown key " + e.section + "." + e.key +
                        did_you_mean(e.section + "." + e.key, candidates));
    }
    if (!seen.insert(full_name(*f)).second)
      throw ConfigError(where + full_name(*f) + " is set twice in this file");
    const std::string err = set_field(cfg, *f, e.value);
    if (!err.empty()) throw ConfigError(where + err);
  }
}

}  // namespace

std::string builtin_config_text(const std::string& name) {
  for (const auto& c : kBuiltinConfigs)
    if (name == c[0]) return c[1];
  return "";
}

std::vector<std::string> builtin_config_names() {
  std::vector<std::string> out;
  for (const auto& c : kBuiltinConfigs) out.push_back(c[0]);
  return out;
}

void apply_override(Config& cfg, const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos)
    throw ConfigError("override '" + text + "': expected section.key=value");
  const std::string name = trim(text.substr(0, eq));
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
    throw ConfigError("override '" + text + "': expected section.key=value");
  const Field* f = find_field(name.substr(0, dot), name.substr(dot + 1));
  if (!f) {
    std::vector<std::string> candidates;
    for (const auto& g : fields()) candidates.push_back(full_name(g));
    throw ConfigError("override '" + text + "': unknown key " + name +
                      did_you_mean(name, candidates));
  }
  const std::string err = set_field(cfg, *f, text.substr(eq + 1));
  if (!err.empty()) throw ConfigError("override '" + text + "': " + err);
}

Config load_config_text(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides, const std::string& base_dir) {
  Config cfg;
  std::vector<std::string> chain{name};
  apply_text(cfg, text, name, base_dir, chain);
  for (const auto& o : overrides) apply_override(cfg, o);
  cfg.origin = name;
  validate(cfg);
  return cfg;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config cfg;
  std::string text;
  if (file_exists(path)) {
    text = read_file(path);
  } else {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) throw ConfigError(path + ": not a regular file");
    throw ConfigError(path + ": no such config file");
  }
  std::vector<std::string> chain{canonical(path)};
  apply_text(cfg, text, path, dir_name(path), chain);
  for (const auto& o : overrides) apply_override(cfg, o);
  cfg.origin = path;
  validate(cfg);
  return cfg;
}

Config default_config() {
  return load_config_text(builtin_config_text("ppo_cartpole.ini"), "<built-in ppo_cartpole.ini>");
}

std::string to_ini(const Config& cfg) {
  std::ostringstream out;
  out << "; edgerl resolved config (system " << cfg.system.system_name << ")\n";
  std::string section;
  for (const auto& f : fields()) {
    if (section != f.section) {
      section = f.section;
      out << (out.tellp() > 0 ? "\n" : "") << "[" << section << "]\n";
    }
    out << f.key << " = " << get_field(cfg, f) << "\n";
  }
  return out.str();
}

std::string config_reference_markdown() {
  const Config defaults;
  std::ostringstream out;
  out << "# Config reference\n\n"
      << "Generated by `edgerl config --doc` from the schema in src/config.cpp; a test keeps this\n"
      << "file equal to that output. Sections mirror Stoix's config tree. Set a key in an INI "
         "file\n"
      << "or on the command line as `section.key=value`. A file may start with `base = other.ini`\n"
      << "(a path relative to the file, or a built-in config name) to inherit from it; later "
         "values\n"
      << "win. Unknown sections or keys, values of the wrong type and values out of range are\n"
      << "errors (exit status 2). Defaults below are the schema's; the built-in configs in\n"
      << "configs/ set their own values on top.\n";
  std::string section;
  for (const auto& f : fields()) {
    if (section != f.section) {
      section = f.section;
      out << "\n## [" << section << "]\n\n| key | default | allowed | applies to | meaning |\n"
          << "| --- | --- | --- | --- | --- |\n";
    }
    std::string def = get_field(defaults, f);
    out << "| `" << f.key << "` | `" << (def.empty() ? " " : def) << "` | " << range_text(f)
        << " | " << (*f.applies ? f.applies : "all") << " | " << f.doc << " |\n";
  }
  return out.str();
}

void validate(const Config& cfg) {
  const auto& s = cfg.system;
  const auto& a = cfg.arch;
  const bool ppo = s.system_name == "ff_ppo" || s.system_name == "ff_ppo_continuous";
  if (ppo) {
    const int64_t batch = a.num_envs * s.rollout_length;
    if (batch % s.num_minibatches != 0)
      throw ConfigError(
          "system.num_minibatches = " + std::to_string(s.num_minibatches) +
          " must divide arch.num_envs * system.rollout_length = " + std::to_string(batch));
    if (a.num_updates == 0 && a.total_timesteps < batch * a.num_evaluation)
      throw ConfigError("arch.total_timesteps = " + std::to_string(a.total_timesteps) +
                        " is less than one update per evaluation (arch.num_envs * "
                        "system.rollout_length * arch.num_evaluation = " +
                        std::to_string(batch * a.num_evaluation) + ")");
  } else {
    if (s.total_batch_size > s.total_buffer_size)
      throw ConfigError(
          "system.total_batch_size = " + std::to_string(s.total_batch_size) +
          " exceeds system.total_buffer_size = " + std::to_string(s.total_buffer_size));
    if (a.num_updates == 0 && a.total_timesteps < a.num_envs * s.train_frequency * a.num_evaluation)
      throw ConfigError("arch.total_timesteps = " + std::to_string(a.total_timesteps) +
                        " is less than one update per evaluation (arch.num_envs * "
                        "system.train_frequency * arch.num_evaluation = " +
                        std::to_string(a.num_envs * s.train_frequency * a.num_evaluation) + ")");
  }
  if (a.num_updates != 0 && a.num_updates < a.num_evaluation)
    throw ConfigError("arch.num_updates = " + std::to_string(a.num_updates) +
                      " is less than arch.num_evaluation = " + std::to_string(a.num_evaluation));
}

std::string model_name(const Config& cfg) {
  return cfg.logger.checkpointing.model_name.empty() ? cfg.system.system_name
                                                     : cfg.logger.checkpointing.model_name;
}

}  // namespace edgerl
