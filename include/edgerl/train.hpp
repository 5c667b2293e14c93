// train: the learn -> evaluate -> log -> checkpoint loop of Stoix's Anakin systems, run
// num_evaluation times, with resume from a checkpoint, the final absolute-metric evaluation
// and the run summary (stdout line and <run folder>/summary.ini).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "edgerl/config.hpp"

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
  int exit_status = 0;          // 3 when a save failed with on_save_error = abort
};

// Trains as configured. Throws ConfigError / UsageError for bad configs, missing or damaged
// checkpoints and unusable run folders.
TrainSummary train(const Config& cfg, const TrainOptions& options = {});

}  // namespace edgerl
