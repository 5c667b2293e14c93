// The config: its own rows (every section but the learner's), INI loading through inih (with
// `base =` composition), `section.key=value` overrides, validation with suggestions, INI output,
// differences and the Markdown reference. The learners' rows come from the registry
// (src/learners/registry.hpp); every key exists in exactly one row.
#include "edgerl/config.hpp"

#include <ini.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <set>

#include "config/schema.hpp"
#include "core/text.hpp"
#include "edgerl/io.hpp"
#include "learners/registry.hpp"

namespace edgerl {
namespace {

using schema::Field;
using schema::kI64Max;
using schema::Kind;

#define EDGERL_FIELD(sec, key, kind, member, lo, hi, choices, effect, doc)                       \
  Field {                                                                                        \
    sec, key, Kind::kind, [](void* c) -> void* { return &static_cast<Config*>(c)->member; }, lo, \
        hi, choices, KeyEffect::effect, doc                                                      \
  }

std::vector<const char*> learner_names() {
  std::vector<const char*> out;
  for (const LearnerDef* d : learner_defs()) out.push_back(d->name);
  return out;
}

// Config's own rows, in the order to_ini writes them (the learner's rows go after
// system_name and before [logger]).
// The bounds of a row from a module's stated range (checkpoint.hpp's IntRange).
double lo(IntRange r) {
  return static_cast<double>(r.min);
}
double hi(IntRange r) {
  return r.max == INT64_MAX ? kI64Max : static_cast<double>(r.max);
}

const std::vector<Field>& config_fields() {
  using S = SaveArgs;
  static const std::vector<Field> kFields = {
      // [system]: the learner; its own keys are its file's rows.
      EDGERL_FIELD("system", "system_name", Choice, system.system_name, 0, 0,
                   schema::Choices(learner_names()), training,
                   "learning system (the sections below list each one's keys)"),
      // [arch]
      EDGERL_FIELD("arch", "seed", UInt, arch.seed, 0, 0, {}, training,
                   "seed of every random stream (numpy SeedSequence semantics)"),
      EDGERL_FIELD("arch", "num_envs", Int, arch.num_envs, 1, 65536, {}, training,
                   "environments stepped together"),
      EDGERL_FIELD("arch", "total_timesteps", Int, arch.total_timesteps, 1, kI64Max, {}, length,
                   "environment steps of the whole run"),
      EDGERL_FIELD("arch", "num_updates", Int, arch.num_updates, 0, kI64Max, {}, length,
                   "updates of the whole run; 0 = derived from total_timesteps"),
      EDGERL_FIELD("arch", "num_evaluation", Int, arch.num_evaluation, 1, 1 << 24, {}, length,
                   "evaluations (and checkpoint opportunities) over the run"),
      EDGERL_FIELD("arch", "num_eval_episodes", Int, arch.num_eval_episodes, 1, 1 << 24, {},
                   evaluation, "episodes per evaluation"),
      EDGERL_FIELD("arch", "evaluation_greedy", Bool, arch.evaluation_greedy, 0, 0, {}, evaluation,
                   "evaluate the greedy (mode) action instead of sampling"),
      EDGERL_FIELD("arch", "absolute_metric", Bool, arch.absolute_metric, 0, 0, {}, evaluation,
                   "at the end, evaluate the best evaluation's policy with 10x the episodes "
                   "(Stoix's absolute metric)"),
      EDGERL_FIELD("arch", "num_threads", Int, arch.num_threads, 0, 256, {}, none,
                   "threads of one run; 0 = all cores, at most what the learner uses; with "
                   "2 or more an interval's evaluation and checkpoint overlap the next "
                   "interval's learning (the results are the same bits for every count)"),
      // [env], [env.scenario], [env.kwargs]
      EDGERL_FIELD("env", "env_name", Choice, env.env_name, 0, 0,
                   (schema::Choices{"classic_control"}), training, "environment suite"),
      EDGERL_FIELD("env.scenario", "name", Name, env.scenario_name, 0, 0, {}, training,
                   "environment id, e.g. CartPole-v1 (see `edgerl rollout --help`)"),
      EDGERL_FIELD("env.scenario", "task_name", Name, env.task_name, 0, 0, {}, none,
                   "short task name, as Stoix names it (informational)"),
      EDGERL_FIELD("env.kwargs", "max_episode_steps", Int, env.max_episode_steps, 0, 1 << 30, {},
                   training, "episode time limit; 0 = Gymnasium's"),
      // [logger]
      EDGERL_FIELD("logger", "base_exp_path", String, logger.base_exp_path, 0, 0, {}, none,
                   "folder that holds run folders and checkpoints"),
      EDGERL_FIELD("logger.loggers.console", "enabled", Bool, logger.console.enabled, 0, 0, {},
                   none, "print one line per event"),
      EDGERL_FIELD("logger.loggers.console", "progress", Choice, logger.console.progress, 0, 0,
                   (schema::Choices{"auto", "always", "never"}), none,
                   "live progress bar (auto = only on a terminal)"),
      EDGERL_FIELD("logger.loggers.console", "colour", Choice, logger.console.colour, 0, 0,
                   (schema::Choices{"auto", "always", "never"}), none,
                   "ANSI colour (auto = only on a terminal)"),
      EDGERL_FIELD("logger.loggers.csv", "enabled", Bool, logger.csv.enabled, 0, 0, {}, none,
                   "one CSV file per event kind in the run folder"),
      EDGERL_FIELD("logger.loggers.tensorboard", "enabled", Bool, logger.tensorboard.enabled, 0, 0,
                   {}, none, "TensorBoard event file in the run folder"),
      // [logger.checkpointing]
      EDGERL_FIELD("logger.checkpointing", "save_model", Bool, checkpointing.save_model, 0, 0, {},
                   none, "save checkpoints during training"),
      EDGERL_FIELD("logger.checkpointing", "load_model", Bool, checkpointing.load_model, 0, 0, {},
                   none, "resume from a checkpoint (see load_args)"),
      EDGERL_FIELD("logger.checkpointing", "model_name", OptName, checkpointing.model_name, 0, 0,
                   {}, none, "checkpoint folder name; empty = system_name"),
      EDGERL_FIELD("logger.checkpointing.save_args", "save_interval_steps", Int,
                   checkpointing.save_args.save_interval_steps, lo(S::kSaveIntervalRange),
                   hi(S::kSaveIntervalRange), {}, none,
                   "save on every Nth evaluation step (and always at the last)"),
      EDGERL_FIELD("logger.checkpointing.save_args", "max_to_keep", Int,
                   checkpointing.save_args.max_to_keep, lo(S::kMaxToKeepRange),
                   hi(S::kMaxToKeepRange), {}, none, "keep the N newest checkpoints"),
      EDGERL_FIELD("logger.checkpointing.save_args", "keep_period", Int,
                   checkpointing.save_args.keep_period, lo(S::kKeepPeriodRange),
                   hi(S::kKeepPeriodRange), {}, none,
                   "also keep every Kth evaluation step forever; 0 = off"),
      EDGERL_FIELD("logger.checkpointing.save_args", "keep_best", Int,
                   checkpointing.save_args.keep_best, lo(S::kKeepBestRange), hi(S::kKeepBestRange),
                   {}, none, "also keep the M best by episode_return; 0 = off"),
      EDGERL_FIELD("logger.checkpointing.save_args", "checkpoint_uid", OptName,
                   checkpointing.save_args.checkpoint_uid, 0, 0, {}, none,
                   "run id (folder name); empty = a timestamp chosen at start"),
      EDGERL_FIELD("logger.checkpointing.save_args", "rel_dir", Name,
                   checkpointing.save_args.rel_dir, 0, 0, {}, none,
                   "checkpoint folder under base_exp_path"),
      EDGERL_FIELD("logger.checkpointing.save_args", "compression_level", Int,
                   checkpointing.save_args.compression_level, lo(S::kCompressionRange),
                   hi(S::kCompressionRange), {}, none, "zlib level per tensor; 0 = stored raw"),
      EDGERL_FIELD("logger.checkpointing.save_args", "min_free_bytes", Int,
                   checkpointing.save_args.min_free_bytes, lo(S::kMinFreeRange),
                   hi(S::kMinFreeRange), {}, none,
                   "do not save when less than this would remain free"),
      EDGERL_FIELD("logger.checkpointing.save_args", "on_save_error", Choice,
                   checkpointing.save_args.on_save_error, 0, 0,
                   schema::Choices(std::vector<const char*>(std::begin(S::kOnSaveError),
                                                            std::end(S::kOnSaveError))),
                   none, "after a failed save: warn and keep training, or stop (exit status 3)"),
      EDGERL_FIELD("logger.checkpointing.load_args", "checkpoint_uid", OptName,
                   checkpointing.load_args.checkpoint_uid, 0, 0, {}, none,
                   "run to resume; empty = the newest run of this model_name"),
      EDGERL_FIELD("logger.checkpointing.load_args", "rel_dir", Name,
                   checkpointing.load_args.rel_dir, 0, 0, {}, none,
                   "checkpoint folder under base_exp_path"),
      EDGERL_FIELD("logger.checkpointing.load_args", "load_step", Int,
                   checkpointing.load_args.load_step, lo(LoadArgs::kLoadStepRange),
                   hi(LoadArgs::kLoadStepRange), {}, none,
                   "evaluation step to load; -1 = the newest that verifies"),
  };
  return kFields;
}

#undef EDGERL_FIELD

const char* kBuiltinConfigs[][2] = {
#include "builtin_configs.inc"
};

// The sections a learner's rows live in: [system] (but system_name) and [network.*].
bool learner_section(const std::string& section) {
  return section == "system" || section.rfind("network.", 0) == 0;
}

// One row of a config with the object it reads from: Config itself or the learner's struct.
struct Bound {
  const Field* field;
  void* owner;
};

// Every row of `cfg` in to_ini order: [system] (system_name, then the learner's keys), [arch],
// [env.*], the learner's [network.*], then [logger.*].
std::vector<Bound> rows_of(Config& cfg) {
  std::vector<Bound> out;
  const LearnerDef* def = find_learner(cfg.system.system_name);
  const std::vector<Field>* learner =
      def && cfg.system.params.data() ? &learner_fields(*def) : nullptr;
  auto add_learner = [&](bool network) {
    if (!learner) return;
    for (const Field& f : *learner)
      if ((std::string(f.section) != "system") == network)
        out.push_back({&f, cfg.system.params.data()});
  };
  bool networks_done = false;
  for (const Field& f : config_fields()) {
    if (!networks_done && std::string(f.section).rfind("logger", 0) == 0) {
      add_learner(true);
      networks_done = true;
    }
    out.push_back({&f, &cfg});
    if (std::string(f.key) == "system_name") add_learner(false);
  }
  return out;
}

std::vector<std::string> all_sections() {
  std::vector<std::string> out;
  auto add = [&](const char* s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const Field& f : config_fields()) add(f.section);
  for (const LearnerDef* d : learner_defs())
    for (const Field& f : learner_fields(*d)) add(f.section);
  return out;
}

std::vector<std::string> all_key_names() {
  std::vector<std::string> out;
  for (const Field& f : config_fields()) out.push_back(schema::full_name(f));
  for (const LearnerDef* d : learner_defs())
    for (const Field& f : learner_fields(*d)) {
      const std::string n = schema::full_name(f);
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  return out;
}

const Field* find_in(const std::vector<Field>& fields, const std::string& section,
                     const std::string& key) {
  for (const Field& f : fields)
    if (section == f.section && key == f.key) return &f;
  return nullptr;
}

// The learners that have the key, as "ff_ppo, ff_ppo_continuous".
std::string learners_with(const std::string& section, const std::string& key) {
  std::string out;
  for (const LearnerDef* d : learner_defs())
    if (find_in(learner_fields(*d), section, key))
      out += (out.empty() ? "" : ", ") + std::string(d->name);
  return out;
}

bool known_key(const std::string& section, const std::string& key) {
  if (find_in(config_fields(), section, key)) return true;
  return !learners_with(section, key).empty();
}

std::string unknown_key_message(const std::string& name) {
  return "unknown key " + printable(name) + did_you_mean(name, all_key_names());
}

// One `key = value` of a file or an override, with where it came from and its level: base
// files are below the file that includes them, overrides above every file.
struct Entry {
  std::string section, key, value;
  std::string where;  // "file:line: " or "override 'text': "
  int level;
};

constexpr int kTopFileLevel = 1000;
constexpr int kOverrideLevel = 1 << 20;

// ---- INI parsing ---------------------------------------------------------------------------

struct ParseState {
  std::string name;
  const char* cursor;
  int line = 0;
  std::vector<std::pair<int, std::array<std::string, 3>>> entries;  // line, section/key/value
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
                  std::to_string(size - 2) + " characters";
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
  // `[ arch ]` is [arch], as the section check above reads it.
  st->entries.push_back({st->line, {trim(section), name, value ? value : ""}});
  return 1;
}

std::string read_file(const std::string& path) {
  std::string text;
  const Status st = read_file_to_string(posix_fs(), path, &text, uint64_t{1} << 24);
  if (!st.ok()) throw ConfigError("cannot read config file " + st.message());
  return text;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string canonical(const std::string& path) {
  char buf[4096];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

// Collects the entries of a file chain and the overrides, then resolves them into a Config:
// Config's own keys in order, then the chosen learner's keys onto its defaults.
class Loader {
 public:
  // allow_base: `base =` lines may name other files (not in a resolved config: the one stored
  // in a checkpoint must not read files of the machine that opens it).
  explicit Loader(bool allow_base = true) : allow_base_(allow_base) {}
  void add_text(const std::string& text, const std::string& name, const std::string& base_dir,
                std::vector<std::string>& chain, int level);
  void add_override(const std::string& text);
  Config finish();

 private:
  void add_base(const std::string& ref, const std::string& where, const std::string& base_dir,
                std::vector<std::string>& chain, int level);
  std::vector<Entry> entries_;
  bool allow_base_;
};

// Loads `base = ...` (a file relative to the including file, else a built-in config).
void Loader::add_base(const std::string& value, const std::string& where,
                      const std::string& base_dir, std::vector<std::string>& chain, int level) {
  if (!allow_base_)
    throw ConfigError(where + "base = in a resolved config (it holds every key itself)");
  std::string ref = trim(value);
  if (ref.empty()) throw ConfigError(where + "base = needs a file name");
  const std::string builtin = "builtin:";  // as --config takes it
  const bool builtin_only = ref.rfind(builtin, 0) == 0;
  if (builtin_only) ref = ref.substr(builtin.size());
  const std::string path = ref[0] == '/' ? ref : base_dir + "/" + ref;
  std::string id, text, dir, name;
  struct stat st {};
  if (!builtin_only && ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw ConfigError(where + "base = " + ref + ": not a regular file (" + path + ")");
  } else if (!builtin_only && file_exists(path)) {
    id = canonical(path);
    text = read_file(path);
    dir = dir_name(path);
    name = path;
    if (std::find(chain.begin(), chain.end(), id) != chain.end())
      throw ConfigError(where + "base = " + ref + " forms a cycle (" + path + " includes itself)");
  } else if (!(text = builtin_config_text(ref)).empty()) {
    id = "builtin:" + ref;
    dir = base_dir;
    name = "<built-in " + ref + ">";
    if (std::find(chain.begin(), chain.end(), id) != chain.end())
      throw ConfigError(where + "base = " + ref + " forms a cycle");
  } else if (builtin_only) {
    throw ConfigError(where + "base = builtin:" + ref + ": no such built-in config");
  } else {
    throw ConfigError(where + "base = " + ref + ": no such file (" + path + ") or built-in config");
  }
  chain.push_back(id);
  add_text(text, name, dir, chain, level - 1);
  chain.pop_back();
}

void Loader::add_text(const std::string& text, const std::string& name, const std::string& base_dir,
                      std::vector<std::string>& chain, int level) {
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

  const std::vector<std::string> sections = all_sections();
  for (const auto& s : st.sections)
    if (std::find(sections.begin(), sections.end(), s.second) == sections.end())
      throw ConfigError(name + ":" + std::to_string(s.first) + ": unknown section [" + s.second +
                        "]" + did_you_mean(s.second, sections));

  std::set<std::string> seen;
  for (size_t i = 0; i < st.entries.size(); ++i) {
    const auto& [line, e] = st.entries[i];
    const std::string& section = e[0];
    const std::string& key = e[1];
    const std::string where = name + ":" + std::to_string(line) + ": ";
    if (section.empty()) {
      if (key != "base")
        throw ConfigError(where + "key '" + key +
                          "' outside a section (only base = FILE may stand there)");
      if (i != 0) throw ConfigError(where + "base = must come before every other key");
      add_base(e[2], where, base_dir, chain, level);
      continue;
    }
    const std::string full = section + "." + key;
    if (!known_key(section, key)) throw ConfigError(where + unknown_key_message(full));
    if (!seen.insert(full).second) throw ConfigError(where + full + " is set twice in this file");
    entries_.push_back({section, key, e[2], where, level});
  }
}

void Loader::add_override(const std::string& text) {
  const size_t eq = text.find('=');
  const std::string where = "override '" + printable(text) + "': ";
  if (eq == std::string::npos) throw ConfigError(where + "expected section.key=value");
  const std::string name = trim(text.substr(0, eq));
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
    throw ConfigError(where + "expected section.key=value");
  const std::string section = name.substr(0, dot), key = name.substr(dot + 1);
  if (!known_key(section, key)) throw ConfigError(where + unknown_key_message(name));
  entries_.push_back({section, key, text.substr(eq + 1), where, kOverrideLevel});
}

Config Loader::finish() {
  Config cfg;
  int learner_level = -1;  // where system_name was last set (-1: the default)
  std::string learner_where;
  std::vector<const Entry*> learner_entries;
  for (const Entry& e : entries_) {
    const Field* f = find_in(config_fields(), e.section, e.key);
    if (!f) {
      learner_entries.push_back(&e);
      continue;
    }
    const std::string err = schema::set(*f, &cfg, e.value);
    if (!err.empty()) throw ConfigError(e.where + err);
    if (f->get(&cfg) == &cfg.system.system_name) learner_level = e.level, learner_where = e.where;
  }
  const LearnerDef& def = *find_learner(cfg.system.system_name);
  cfg.system.params = def.defaults();
  for (const Entry* e : learner_entries) {
    const Field* f = find_in(learner_fields(def), e->section, e->key);
    if (!f) {
      if (e->level < learner_level) continue;  // inherited from a config of another learner
      throw ConfigError(e->where + e->section + "." + e->key + " is not a key of " + def.name +
                        " (it is a key of " + learners_with(e->section, e->key) + ")");
    }
    const std::string err = schema::set(*f, cfg.system.params.data(), e->value);
    if (!err.empty()) throw ConfigError(e->where + err);
  }
  return cfg;
}

// The longest line the INI reader takes (inih's INI_MAX_LINE, as Debian's library was built),
// minus the newline and the terminating NUL: what one `key = value` line of to_ini may hold.
size_t max_ini_line() {
  static const size_t kMax = [] {
    int size = 0;
    auto probe = [](char*, int n, void* stream) -> char* {
      *static_cast<int*>(stream) = n;
      return nullptr;
    };
    ini_parse_stream(
        probe, &size, [](void*, const char*, const char*, const char*) { return 1; }, nullptr);
    return size > 2 ? static_cast<size_t>(size - 2) : size_t{198};
  }();
  return kMax;
}

}  // namespace

Config::Config() {
  system.params = find_learner(system.system_name)->defaults();
}

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
  const std::string where = "override '" + printable(text) + "': ";
  if (eq == std::string::npos) throw ConfigError(where + "expected section.key=value");
  const std::string name = trim(text.substr(0, eq));
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
    throw ConfigError(where + "expected section.key=value");
  const std::string section = name.substr(0, dot), key = name.substr(dot + 1);
  if (!known_key(section, key)) throw ConfigError(where + unknown_key_message(name));
  for (const Bound& b : rows_of(cfg)) {
    if (section != b.field->section || key != b.field->key) continue;
    const std::string before = cfg.system.system_name;
    const std::string err = schema::set(*b.field, b.owner, text.substr(eq + 1));
    if (!err.empty()) throw ConfigError(where + err);
    if (cfg.system.system_name != before)
      cfg.system.params = find_learner(cfg.system.system_name)->defaults();
    return;
  }
  throw ConfigError(where + name + " is not a key of " + cfg.system.system_name +
                    " (it is a key of " + learners_with(section, key) + ")");
}

Config load_config_text(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides, const std::string& base_dir) {
  Loader loader;
  std::vector<std::string> chain{name};
  loader.add_text(text, name, base_dir, chain, kTopFileLevel);
  for (const auto& o : overrides) loader.add_override(o);
  Config cfg = loader.finish();
  cfg.origin = name;
  validate(cfg);
  return cfg;
}

Config load_resolved_config(const std::string& text, const std::string& name) {
  Loader loader(false);
  std::vector<std::string> chain{name};
  loader.add_text(text, name, ".", chain, kTopFileLevel);
  Config cfg = loader.finish();
  cfg.origin = name;
  validate(cfg);
  return cfg;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (!file_exists(path)) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) throw ConfigError(path + ": not a regular file");
    throw ConfigError(path + ": no such config file");
  }
  const std::string text = read_file(path);
  Loader loader;
  std::vector<std::string> chain{canonical(path)};
  loader.add_text(text, path, dir_name(path), chain, kTopFileLevel);
  for (const auto& o : overrides) loader.add_override(o);
  Config cfg = loader.finish();
  cfg.origin = path;
  validate(cfg);
  return cfg;
}

Config default_config() {
  return load_config_from("", {});
}

Config load_config_from(const std::string& ref, const std::vector<std::string>& overrides) {
  if (ref.empty())
    return load_config_text(builtin_config_text("ppo_cartpole.ini"), "<built-in ppo_cartpole.ini>",
                            overrides);
  const std::string prefix = "builtin:";
  if (ref.rfind(prefix, 0) != 0) return load_config(ref, overrides);
  const std::string name = ref.substr(prefix.size());
  const std::string text = builtin_config_text(name);
  if (text.empty()) {
    std::string names;
    for (const auto& n : builtin_config_names()) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError("no built-in config named '" + name + "' (built in: " + names + ")");
  }
  return load_config_text(text, "<built-in " + name + ">", overrides);
}

std::string to_ini(const Config& cfg_in) {
  Config& cfg = const_cast<Config&>(cfg_in);  // rows_of() only reads through the rows here
  TextOut out;
  out << "; edgerl resolved config (system " << cfg.system.system_name << ")\n";
  std::string section;
  for (const Bound& b : rows_of(cfg)) {
    if (section != b.field->section) {
      section = b.field->section;
      out << (out.empty() ? "" : "\n") << "[" << section << "]\n";
    }
    out << b.field->key << " = " << schema::get(*b.field, b.owner) << "\n";
  }
  return out.str();
}

std::string config_value(const Config& cfg_in, const std::string& name) {
  Config& cfg = const_cast<Config&>(cfg_in);
  for (const Bound& b : rows_of(cfg))
    if (schema::full_name(*b.field) == name) return schema::get(*b.field, b.owner);
  throw ConfigError(known_key(name.substr(0, name.rfind('.')), name.substr(name.rfind('.') + 1))
                        ? name + " is not a key of " + cfg.system.system_name
                        : unknown_key_message(name));
}

std::vector<ConfigDifference> config_differences(const Config& a_in, const Config& b_in) {
  Config& a = const_cast<Config&>(a_in);
  Config& b = const_cast<Config&>(b_in);
  std::vector<ConfigDifference> out;
  const bool same_learner = a.system.system_name == b.system.system_name;
  const std::vector<Bound> ra = rows_of(a), rb = rows_of(b);
  for (size_t i = 0; i < ra.size(); ++i) {
    const Field& f = *ra[i].field;
    if (!same_learner && learner_section(f.section) && std::string(f.key) != "system_name")
      continue;  // another learner: system_name says it
    const Bound* other = nullptr;
    for (const Bound& x : rb)
      if (x.field == ra[i].field) other = &x;
    if (!other) continue;
    const std::string va = schema::get(f, ra[i].owner), vb = schema::get(f, other->owner);
    if (va != vb) out.push_back({schema::full_name(f), va, vb, f.effect});
  }
  return out;
}

bool is_config_key(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot != std::string::npos && known_key(name.substr(0, dot), name.substr(dot + 1));
}

bool is_list_key(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string section = name.substr(0, dot), key = name.substr(dot + 1);
  if (const Field* f = find_in(config_fields(), section, key)) return f->kind == Kind::IntList;
  for (const LearnerDef* d : learner_defs())
    if (const Field* f = find_in(learner_fields(*d), section, key)) return f->kind == Kind::IntList;
  return false;
}

std::string config_reference_markdown() {
  const char* effect_names[] = {"training", "length", "evaluation", "—"};
  auto table_head = [](TextOut& out) {
    out << "| key | default | allowed | changes | meaning |\n| --- | --- | --- | --- | --- |\n";
  };
  auto row = [&](TextOut& out, const Field& f, const void* owner) {
    const std::string def = schema::get(f, owner);
    out << "| `" << f.key << "` | `" << (def.empty() ? " " : def) << "` | " << schema::allowed(f)
        << " | " << effect_names[static_cast<int>(f.effect)] << " | " << f.doc << " |\n";
  };
  const Config defaults;
  TextOut out;
  out << "# Config reference\n\n"
      << "Generated by `edgerl config --doc` from the schema (src/config/config.cpp and each\n"
      << "learner's file in src/learners/); a test keeps this file equal to that output. Sections\n"
      << "mirror Stoix's config tree. Set a key in an INI file or on the command line as\n"
      << "`section.key=value`. A file may start with `base = other.ini` (a path relative to the\n"
      << "file, or a built-in config name, also as `builtin:NAME`) to inherit from it; later\n"
      << "values win, and command-line overrides win over every file, whatever their order.\n"
      << "Unknown sections or keys, values of the wrong type and values out of range are errors\n"
      << "(exit status 2).\n"
      << "Defaults below are the schema's; the built-in configs in configs/ set their own values\n"
      << "on top. Text values are one line without `;` or control characters, and a whole\n"
      << "`key = value` line holds at most " << max_ini_line()
      << " characters (the INI reader's limit), so that\n"
      << "the config stored in every checkpoint always reads back.\n\n"
      << "`[system]` and `[network.*]` belong to the learner that `system.system_name` chooses:\n"
      << "each learner's keys are listed in its own section below. A key of another learner is\n"
      << "an error, except when it is inherited from a `base =` file below the file that chose\n"
      << "the learner (then it is dropped).\n\n"
      << "The *changes* column says what a different value changes: *training* (what training\n"
      << "computes: a resumed run with another value is another run), *length* (how long it\n"
      << "runs), *evaluation* (what evaluation measures and logs) or nothing the learner\n"
      << "computes (—: logging, checkpoint rotation, paths).\n";
  std::string section;
  for (const Field& f : config_fields()) {
    if (section != f.section) {
      section = f.section;
      out << "\n## [" << section << "]\n\n";
      table_head(out);
    }
    row(out, f, &defaults);
  }
  for (const LearnerDef* d : learner_defs()) {
    const LearnerParams p = d->defaults();
    out << "\n## Learner `" << d->name << "`\n\n" << d->summary << "\n";
    section.clear();
    for (const Field& f : learner_fields(*d)) {
      if (section != f.section) {
        section = f.section;
        out << "\n### [" << section << "]\n\n";
        table_head(out);
      }
      row(out, f, p.data());
    }
  }
  return out.str();
}

void validate(const Config& cfg) {
  for (const Bound& b : rows_of(const_cast<Config&>(cfg))) {
    const std::string value = schema::get(*b.field, b.owner);
    const size_t line = std::strlen(b.field->key) + 3 + value.size();
    if (line > max_ini_line())
      throw ConfigError(
          schema::full_name(*b.field) + " is " + std::to_string(value.size()) +
          " characters long, but a config line holds at most " + std::to_string(max_ini_line()) +
          " (its key and value included), so " +
          "the config stored with each checkpoint could not be read back: shorten it");
  }
  const auto& a = cfg.arch;
  if (a.num_updates != 0 && a.num_updates < a.num_evaluation)
    throw ConfigError("arch.num_updates = " + std::to_string(a.num_updates) +
                      " is less than arch.num_evaluation = " + std::to_string(a.num_evaluation));
  const LearnerDef* def = find_learner(cfg.system.system_name);
  if (!def)
    throw ConfigError("system.system_name = " + cfg.system.system_name + " is not a known system");
  if (!cfg.system.params.data())
    throw ConfigError("the config holds no values for " + cfg.system.system_name);
  check_environment(*def, cfg);
  def->validate(cfg);
}

std::string model_name(const Config& cfg) {
  return cfg.checkpointing.model_name.empty() ? cfg.system.system_name
                                              : cfg.checkpointing.model_name;
}

}  // namespace edgerl
