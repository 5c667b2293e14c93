// learners/registry: every learning system edgerl knows, each defined in its own file
// (src/learners/ff_*.cpp) and listed once in registry.cpp. A definition carries everything
// about a learner that is not the learning itself: its name, its config struct's rows (the
// [system] keys and [network.*] sections), its defaults, its cross-field checks and its
// factory. The config module reads the rows; make_system() calls the factory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "edgerl/config.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

struct LearnerDef {
  const char* name;     // system.system_name
  const char* summary;  // one line for the reference and `edgerl --help`
  // Rows on the learner's struct ("system" and "network.*" sections; the owner is the struct
  // inside SystemConfig::params).
  std::vector<schema::Field> (*fields)();
  LearnerParams (*defaults)();
  // Checks that span keys (the single-key ranges are in the rows). Throws ConfigError.
  void (*validate)(const Config& cfg);
  // The kind of actions it takes: discrete (Gymnasium's Discrete) or continuous (a Box).
  bool discrete_actions;
  // Throws ConfigError for a config the learner cannot run (e.g. continuous actions for a
  // discrete learner).
  std::unique_ptr<System> (*make)(const Config& cfg);
};

// Throws ConfigError unless env.scenario.name is a known environment whose actions are of the
// kind the learner takes (validate() and make_system() both ask).
void check_environment(const LearnerDef& def, const Config& cfg);

// In registration order.
const std::vector<const LearnerDef*>& learner_defs();
// Null when no learner has that name.
const LearnerDef* find_learner(const std::string& name);
// The rows of a learner (cached: fields() is called once per learner).
const std::vector<schema::Field>& learner_fields(const LearnerDef& def);

}  // namespace edgerl
