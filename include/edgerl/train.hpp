// train: the learn -> log -> evaluate -> log -> checkpoint loop of Stoix's Anakin systems, run
// num_evaluation times, with resume from a checkpoint, the final absolute-metric evaluation
// and the run summary (stdout line and <run folder>/summary.ini). Every file it writes goes
// through TrainOptions::fs and every time it reads comes from TrainOptions::clock, so a test
// can run a whole training on a failing disk with a fixed clock.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/clock.hpp"
#include "edgerl/config.hpp"
#include "edgerl/error.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

struct TrainOptions {
  FILE* out = stdout;        // event lines, progress and the summary line
  FILE* err = stderr;        // warnings and notes (one line each)
  FileSystem* fs = nullptr;  // checkpoints, logs, summary, locks; null = posix_fs()
  Clock clock;               // log and checkpoint times, run ids, durations
  // Asked after every update and every evaluation: true = stop at the next point where the
  // whole state can be saved (the CLI's signal flag). Empty: never. With more than one thread
  // (arch.num_threads) the evaluation thread asks it too: it must be thread-safe.
  std::function<bool()> stop_requested;
  // Resume even when the config differs from the checkpoint's in keys that change what
  // training computes: a warning instead of a RunError; the new values are stored.
  bool allow_config_change = false;
};

enum class TrainOutcome {
  finished,          // trained to the end, absolute metric and summary written
  already_finished,  // resumed a run that had finished: nothing trained
  stopped,           // stop_requested: saved (if it could) and resumable
  save_failed,       // a save failed with on_save_error = abort: resumable from the last one
};

// What checkpoints cost this process, as the background saver measured it (zeros without
// checkpoints). Timings are wall-clock seconds.
struct SaveStats {
  int64_t handovers = 0;              // states handed to the saver (due for saving or not)
  double first_handover_seconds = 0;  // the first: the saver copies everything (and allocates)
  // The training thread's time in the hand-overs after the first (waiting for the save in
  // flight, copying what changed), summed, and the longest.
  double handover_seconds = 0;
  double max_handover_seconds = 0;
  int64_t saves = 0;  // checkpoint files written
  // The saver thread's time for them (logs made durable, encode, write, fsyncs, rotation).
  double save_seconds = 0;
  double max_save_seconds = 0;
  // The CPU time the saver thread used for them (its own, kernel included; not the disk's
  // wait): what the saves can take from training on a machine with no core to spare.
  double save_cpu_seconds = 0;
  uint64_t last_bytes = 0;  // the last file's size
};

struct TrainSummary {
  // The last evaluation of this process (the run's final one when it finished); NaN when a
  // run stopped before this process evaluated anything.
  double episode_return_mean = NAN;
  double episode_return_std = NAN;
  double absolute_episode_return_mean = 0;  // NaN without arch.absolute_metric
  double absolute_episode_return_std = 0;
  int64_t absolute_eval_step = -1;  // the evaluation whose policy it measured; -1: the initial
  int64_t timesteps = 0;
  double wall_seconds = 0;
  double steps_per_second = 0;       // training steps of this process per wall second
  uint64_t peak_resident_bytes = 0;  // this process's peak resident memory at the end
  int threads = 1;                   // the learner's threads (arch.num_threads, capped)
  int64_t steps_alone = 0;           // gradient steps run on one of them (System::steps_alone)
  int64_t steps_guarded = 0;         // of this many that could have run on two
  int64_t start_eval_step = 0;       // > 0 when resumed
  std::string run_dir;               // logger run folder
  std::string checkpoint_dir;        // empty when not saving
  TrainOutcome outcome = TrainOutcome::finished;
  std::string stop_checkpoint;  // stopped: the checkpoint written then (empty if it failed)
  SaveStats saving;
};

// A run that cannot start or go on: a missing or damaged checkpoint to resume, a run folder
// that cannot be used. what() is one line naming the file and what to do.
struct RunError : Error {
  using Error::Error;
};

// The evaluator's options from a config (arch.seed, arch.evaluation_greedy, env).
EvalOptions eval_options(const Config& cfg);

// One training run. The constructor builds the learner, picks the run folders and takes their
// locks, and with checkpointing.load_model resumes: the run named by load_args.checkpoint_uid,
// else the one of save_args.checkpoint_uid, else the newest run of this model; with no
// checkpoint to resume (and no load_args.checkpoint_uid asking for one) it starts a new run.
// run() trains to the end, or until stop_requested or a failed save with on_save_error = abort
// stops it, and returns the summary. Both throw ConfigError for an unusable config and
// RunError for a damaged or missing checkpoint, a changed config (see allow_config_change), a
// run folder in use by another process or one that cannot be used.
class Trainer {
 public:
  explicit Trainer(const Config& cfg, TrainOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;
  TrainSummary run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Trainer(cfg, options).run().
TrainSummary train(const Config& cfg, const TrainOptions& options = {});

// The policy of a run's best evaluation so far: what the absolute metric evaluates at the end
// of the run (Stoix's best_params: the highest mean episode return of an evaluation, the later
// one on ties; before any evaluation, the policy the run started with). The trainer keeps one
// and every checkpoint stores it, as the tensors "best/..." (the policy's own, then
// "best/episode_return" f64 and "best/eval_step" i64, -1 before any evaluation).
class BestPolicy {
 public:
  // A copy of system's policy as it is now, with no evaluation.
  explicit BestPolicy(const System& system);
  // Takes a copy of `policy` (one of the same learner and config) when episode_return is at
  // least the best so far (never when NaN). True when it did.
  bool offer(Policy& policy, double episode_return, int64_t eval_step);
  // Starts again from system's policy as it is now, with no evaluation.
  void reset(const System& system);

  Policy& policy() { return *policy_; }
  double episode_return() const { return episode_return_; }
  int64_t eval_step() const { return eval_step_; }
  // Views of all of it, for saves and restores.
  const TensorList& tensors() const { return tensors_; }
  std::vector<std::string> names() const;

 private:
  std::unique_ptr<Policy> policy_;
  TensorList tensors_;
  double episode_return_;
  int64_t eval_step_ = -1;
};

// After a restore into best.tensors() (with `missing`, the names of them the file lacked):
// applies the file's own evaluation (meta.episode_return at meta.eval_step, which came after
// the file's best policy was taken); a file from before edgerl kept a best policy starts it
// from system's policy. False for such a file. Throws std::runtime_error when the stored best
// cannot be one of this file's run.
bool restore_best(BestPolicy& best, const System& system, const CheckpointMeta& meta,
                  const std::vector<std::string>& missing);

// A learner restored from one checkpoint file, built from the config stored in that file, and
// the run's best policy with the file's own evaluation taken into account (restore_best; from
// a file of before edgerl kept one, the file's own policy).
struct RestoredSystem {
  Config config;
  CheckpointInfo info;
  std::unique_ptr<System> system;
  std::unique_ptr<BestPolicy> best;
};
// Throws RunError when the file cannot be read, its config is unusable or its state impossible.
RestoredSystem restore_system(FileSystem& fs, const std::string& path);

}  // namespace edgerl
