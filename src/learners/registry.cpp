// The list of learners, and make_system(). To add a learner: write src/learners/ff_<name>.cpp
// with its config struct, rows, checks and factory in a LearnerDef, then add it to the two
// lines below (and to src/sources.txt).
#include "learners/registry.hpp"

#include "edgerl/envs.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

namespace edgerl {
namespace learners {
extern const LearnerDef ff_ppo, ff_ppo_continuous, ff_dqn, ff_sac, ff_td3, ff_ddpg;
}  // namespace learners

const std::vector<const LearnerDef*>& learner_defs() {
  static const std::vector<const LearnerDef*> kDefs = {
      &learners::ff_ppo, &learners::ff_ppo_continuous,
      &learners::ff_dqn, &learners::ff_sac,
      &learners::ff_td3, &learners::ff_ddpg};
  return kDefs;
}

const LearnerDef* find_learner(const std::string& name) {
  for (const LearnerDef* d : learner_defs())
    if (name == d->name) return d;
  return nullptr;
}

const std::vector<schema::Field>& learner_fields(const LearnerDef& def) {
  static std::mutex mutex;
  static std::map<const LearnerDef*, std::vector<schema::Field>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(&def);
  if (it == cache.end()) it = cache.emplace(&def, def.fields()).first;
  return it->second;
}

void check_environment(const LearnerDef& def, const Config& cfg) {
  bool discrete = false;
  try {
    discrete = env_info(cfg.env.scenario_name).discrete;
  } catch (const EnvError& e) {
    throw ConfigError(std::string("env.scenario.name: ") + e.what());
  }
  if (discrete == def.discrete_actions) return;
  std::string others;
  for (const LearnerDef* d : learner_defs())
    if (d->discrete_actions == discrete)
      others += (others.empty() ? "" : ", ") + std::string(d->name);
  const char* have = discrete ? "discrete" : "continuous";
  throw ConfigError(std::string("system.system_name = ") + def.name + " needs " +
                    (def.discrete_actions ? "discrete" : "continuous") + " actions, but " +
                    cfg.env.scenario_name + " has " + have + " actions (" + have +
                    " actions: " + others + ")");
}

std::unique_ptr<System> make_system(const Config& cfg) {
  const LearnerDef* def = find_learner(cfg.system.system_name);
  if (!def)
    throw ConfigError("system.system_name = " + cfg.system.system_name + " is not a known system");
  check_environment(*def, cfg);
  try {
    return def->make(cfg);
  } catch (const EnvError& e) {
    throw ConfigError(e.what());
  }
}

std::vector<std::string> learner_names() {
  std::vector<std::string> out;
  for (const LearnerDef* d : learner_defs()) out.push_back(d->name);
  return out;
}

}  // namespace edgerl
