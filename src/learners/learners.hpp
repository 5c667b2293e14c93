// algos: the learning systems behind make_system() (one file each in src/algos/), and the
// counter bookkeeping they share.
#pragma once

#include <memory>

#include "edgerl/config.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

std::unique_ptr<System> make_ff_ppo(const Config& cfg);  // ff_ppo and ff_ppo_continuous
std::unique_ptr<System> make_ff_dqn(const Config& cfg);

// "counters/timestep", "counters/update", "counters/eval_step" (i64 scalars).
void append_counter_tensors(Counters& counters, TensorList& out);
// Throws std::runtime_error when restored counters cannot come from a real run.
void check_counters(const Counters& counters, int64_t steps_per_update);

}  // namespace edgerl
