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

// The calling thread's CPU time in seconds (user and system), 0 where the OS has no such
// clock: what a background thread's work costs the machine, apart from its waits.
double thread_cpu_seconds();

struct Clock {
  WallClock wall = system_wall_clock;
  MonotonicClock monotonic = system_monotonic_clock;
};

}  // namespace edgerl
