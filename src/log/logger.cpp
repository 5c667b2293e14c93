// The logger: metrics, Stoix's reductions, the run folder and the fan-out to the sinks.
#include "edgerl/logger.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/text.hpp"
#include "edgerl/io.hpp"
#include "log/files.hpp"

namespace edgerl {

const char* event_name(LogEvent event) {
  switch (event) {
    case LogEvent::ACT:
      return "act";
    case LogEvent::TRAIN:
      return "train";
    case LogEvent::EVAL:
      return "eval";
    case LogEvent::ABSOLUTE:
      return "absolute";
    case LogEvent::MISC:
      return "misc";
  }
  return "misc";
}

// ---- Metrics and reductions -------------------------------------------------------------------

namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty() || name == "timestep" || name == "eval_step" || name == "wall_time")
    return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Metrics::Entry& Metrics::slot(std::string_view name) {
  if (!valid_metric_name(name))
    throw std::invalid_argument("metric name '" + std::string(name) +
                                "' must be [A-Za-z0-9_./-]+ and not timestep, eval_step or "
                                "wall_time");
  for (auto& e : entries_)
    if (e.name == name) return e;
  entries_.push_back({std::string(name), {}, false});
  return entries_.back();
}

Metrics& Metrics::add(std::string_view name, double value) {
  Entry& e = slot(name);
  e.values.assign(1, value);
  e.is_array = false;
  return *this;
}

Metrics& Metrics::add(std::string_view name, std::vector<double> values) {
  Entry& e = slot(name);
  e.values = std::move(values);
  e.is_array = true;
  return *this;
}

Metrics& Metrics::add(std::string_view name, const float* values, size_t count) {
  Entry& e = slot(name);
  e.values.assign(values, values + count);
  e.is_array = true;
  return *this;
}

Metrics& Metrics::append(std::string_view name, double value) {
  Entry* e = nullptr;
  for (auto& x : entries_)
    if (x.name == name) e = &x;
  if (!e) e = &slot(name);
  e->values.push_back(value);
  e->is_array = true;
  return *this;
}

void Metrics::reset_values() {
  for (auto& e : entries_) e.values.clear();
}

std::vector<Stat> reduce(const Metrics& metrics, LogEvent event) {
  std::vector<Stat> stats;
  stats.reserve(metrics.entries().size());
  for (const auto& e : metrics.entries()) {
    if (e.values.empty()) continue;
    Stat s;
    s.name = e.name;
    if (!e.is_array) {
      s.value = e.values[0];
      stats.push_back(std::move(s));
      continue;
    }
    const double n = static_cast<double>(e.values.size());
    double sum = 0;
    for (const double v : e.values) sum += v;
    s.value = sum / n;
    if (event != LogEvent::TRAIN) {  // Stoix: losses are only averaged, the rest described
      double sq = 0;
      s.min = s.max = e.values[0];
      for (const double v : e.values) {
        sq += (v - s.value) * (v - s.value);
        s.min = std::fmin(s.min, v);
        s.max = std::fmax(s.max, v);
      }
      s.std = std::sqrt(sq / n);
      s.described = true;
    }
    stats.push_back(std::move(s));
  }
  return stats;
}

std::vector<Scalar> flatten(const std::vector<Stat>& stats) {
  std::vector<Scalar> out;
  out.reserve(stats.size() * 4);
  for (const auto& s : stats) {
    if (!s.described) {
      out.push_back({s.name, s.value});
      continue;
    }
    out.push_back({s.name + "_mean", s.value});
    out.push_back({s.name + "_std", s.std});
    out.push_back({s.name + "_min", s.min});
    out.push_back({s.name + "_max", s.max});
  }
  return out;
}

// ---- Logger -------------------------------------------------------------------------------------

namespace {

bool holds_logs(FileSystem& fs, const std::string& dir) {
  std::vector<DirEntry> entries;
  if (!fs.list_dir(dir, &entries).ok()) return false;
  for (const DirEntry& entry : entries) {
    const std::string& name = entry.name;
    if (name.rfind("events.out.tfevents.", 0) == 0) return true;
    for (int k = 0; k < kNumLogEvents; ++k)
      if (name == std::string(event_name(static_cast<LogEvent>(k))) + ".csv") return true;
  }
  return false;
}

bool parse_mode(const std::string& mode, const char* key, bool on_terminal) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (mode == "auto") return on_terminal;
  throw LoggerError(std::string("logger.loggers.console.") + key + " = '" + mode +
                    "' is not one of auto, always, never");
}

bool colour_terminal(FILE* out) {
  const char* term = std::getenv("TERM");
  return isatty(fileno(out)) && !std::getenv("NO_COLOR") && !(term && !std::strcmp(term, "dumb"));
}

}  // namespace

std::string make_run_dir(const std::string& base, const std::string& system_name,
                         const std::string& scenario, const std::string& uid) {
  for (const std::string* part : {&system_name, &scenario, &uid}) {
    const std::string problem = folder_name_problem(*part);
    if (!problem.empty()) throw LoggerError("run folder part " + problem);
  }
  return (base.empty() ? std::string(".") : base) + "/" + system_name + "/" + scenario + "/" + uid;
}

Logger::Logger(const LoggerConfig& config, const RunInfo& run, LoggerIo io)
    : run_dir_(make_run_dir(config.base_exp_path, run.system_name, run.scenario, run.uid)),
      resume_from_timestep_(run.resume_from_timestep),
      io_(std::move(io)) {
  FileSystem& fs = io_.fs ? *io_.fs : posix_fs();
  const Status created = create_dirs(fs, run_dir_);
  if (!created.ok())
    throw LoggerError(run_dir_ + ": cannot create the run folder: " + created.message());
  // A process killed while it rewrote a log (resume, a widened header) leaves a temporary.
  const Status cleaned = remove_stale_temps(fs, run_dir_, nullptr);
  if (!cleaned.ok())
    throw LoggerError(run_dir_ + ": cannot remove stale temporary files: " + cleaned.message());
  if (resume_from_timestep_ < 0 && holds_logs(fs, run_dir_))
    throw LoggerError(run_dir_ +
                      ": already holds the logs of a run; resume it from its checkpoint or "
                      "choose another uid");
  if (config.console.enabled && io_.console) {
    ConsoleStyle style;
    const bool terminal = isatty(fileno(io_.console));
    style.colour = parse_mode(config.console.colour, "colour", colour_terminal(io_.console));
    style.progress = parse_mode(config.console.progress, "progress", terminal);
    style.total_timesteps = run.total_timesteps;
    style.num_evaluation = run.num_evaluation;
    style.start_timestep = std::max<int64_t>(0, run.resume_from_timestep);
    style.clock = io_.clock;
    auto console = std::make_unique<ConsoleSink>(io_.console, std::move(style));
    console_ = console.get();
    sinks_.push_back(std::move(console));
  }
  if (config.csv.enabled)
    sinks_.push_back(std::make_unique<CsvSink>(run_dir_, resume_from_timestep_, fs));
  if (config.tensorboard.enabled)
    sinks_.push_back(std::make_unique<TensorBoardSink>(run_dir_, resume_from_timestep_, fs));
}

Logger::Logger(std::string run_dir, std::vector<std::unique_ptr<LogSink>> sinks,
               int64_t resume_from_timestep, LoggerIo io)
    : run_dir_(std::move(run_dir)),
      sinks_(std::move(sinks)),
      resume_from_timestep_(resume_from_timestep),
      io_(std::move(io)) {
  for (auto& sink : sinks_)
    if (auto* console = dynamic_cast<ConsoleSink*>(sink.get())) console_ = console;
}

Logger::~Logger() {
  if (console_ && console_->error().empty()) console_->finish();
}

void Logger::log(const Metrics& metrics, int64_t timestep, int64_t eval_step, LogEvent event) {
  if (timestep <= logfiles::last_kept_timestep(event, resume_from_timestep_))
    return;  // in the files already
  record_.event = event;
  record_.timestep = timestep;
  record_.eval_step = eval_step;
  record_.wall_time = io_.clock();
  record_.stats = reduce(metrics, event);
  if (record_.stats.empty()) return;  // e.g. ACT when no episode ended: Stoix logs nothing
  record_.scalars = flatten(record_.stats);
  for (auto& sink : sinks_) {
    if (!sink->error().empty()) continue;
    sink->write(record_);
    sink->flush();
    warn_if_failed(*sink);
  }
}

void Logger::sync() {
  for (auto& sink : sinks_) {
    if (!sink->error().empty()) continue;
    sink->sync();
    warn_if_failed(*sink);
  }
}

void Logger::warn_if_failed(const LogSink& sink) const {
  if (!sink.error().empty() && io_.diagnostics)
    std::fprintf(io_.diagnostics, "edgerl: warning: %s; %s, training goes on\n",
                 sink.error().c_str(), sink.stops_here());
}

void Logger::log_throughput(const Throughput& throughput, int64_t timestep, int64_t eval_step) {
  Metrics m;
  if (throughput.train_seconds > 0)
    m.add("train_steps_per_second",
          static_cast<double>(throughput.train_steps) / throughput.train_seconds);
  if (throughput.eval_seconds > 0)
    m.add("eval_steps_per_second",
          static_cast<double>(throughput.eval_steps) / throughput.eval_seconds);
  log(m, timestep, eval_step, LogEvent::MISC);
}

void Logger::progress(int64_t timestep) {
  if (console_ && console_->error().empty()) console_->progress(timestep);
}

void Logger::note(const std::string& line) {
  if (console_ && console_->error().empty()) {
    console_->message(io_.diagnostics, line);
  } else {
    std::fprintf(io_.diagnostics, "%s\n", line.c_str());
    std::fflush(io_.diagnostics);
  }
}

void Logger::finish() {
  if (console_) console_->finish();
}

}  // namespace edgerl
