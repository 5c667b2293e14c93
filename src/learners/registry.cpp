#include <stdexcept>
#include <string>

#include "learners/learners.hpp"

namespace edgerl {

std::unique_ptr<System> make_system(const Config& cfg) {
  const std::string& name = cfg.system.system_name;
  if (name == "ff_ppo" || name == "ff_ppo_continuous") return make_ff_ppo(cfg);
  if (name == "ff_dqn") return make_ff_dqn(cfg);
  throw ConfigError("system.system_name = " + name + " is not a known system");
}

void append_counter_tensors(Counters& c, TensorList& out) {
  out.push_back(tensor_ref("counters/timestep", &c.timestep, {}));
  out.push_back(tensor_ref("counters/update", &c.update, {}));
  out.push_back(tensor_ref("counters/eval_step", &c.eval_step, {}));
}

void check_counters(const Counters& c, int64_t steps_per_update) {
  if (c.timestep < 0 || c.update < 0 || c.eval_step < 0)
    throw std::runtime_error("counters are negative");
  if (steps_per_update > 0 && c.timestep != c.update * steps_per_update)
    throw std::runtime_error("counters/timestep = " + std::to_string(c.timestep) +
                             " does not match counters/update = " + std::to_string(c.update) +
                             " updates of " + std::to_string(steps_per_update) + " steps");
}

}  // namespace edgerl
