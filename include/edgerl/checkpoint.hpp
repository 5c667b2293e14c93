// checkpoint: saves and restores the whole training state, as Stoix's Checkpointer does, in
// edgerl's own file format (ckpt_format.hpp), through the durable I/O layer (io.hpp).
//
// Files live in <base_exp_path>/<rel_dir>/<model_name>/<checkpoint_uid>/step_<eval_step>.ckpt,
// one per saved evaluation step. A save is one encode into memory, one write, one fsync of the
// file and one of its folder; rotation runs only after the new file is durable. A failed save
// never touches an earlier checkpoint. Restoring fills the caller's tensor views after checking
// every name, dtype and shape, so training continues bit for bit. This module knows nothing of
// what the tensors mean.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/io.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

// An allowed range of an integer setting.
struct IntRange {
  int64_t min, max;
};

// [logger.checkpointing] of the config and its save_args / load_args. The limits are stated
// once here: the config's schema and Checkpointer::open() both check them.
struct SaveArgs {
  static constexpr IntRange kSaveIntervalRange{1, 1 << 30};
  static constexpr IntRange kMaxToKeepRange{1, 1 << 30};
  static constexpr IntRange kKeepPeriodRange{0, 1 << 30};
  static constexpr IntRange kKeepBestRange{0, 1 << 30};
  static constexpr IntRange kCompressionRange{0, 9};
  static constexpr IntRange kMinFreeRange{0, INT64_MAX};
  static constexpr const char* kOnSaveError[] = {"warn", "abort"};
  int64_t save_interval_steps = 1;  // save on every Nth evaluation step (>= 1)
  int64_t max_to_keep = 1;          // keep the N newest (>= 1)
  int64_t keep_period = 0;          // keep every Kth step forever (0 = off)
  int64_t keep_best = 0;            // additionally keep the M best by episode_return
  std::string checkpoint_uid;       // empty = a timestamp chosen at start
  std::string rel_dir = "checkpoints";
  int64_t compression_level = 6;       // zlib level 0..9, 0 = stored raw
  int64_t min_free_bytes = 16 << 20;   // refuse to save below this much free space
  std::string on_save_error = "warn";  // warn (keep training) | abort (stop training)
};

struct LoadArgs {
  static constexpr IntRange kLoadStepRange{-1, INT64_MAX};
  std::string checkpoint_uid;  // empty = newest run of this model_name
  std::string rel_dir = "checkpoints";
  int64_t load_step = -1;  // -1 = newest
};

struct CheckpointConfig {
  bool save_model = true;
  bool load_model = false;
  std::string model_name;  // empty = system.system_name
  SaveArgs save_args;
  LoadArgs load_args;
};

// What the checkpointer uses besides the config; tests replace each.
struct CheckpointerHooks {
  FileSystem* fs = nullptr;                     // null: posix_fs()
  std::function<int64_t()> now_ms;              // Unix time in ms; empty: the system clock
  std::function<void(const std::string&)> log;  // one line per event; empty: stderr
};

struct SaveResult {
  bool saved = false;    // a new checkpoint is durable
  bool skipped = false;  // not due (save_interval_steps) or save_model = false
  bool abort = false;    // the save failed and on_save_error = abort: training must stop
  Status status;         // why the save failed
  std::string path;
  uint64_t bytes = 0;
  uint64_t free_bytes = 0;           // left on the file system after the save
  double seconds = 0;                // encode + write + fsyncs + rotation
  std::vector<std::string> removed;  // rotated away
};

struct RestoreInfo {
  std::string path;
  std::string checkpoint_uid;
  CheckpointMeta meta;                 // timestep, eval_step, episode_return, config, ...
  std::vector<std::string> fell_back;  // newer files that failed verification: "path: why"
};

// One checkpoint file of a run: its header's metadata, or why the header is unreadable.
struct CheckpointEntry {
  std::string path;
  int64_t eval_step = 0;  // from the header, or from the file name when that is unreadable
  uint64_t size = 0;
  size_t num_tensors = 0;
  CheckpointMeta meta;
  Status status;
};

struct RunListing {
  std::string dir;
  std::string checkpoint_uid;                // the folder's name
  std::vector<CheckpointEntry> checkpoints;  // by eval_step, oldest first
  std::vector<std::string> temp_files;       // write_file_atomic temporaries found there
};

// "step_000042.ckpt" for eval step 42, and back.
std::string checkpoint_file_name(int64_t eval_step);
bool parse_checkpoint_file_name(const std::string& name, int64_t* eval_step);

// A run folder's checkpoints (headers checked, data not).
Status list_run(FileSystem& fs, const std::string& run_dir, RunListing* out);
// Every run folder at or below `dir` (up to 4 levels down), sorted by path; folders below
// `dir` that cannot be read are passed over.
Status list_runs(FileSystem& fs, const std::string& dir, std::vector<RunListing>* out);

// Whether `path` is a regular file that starts like a checkpoint (kCkptMagic), whatever
// follows: a damaged or renamed checkpoint is one too. False when it cannot be read.
bool is_checkpoint_file(FileSystem& fs, const std::string& path);
// File-level reading; messages start with the path.
Status read_checkpoint_file_info(FileSystem& fs, const std::string& path, CheckpointInfo* out);
Status verify_checkpoint_file(FileSystem& fs, const std::string& path, CheckpointInfo* out);
Status read_checkpoint_file(FileSystem& fs, const std::string& path, CheckpointInfo* info,
                            std::vector<Tensor>* tensors);
// What a restore may meet besides exactly the tensors it asks for.
struct LoadOptions {
  // Names in `into` that the file may lack (tensors added in a later version of a learner):
  // they are zero-filled.
  std::vector<std::string> optional;
  // When set, gets the names of `optional` that the file lacked.
  std::vector<std::string>* missing = nullptr;
  // Tensors of the file whose names start with this prefix are read into *extra (owned, any
  // shape) instead of `into`: state whose shape only the file knows.
  std::string extra_prefix;
  std::vector<Tensor>* extra = nullptr;
};

// Fills `into` from the file. The file and `into` must hold the same names with the same
// dtypes and shapes (invalid_argument otherwise, naming the tensor and both shapes, with
// `into` untouched), but for what `options` allows; on a corruption error the contents of
// `into` are unspecified.
Status load_checkpoint_file(FileSystem& fs, const std::string& path, const TensorList& into,
                            CheckpointInfo* info, const LoadOptions& options = {});

// Creates a new folder in `parent` named by the UTC time (YYYYMMDDhhmmss, then -2, -3, ... when
// taken) and returns its name: the run id the checkpointer (and the logger, without
// checkpoints) uses when none is configured. `parent` must exist.
Status create_timestamped_dir(FileSystem& fs, const std::string& parent, int64_t now_ms,
                              std::string* name);
// The same name made free in every one of `parents` at once (a run's checkpoint and log
// folders): the folder is created in each; a name taken in any of them is given up (its
// folders just created removed again) for the next one.
Status create_timestamped_dirs(FileSystem& fs, const std::vector<std::string>& parents,
                               int64_t now_ms, std::string* name);

// The run folder in `model_dir` whose newest readable checkpoint is the most recent (by the
// time it was saved): what resuming "the newest run of this model" means. not_found if none.
Status find_newest_run(FileSystem& fs, const std::string& model_dir, std::string* uid);

// "1.5 KiB", "12.0 MiB": sizes for people.
std::string human_bytes(uint64_t n);

// Not thread-safe: one thread at a time may call a Checkpointer (the training loop may hand
// save() to a background thread as long as no other call overlaps it); the log hook runs on
// the calling thread.
class Checkpointer {
 public:
  // Validates the config; when saving, removes stale temporary files in every run of this
  // model and picks the run folder: save_args.checkpoint_uid; else, with load_model, the run
  // that restore() resumes (chosen there); else a UTC timestamp YYYYMMDDhhmmss made unique with
  // -2, -3, ... The folder is created and its existing checkpoints indexed for rotation.
  static Status open(const CheckpointConfig& cfg, const std::string& base_exp_path,
                     const std::string& model_name, const std::string& config_ini,
                     std::unique_ptr<Checkpointer>* out, CheckpointerHooks hooks = {});

  // Saves `state` when the (eval_step + 1)-th evaluation is due by save_interval_steps (or
  // `force`), then rotates: of the checkpoints the schedule asked for, keeps the max_to_keep
  // newest, the keep_best best by episode_return (NaN never counts as best), and every step
  // with (eval_step + 1) % keep_period == 0; one it did not ask for (`force`d at a step that
  // is not due) is kept only while it is the newest. A failure is logged in one line and
  // returned; earlier checkpoints stay.
  // The tensors `chunks` tracks are encoded through it (ckpt_format.hpp).
  SaveResult save(int64_t timestep, int64_t eval_step, const TensorList& state,
                  double episode_return, bool force = false, ChunkCache* chunks = nullptr);

  // Fills `into` from load_args: run checkpoint_uid (empty = the run with the most recent
  // checkpoint of this model), evaluation step load_step (-1 = the newest that verifies,
  // falling back past damaged files and saying so; an explicit step never falls back).
  // Without a save_args.checkpoint_uid, later saves go to the restored run's folder when the
  // restored checkpoint is that run's newest file, else to a new timestamped folder (so a run
  // resumed from an older step never mixes with the steps it abandoned).
  Status restore(const TensorList& into, RestoreInfo* info, const LoadOptions& options = {});

  // The folder saves go to; empty until chosen (not saving, or waiting for restore()).
  const std::string& run_dir() const { return run_dir_; }
  const std::string& checkpoint_uid() const { return uid_; }

  // Removes the spare file (below), if one is left.
  ~Checkpointer();

 private:
  Checkpointer() = default;
  Status start_run(const std::string& uid);
  Status remove_stale_temps_under(const std::string& model_dir);
  void rotate(SaveResult* r);
  struct Kept;
  bool unscheduled(const Kept& k) const;
  SaveResult failed(SaveResult r, const Status& s, int64_t eval_step, int64_t timestep);
  Status find_newest_run(const std::string& model_dir, std::string* uid);
  void log(const std::string& line) const;

  struct Kept {
    int64_t eval_step;
    double episode_return;
    std::string path;
  };

  CheckpointConfig cfg_;
  std::string base_;
  std::string model_name_;
  std::string config_ini_;
  CheckpointerHooks hooks_;
  FileSystem* fs_ = nullptr;
  std::string model_dir_;  // where this model's runs are saved
  std::string uid_;
  std::string run_dir_;
  std::vector<Kept> index_;  // this run's checkpoints, by eval_step
  std::vector<uint8_t> buffer_;
  // A rotated-out checkpoint kept under a temporary's name (spare.<pid>.tmp) for the next save
  // to write over: a large file's blocks and cached pages are reused instead of freed and
  // allocated again. Empty when there is none.
  std::string spare_;
};

}  // namespace edgerl
