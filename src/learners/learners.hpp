// learners: what the learners share besides the registry: the counter bookkeeping.
#pragma once

#include <cstdint>

#include "edgerl/system.hpp"

namespace edgerl {

// "counters/timestep", "counters/update", "counters/eval_step" (i64 scalars).
void append_counter_tensors(Counters& counters, TensorList& out);
// Throws std::runtime_error when restored counters cannot come from a real run.
void check_counters(const Counters& counters, int64_t steps_per_update);

}  // namespace edgerl
