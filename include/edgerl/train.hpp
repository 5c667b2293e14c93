// train: the learn -> evaluate -> log -> checkpoint loop of Stoix's Anakin systems, run
// num_evaluation times, with resume from a checkpoint, the final absolute-metric evaluation
// and the run summary (stdout line and <run folder>/summary.ini).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/config.hpp"
#include "edgerl/error.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

struct TrainOptions {
  FILE* out = stdout;  // event lines, progress and the summary line
  FILE* err = stderr;  // warnings (one line each)
};

struct TrainSummary {
  double episode_return_mean = 0;  // last evaluation
  double episode_return_std = 0;
  double absolute_episode_return_mean = 0;  // NaN without arch.absolute_metric
  double absolute_episode_return_std = 0;
  int64_t timesteps = 0;
  double wall_seconds = 0;
  double steps_per_second = 0;  // training steps of this process per wall second
  int64_t start_eval_step = 0;  // > 0 when resumed
  std::string run_dir;          // logger run folder
  std::string checkpoint_dir;   // empty when not saving
  bool save_failed = false;     // stopped because a save failed with on_save_error = abort
};

// A run that cannot start or go on: a missing or damaged checkpoint to resume, a run folder
// that cannot be used. what() is one line naming the file and what to do.
struct RunError : Error {
  using Error::Error;
};

// The evaluator's options from a config (arch.seed, arch.evaluation_greedy, env).
EvalOptions eval_options(const Config& cfg);

// Trains as configured. Throws ConfigError for an unusable config and RunError for missing or
// damaged checkpoints and unusable run folders.
TrainSummary train(const Config& cfg, const TrainOptions& options = {});

// A learner restored from one checkpoint file, built from the config stored in that file.
struct RestoredSystem {
  Config config;
  CheckpointInfo info;
  std::unique_ptr<System> system;
};
// Throws RunError when the file cannot be read, its config is unusable or its state impossible.
RestoredSystem restore_system(FileSystem& fs, const std::string& path);

}  // namespace edgerl
