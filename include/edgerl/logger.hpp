// logger: Stoix's logging events (ACT, TRAIN, EVAL, ABSOLUTE, MISC) written once per evaluation
// to the console, to one CSV file per event kind and to a TensorBoard event file, all under the
// run folder <base_exp_path>/<system_name>/<scenario>/<uid>/ (docs/logging.md).
//
// The logger knows nothing of what a metric means. Arrays are reduced as Stoix reduces them:
// TRAIN arrays to their mean, every other kind's arrays to mean, std, min and max. A run resumed
// from a checkpoint at timestep T keeps the rows up to T, drops what a crashed run wrote after T
// and never writes a timestep twice, so its CSV files equal an uninterrupted run's apart from
// wall-clock columns.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "edgerl/clock.hpp"
#include "edgerl/error.hpp"
#include "edgerl/io.hpp"

namespace edgerl {

// [logger] and [logger.loggers.*] of the config (the checkpointer's [logger.checkpointing] is
// its own: checkpoint.hpp).
struct SinkConfig {
  bool enabled = true;
};

struct ConsoleConfig {
  bool enabled = true;
  std::string progress = "auto";  // auto (bar on a terminal) | always | never
  std::string colour = "auto";    // auto | always | never
};

struct LoggerConfig {
  std::string base_exp_path = "results";
  ConsoleConfig console;
  SinkConfig csv;
  SinkConfig tensorboard;
};

enum class LogEvent { ACT, TRAIN, EVAL, ABSOLUTE, MISC };
constexpr int kNumLogEvents = 5;

// "act", "train", "eval", "absolute", "misc": CSV file stems and TensorBoard tag prefixes.
const char* event_name(LogEvent event);

// A run folder or log file that cannot be used: what() is one line naming the file.
struct LoggerError : Error {
  using Error::Error;
};

// The metrics of one event, in insertion order. A scalar is logged as is; an array is reduced.
// Names are [A-Za-z0-9_./-]+ and not timestep, eval_step or wall_time (the CSV's own columns);
// anything else throws std::invalid_argument. Adding a name twice replaces the first value.
class Metrics {
 public:
  struct Entry {
    std::string name;
    std::vector<double> values;
    bool is_array = false;
  };

  Metrics& add(std::string_view name, double value);
  Metrics& add(std::string_view name, std::vector<double> values);
  Metrics& add(std::string_view name, const float* values, size_t count);
  // Appends one value to the array `name` (creating it as an empty array first).
  Metrics& append(std::string_view name, double value);
  // Empties every entry's values but keeps the entries, in order, and their memory.
  void reset_values();

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }

 private:
  Entry& slot(std::string_view name);
  std::vector<Entry> entries_;
};

// One metric after reduction: a scalar, the mean of a TRAIN array, or an array described by its
// mean, population std (numpy's np.std), min and max. Empty arrays produce no Stat.
struct Stat {
  std::string name;
  double value = 0;  // the scalar or the mean
  double std = 0, min = 0, max = 0;
  bool described = false;
};

// One named number: the unit of CSV columns and TensorBoard tags.
struct Scalar {
  std::string name;
  double value = 0;
};

std::vector<Stat> reduce(const Metrics& metrics, LogEvent event);
// "name" for a plain Stat; "name_mean", "name_std", "name_min", "name_max" for a described one.
std::vector<Scalar> flatten(const std::vector<Stat>& stats);

struct LogRecord {
  LogEvent event = LogEvent::MISC;
  int64_t timestep = 0;
  int64_t eval_step = 0;
  double wall_time = 0;  // seconds since the Unix epoch
  std::vector<Stat> stats;
  std::vector<Scalar> scalars;  // flatten(stats)
};

// A destination of log records. A sink that fails (disk full, I/O error) records why in error()
// and the Logger stops using it: logging never stops training.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(const LogRecord& record) = 0;
  virtual void flush() {}
  // Flushes and makes what was written durable (fsync).
  virtual void sync() { flush(); }
  // What the warning after a failure says stops ("the CSV logs stop here").
  virtual const char* stops_here() const { return "this log stops here"; }
  const std::string& error() const { return error_; }

 protected:
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

 private:
  std::string error_;
};

struct ConsoleStyle {
  bool colour = false;          // ANSI colours per event kind, as Stoix's console logger
  bool progress = false;        // a \r-updated progress bar with ETA below the event lines
  int64_t total_timesteps = 0;  // the bar's 100%; 0 = no bar
  int64_t num_evaluation = 0;   // width of the eval-step column
  int64_t start_timestep = 0;   // where this process started (the resume point), for the rate
  WallClock clock = system_wall_clock;
};

// One aligned line per record: event kind, timestep, eval step, then every metric (arrays as
// mean ± std). With progress on, the bar is redrawn under the latest line.
class ConsoleSink : public LogSink {
 public:
  ConsoleSink(FILE* out, ConsoleStyle style);
  void write(const LogRecord& record) override;
  void flush() override;
  // Redraws the bar at `timestep` (at most ten times a second unless forced).
  void progress(int64_t timestep, bool force = false);
  // Prints one line to `out` (e.g. stderr, which shares the terminal) without tearing the bar:
  // the bar is cleared first and redrawn after.
  void message(FILE* out, const std::string& line);
  // Ends the bar's line so that later output starts on a fresh line.
  void finish();

 private:
  void clear_bar();
  FILE* out_;
  ConsoleStyle style_;
  double start_time_;
  double last_draw_ = -1;
  size_t bar_len_ = 0;         // characters of the bar currently on screen, 0 if none
  int64_t last_timestep_ = 0;  // of the latest progress() call
  std::string line_;
};

// <dir>/<kind>.csv per event kind: header `timestep,eval_step,<metric columns>,wall_time`,
// metric columns sorted by name (a described metric's four columns as mean, std, min, max).
// A metric first seen after the header was written widens the header (the file is rewritten
// atomically; earlier rows get empty cells). resume_from_timestep >= 0 keeps only the existing
// rows with timestep <= it (and drops a torn last line); < 0 expects no CSV files.
class CsvSink : public LogSink {
 public:
  CsvSink(std::string dir, int64_t resume_from_timestep, FileSystem& fs = posix_fs());
  ~CsvSink() override;
  CsvSink(const CsvSink&) = delete;
  CsvSink& operator=(const CsvSink&) = delete;
  void write(const LogRecord& record) override;  // each row is one append
  void sync() override;
  const char* stops_here() const override { return "every CSV log of this run stops here"; }

 private:
  struct File;
  FileSystem& fs_;
  std::string dir_;
  std::vector<std::unique_ptr<File>> files_;  // indexed by LogEvent
  std::string row_;
  bool created_file_ = false;  // the folder needs an fsync at the next sync()
};

// events.out.tfevents.<time>.<host> in `dir` (created with the first record, named by its
// wall_time), one Event per record with tags "<kind>/<column>" at step = timestep. On resume
// every earlier event file is cut after its last whole record with step <=
// resume_from_timestep and a new file is started.
class TensorBoardSink : public LogSink {
 public:
  TensorBoardSink(std::string dir, int64_t resume_from_timestep, FileSystem& fs = posix_fs());
  ~TensorBoardSink() override;
  TensorBoardSink(const TensorBoardSink&) = delete;
  TensorBoardSink& operator=(const TensorBoardSink&) = delete;
  void write(const LogRecord& record) override;  // each event is one append
  void sync() override;
  const char* stops_here() const override { return "the TensorBoard log stops here"; }
  const std::string& path() const { return path_; }  // empty until the first record

 private:
  FileSystem& fs_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  bool created_file_ = false;
};

// What one evaluation cycle did, measured by the training loop around learn() and evaluate().
struct Throughput {
  int64_t train_steps = 0;  // environment steps taken by learn()
  double train_seconds = 0;
  int64_t eval_steps = 0;  // environment steps taken by evaluate() (sum of episode lengths)
  double eval_seconds = 0;
};

struct RunInfo {
  std::string system_name;
  std::string scenario;
  std::string uid;
  int64_t total_timesteps = 0;  // progress bar and ETA; 0 = no bar
  int64_t num_evaluation = 0;
  int64_t resume_from_timestep = -1;  // >= 0: continue the run folder after this timestep
};

struct LoggerIo {
  FILE* console = stdout;
  FILE* diagnostics = stderr;  // one warning line when a sink fails
  WallClock clock = system_wall_clock;
  FileSystem* fs = nullptr;  // the run folder's files; null = posix_fs()
};

// <base>/<system_name>/<scenario>/<uid>; each part must be a plain folder name (LoggerError).
std::string make_run_dir(const std::string& base, const std::string& system_name,
                         const std::string& scenario, const std::string& uid);

// The sinks enabled in `config`, writing to the run folder (created if missing, and cleared of
// the temporary files of dead processes). A new run (resume_from_timestep < 0) refuses a folder
// that already holds logs. Throws LoggerError.
class Logger {
 public:
  Logger(const LoggerConfig& config, const RunInfo& run, LoggerIo io = {});
  // Tests and tools: explicit sinks over an existing folder.
  Logger(std::string run_dir, std::vector<std::unique_ptr<LogSink>> sinks,
         int64_t resume_from_timestep, LoggerIo io = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Reduces and writes one event to every working sink, then flushes them. Events at
  // timesteps <= the resume point were written before and are skipped, as are events with no
  // values left after reduction (only empty arrays).
  void log(const Metrics& metrics, int64_t timestep, int64_t eval_step, LogEvent event);
  // MISC train_steps_per_second and eval_steps_per_second (each only if its seconds > 0).
  void log_throughput(const Throughput& throughput, int64_t timestep, int64_t eval_step);
  // Makes everything logged so far durable. The loop calls it before saving a checkpoint, so
  // that a run resumed from that checkpoint finds every row up to it even after a power cut.
  void sync();
  // Moves the console progress bar between evaluations (cheap; throttled).
  void progress(int64_t timestep);
  // One line on the diagnostics stream that leaves the progress bar intact (checkpoint news).
  void note(const std::string& line);
  // Ends the progress bar's line; later output starts on a fresh line.
  void finish();

  const std::string& run_dir() const { return run_dir_; }

 private:
  void warn_if_failed(const LogSink& sink) const;
  std::string run_dir_;
  std::vector<std::unique_ptr<LogSink>> sinks_;
  ConsoleSink* console_ = nullptr;
  int64_t resume_from_timestep_;
  LoggerIo io_;
  LogRecord record_;
};

}  // namespace edgerl
