// What the whole-run benchmarks (bench_train, bench_offpolicy) share: a scratch folder, whole
// training runs with overrides and no output, the best of several, and reading a list value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/train.hpp"

namespace edgerl::bench {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at the end of scope.
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// One training run of cfg with its logs and checkpoints under dir, the overrides applied,
// console and error output discarded.
TrainSummary run(Config cfg, const std::string& dir, const std::vector<std::string>& overrides);

// The run with the shortest wall time of `reps` (other processes share the cores), each in a
// fresh folder.
TrainSummary best_of(int reps, const Config& cfg, const std::vector<std::string>& overrides);

// Overrides that turn off every logger and the checkpoints.
const std::vector<std::string>& quiet();

// A list value as config_value() writes it ("64, 64").
std::vector<int64_t> int_list(const std::string& text);

}  // namespace edgerl::bench
