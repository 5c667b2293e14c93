// clock: the two clocks edgerl reads, injectable so that tests can make a run's timestamps
// and durations fixed. Nothing that training computes depends on either.
#pragma once

#include <functional>

namespace edgerl {

// Seconds since the Unix epoch: log rows' wall_time, checkpoint times, timestamp run ids.
using WallClock = std::function<double()>;
double system_wall_clock();

// Seconds from an arbitrary start that never goes back: durations and speeds.
using MonotonicClock = std::function<double()>;
double system_monotonic_clock();

struct Clock {
  WallClock wall = system_wall_clock;
  MonotonicClock monotonic = system_monotonic_clock;
};

}  // namespace edgerl
