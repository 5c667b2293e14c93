// sweep: many training runs from one command: a grid of config values times a list of seeds,
// each run with a stable, readable id and a run folder of its own under one sweep folder, a
// manifest (sweep.ini) that lists them, their states read back from their folders, and the
// statistics of a report across seeds. Running them (processes, Slurm) is the CLI's job
// (src/cli/cmd_sweep.cpp); this module only knows configs, files and numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/io.hpp"

namespace edgerl {

struct SweepSpec {
  std::string config;           // the --config value ("" = the built-in default)
  std::vector<uint64_t> seeds;  // empty: the config's own arch.seed, one run per point
  struct Axis {
    std::string key;                  // "system.actor_lr"
    std::vector<std::string> values;  // "3e-4", "1e-3"; a list key's values without brackets
  };
  std::vector<Axis> axes;              // in the order given
  std::vector<std::string> overrides;  // the same for every run
  std::string out;                     // the sweep folder: base_exp_path of every run
};

struct SweepRun {
  size_t index = 0;
  std::string id;     // "actor_lr=3e-4,seed=3": its checkpoint_uid and folder name
  std::string point;  // "actor_lr=3e-4": the grid point (id without the seed)
  uint64_t seed = 0;
  // The run's overrides after spec.overrides: its grid values, arch.seed,
  // logger.base_exp_path and logger.checkpointing.save_args.checkpoint_uid.
  std::vector<std::string> overrides;
};

// Splits `section.key=v1,v2,...` into a grid axis when it has several values: commas separate
// the values of a scalar key; a list key's values are bracketed ([64,64],[128,128]), a single
// unbracketed list is one value. Returns false for a plain override (one value).
bool parse_grid_override(const std::string& text, SweepSpec::Axis* axis);
// The most runs one sweep may have (its grid points times its seeds).
constexpr size_t kMaxSweepRuns = 100000;

// "1-10", "1,3,5", "1-3,7": the seeds (at most kMaxSweepRuns, each once); throws ConfigError.
std::vector<uint64_t> parse_seeds(const std::string& text);

// Every run of the grid times the seeds, in a fixed order (axes in the order given, the first
// slowest, seeds fastest). Each run's config is loaded and validated here, so a bad value fails
// the whole sweep before anything runs (ConfigError naming the run). More than kMaxSweepRuns
// runs are refused (ConfigError).
std::vector<SweepRun> expand_sweep(const SweepSpec& spec);
// The config of one run.
Config load_run_config(const SweepSpec& spec, const SweepRun& run);

// <out>/sweep.ini: the spec and every run. read_sweep_manifest throws RunError for a missing
// or unreadable manifest.
std::string sweep_manifest_text(const SweepSpec& spec, const std::vector<SweepRun>& runs);
void write_sweep_manifest(FileSystem& fs, const SweepSpec& spec, const std::vector<SweepRun>& runs);
struct SweepManifest {
  SweepSpec spec;
  std::vector<SweepRun> runs;
};
SweepManifest read_sweep_manifest(FileSystem& fs, const std::string& dir);

// Where a run stands, read from its folders (never from a process table).
struct SweepRunState {
  // damaged: its summary.ini is not a run summary (training again rewrites it).
  enum Kind { pending, running, resumable, done, failed, damaged } kind = pending;
  int64_t timesteps = 0;   // of the newest checkpoint, or the summary's
  double last_return = 0;  // the last evaluation's episode_return_mean (NaN if none)
  bool has_return = false;
  double final_return = 0, final_return_std = 0;  // summary.ini (done)
  double absolute_return = 0, absolute_return_std = 0;
  double wall_seconds = 0;
  int exit_status = -1;  // the last recorded exit status (<out>/status/<id>), -1 if none
  std::string run_dir;   // the log folder
  std::string problem;   // one line saying what is wrong with its summary.ini, or ""
};
const char* state_name(SweepRunState::Kind kind);
SweepRunState read_run_state(FileSystem& fs, const SweepSpec& spec, const SweepRun& run);
// <out>/status/<id>: the exit status of the run's last process (written by whoever ran it).
void write_run_exit_status(FileSystem& fs, const std::string& out, const std::string& id,
                           int status);

// Statistics across seeds: numpy's mean, population std, median, and the interquartile mean
// (the mean of the middle half, by the interpolation rliable uses: scipy.stats.trim_mean with
// proportiontocut 0.25).
struct SeedStats {
  size_t n = 0;
  double mean = 0, std = 0, median = 0, iqm = 0;  // NaN when there are no values
};
SeedStats seed_stats(std::vector<double> values);

}  // namespace edgerl
