// The training loop of Stoix's Anakin systems: learn -> log -> evaluate -> log -> checkpoint,
// num_evaluation times, then the absolute metric and the run summary. Trainer::Impl::run() is
// the loop; how it starts (run folders, locks, resume, a changed config) and how it ends
// (finished, stopped, a failed save) each have functions of their own below it.
#include "edgerl/train.hpp"

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "core/memory.hpp"
#include "core/pool.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/system.hpp"
#include "train/saver.hpp"

namespace edgerl {
namespace {

const char* kLockFile = ".lock";
const char* kIntervalPrefix = "interval/";

const char* outcome_name(TrainOutcome o) {
  switch (o) {
    case TrainOutcome::finished:
    case TrainOutcome::already_finished:
      return "finished";
    case TrainOutcome::stopped:
      return "stopped";
    case TrainOutcome::save_failed:
      return "save_failed";
  }
  return "finished";
}

// Runs one task at a time on a thread of its own, made once; or, without a thread, runs it at
// once in start(). The evaluation of an interval runs here while the next interval learns.
class TaskThread {
 public:
  explicit TaskThread(bool threaded) {
    if (threaded) thread_ = std::thread([this] { loop(); });
  }
  ~TaskThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // The previous task must have been waited for.
  void start(std::function<void()> task) {
    if (!thread_.joinable()) {
      task();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = std::move(task);
      busy_ = true;
    }
    cv_.notify_all();
  }

  // Waits for the task started last; rethrows what it threw.
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return !busy_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void loop() {
    name_this_thread("edgerl-eval");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || busy_; });
      if (!busy_) return;
      std::function<void()> task = std::move(task_);
      lock.unlock();
      try {
        task();
      } catch (...) {
        lock.lock();
        error_ = std::current_exception();
        lock.unlock();
      }
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace

EvalOptions eval_options(const Config& cfg) {
  EvalOptions o;
  o.env = cfg.env;
  o.seed = cfg.arch.seed;
  o.greedy = cfg.arch.evaluation_greedy;
  return o;
}

class Trainer::Impl {
 public:
  Impl(const Config& cfg, TrainOptions options);
  TrainSummary run();

 private:
  struct Learned {
    Metrics train, act;
    bool complete = true;  // false: stopped inside the interval
  };

  // An interval whose evaluation, EVAL and throughput rows and checkpoint are still to come:
  // they run on evaluator_ while the next interval learns.
  struct Closing {
    int64_t eval_step = -1;  // -1: none
    int64_t timestep = 0;
    Throughput tp;
    EvalResult result;
  };

  const Counters& counters() const { return system_->counters(); }
  bool stop_requested() const { return opt_.stop_requested && opt_.stop_requested(); }
  Learned learn(Throughput* tp);
  EvalResult evaluate_policy(Policy& policy, int64_t key, int64_t episodes, Throughput* tp);
  EvalResult evaluate_policy(int64_t key, int64_t episodes, Throughput* tp);
  void log(const Metrics& metrics, LogEvent event, int64_t timestep, int64_t eval_step);
  bool start_closing(int64_t eval_step, const Throughput& tp);
  void close(Policy& policy);
  void await_closing();
  bool save_failed(const SaveResult& r);

  TrainSummary finish(EvalResult last);
  TrainSummary stop_inside_interval(int64_t eval_step);
  TrainSummary stopped();
  TrainSummary already_finished();
  // Whether run_dir's summary.ini says the run finished (its text into *text).
  bool summarised_finished(const std::string& run_dir, std::string* text = nullptr);
  TrainSummary end(TrainOutcome outcome);
  void write_summary();

  void setup_runs();
  bool restore(const std::string& uid);
  void check_config(const std::string& stored_ini);
  std::string fresh_uid();
  void lock(const std::string& dir);
  void open_saver(const std::string& uid);
  void open_logger(const std::string& uid, int64_t resume_from_timestep);
  std::string dir_of_run(const std::string& rel_dir, const std::string& uid) const;
  std::string log_dir_of(const std::string& uid) const;
  void note(const std::string& line);

  const Config cfg_;
  const TrainOptions opt_;
  FileSystem& fs_;
  const double start_;  // monotonic seconds at construction
  std::unique_ptr<System> system_;
  // The best evaluation's policy so far, for the absolute metric: updated by close(), saved
  // in every checkpoint (in state_) as it was before that checkpoint's own evaluation.
  BestPolicy best_;
  TensorList state_;  // views of the whole learner state and best_, for restore and saves
  TrainSummary summary_;
  int64_t start_timestep_ = 0;
  bool finished_ = false;  // restored a run that has nothing left to train
  std::vector<std::unique_ptr<FileLock>> locks_;
  std::unique_ptr<Checkpointer> ckpt_;
  // The logger prints the checkpointer's lines (so they never tear the console's progress
  // bar); its lock also orders them with the saver thread's sync().
  std::mutex logger_mutex_;
  std::unique_ptr<Logger> logger_;
  std::vector<std::string> early_notes_;  // note()s before the logger existed
  std::string resumed_line_;              // "resumed from ...", printed once the run can start
  std::unique_ptr<BackgroundSaver> saver_;
  Closing closing_;
  // Last: its thread may use everything above until it is joined.
  TaskThread evaluator_;
};

Trainer::Trainer(const Config& cfg, TrainOptions options)
    : impl_(std::make_unique<Impl>(cfg, std::move(options))) {}
Trainer::~Trainer() = default;
TrainSummary Trainer::run() {
  return impl_->run();
}

TrainSummary train(const Config& cfg, const TrainOptions& options) {
  return Trainer(cfg, options).run();
}

Trainer::Impl::Impl(const Config& cfg, TrainOptions options)
    : cfg_(cfg),
      opt_(std::move(options)),
      fs_(opt_.fs ? *opt_.fs : posix_fs()),
      start_(opt_.clock.monotonic()),
      system_(make_system(cfg_)),
      best_(*system_),
      evaluator_(WorkerPool::threads_for(cfg_.arch.num_threads, 2) > 1) {
  system_->append_tensors(state_);
  for (const TensorRef& t : best_.tensors()) state_.push_back(t);
  setup_runs();
  start_timestep_ = counters().timestep;
  summary_.start_eval_step = counters().eval_step;
  system_->set_progress([this](int64_t timestep) {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->progress(timestep);
  });
  if (ckpt_) saver_ = std::make_unique<BackgroundSaver>(*ckpt_, *logger_, logger_mutex_);
}

// The loop, as Stoix's: num_evaluation times learn, log, evaluate, log, checkpoint. With a
// thread to spare the evaluation of an interval, its rows and its checkpoint (close()) run
// while the next interval learns: the learner's state was copied for the saver and the policy
// for the evaluator, and the rows are logged in the same order, so nothing changes but the time.
TrainSummary Trainer::Impl::run() {
  if (finished_) return already_finished();
  const int64_t last_step = cfg_.arch.num_evaluation - 1;
  for (int64_t step = counters().eval_step; step <= last_step; ++step) {
    Throughput tp;
    const Learned out = learn(&tp);  // updates_per_eval updates, unless stopped inside
    await_closing();
    if (!out.complete) return stop_inside_interval(step);
    log(out.act, LogEvent::ACT, counters().timestep, step);
    log(out.train, LogEvent::TRAIN, counters().timestep, step);
    if (!start_closing(step, tp)) return end(TrainOutcome::save_failed);
    if (stop_requested() && step < last_step) return stopped();
  }
  await_closing();
  // Empty when this process learned nothing (resumed at the run's end): finish() evaluates.
  return finish(closing_.eval_step >= 0 ? std::move(closing_.result) : EvalResult{});
}

Trainer::Impl::Learned Trainer::Impl::learn(Throughput* tp) {
  Learned out;
  const double t0 = opt_.clock.monotonic();
  const int64_t before = counters().timestep;
  out.complete = system_->learn(out.train, out.act, [this] { return stop_requested(); });
  tp->train_seconds = opt_.clock.monotonic() - t0;
  tp->train_steps = counters().timestep - before;
  return out;
}

EvalResult Trainer::Impl::evaluate_policy(Policy& policy, int64_t key, int64_t episodes,
                                          Throughput* tp) {
  const double t0 = opt_.clock.monotonic();
  EvalResult r = evaluate(policy, eval_options(cfg_), episodes, static_cast<uint64_t>(key));
  if (tp) {
    tp->eval_seconds = opt_.clock.monotonic() - t0;
    tp->eval_steps = r.steps;
  }
  return r;
}

EvalResult Trainer::Impl::evaluate_policy(int64_t key, int64_t episodes, Throughput* tp) {
  const std::unique_ptr<Policy> policy = system_->policy();
  return evaluate_policy(*policy, key, episodes, tp);
}

void Trainer::Impl::log(const Metrics& metrics, LogEvent event, int64_t timestep,
                        int64_t eval_step) {
  if (metrics.empty()) return;  // e.g. ACT when no episode ended
  std::lock_guard<std::mutex> lock(logger_mutex_);
  logger_->log(metrics, timestep, eval_step, event);
}

// The end of interval `eval_step`, just learned: copies the state for the saver and the policy
// for the evaluation, and starts close() on the evaluator. False: the previous save failed
// with on_save_error = abort.
bool Trainer::Impl::start_closing(int64_t eval_step, const Throughput& tp) {
  if (saver_ && save_failed(saver_->hand_over(state_))) return false;
  closing_.eval_step = eval_step;
  closing_.timestep = counters().timestep;
  closing_.tp = tp;
  std::shared_ptr<Policy> policy = system_->policy();
  evaluator_.start([this, policy] { close(*policy); });
  return true;
}

// On the evaluator: the interval's evaluation, its EVAL and throughput rows, then its
// checkpoint (when due, or forced: by a stop that came before it, or as the run's last: the
// trained agent is always kept, and a run resumed after its end finds it finished).
void Trainer::Impl::close(Policy& policy) {
  Closing& c = closing_;
  c.result = evaluate_policy(policy, c.eval_step, cfg_.arch.num_eval_episodes, &c.tp);
  best_.offer(policy, c.result.mean_return, c.eval_step);
  log(c.result.metrics(), LogEvent::EVAL, c.timestep, c.eval_step);
  {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->log_throughput(c.tp, c.timestep, c.eval_step);
  }
  const bool force = stop_requested() || c.eval_step + 1 == cfg_.arch.num_evaluation;
  if (saver_) saver_->queue(c.timestep, c.eval_step, c.result.mean_return, force);
}

// Waits for the interval that is closing, if any (its save's result comes at the next
// hand-over or wait()).
void Trainer::Impl::await_closing() {
  if (closing_.eval_step < 0) return;
  evaluator_.wait();
  // The summary holds the last evaluation's returns from here on, however the run ends.
  summary_.episode_return_mean = closing_.result.mean_return;
  summary_.episode_return_std = closing_.result.std_return();
}

bool Trainer::Impl::save_failed(const SaveResult& r) {
  if (!r.abort) return false;
  std::fprintf(opt_.err,
               "edgerl train: stopping: a checkpoint could not be saved "
               "(on_save_error = abort)\n");
  return true;
}

// ---- How it ends ----------------------------------------------------------------------------

// Waits for the last save; then the absolute metric and the summary.
TrainSummary Trainer::Impl::finish(EvalResult last) {
  if (saver_ && save_failed(saver_->wait())) return end(TrainOutcome::save_failed);
  if (last.episode_return.empty())  // resumed at the end of the run: its final policy again
    last = evaluate_policy(cfg_.arch.num_evaluation - 1, cfg_.arch.num_eval_episodes, nullptr);
  summary_.episode_return_mean = last.mean_return;
  summary_.episode_return_std = last.std_return();
  if (cfg_.arch.absolute_metric) {
    // Stoix's absolute metric: the best evaluation's policy, with 10 times the episodes.
    const EvalResult abs = evaluate_policy(best_.policy(), cfg_.arch.num_evaluation,
                                           10 * cfg_.arch.num_eval_episodes, nullptr);
    {
      std::lock_guard<std::mutex> lock(logger_mutex_);
      logger_->log(abs.metrics(), counters().timestep, cfg_.arch.num_evaluation,
                   LogEvent::ABSOLUTE);
    }
    summary_.absolute_episode_return_mean = abs.mean_return;
    summary_.absolute_episode_return_std = abs.std_return();
    summary_.absolute_eval_step = best_.eval_step();
  } else {
    summary_.absolute_episode_return_mean = NAN;
    summary_.absolute_episode_return_std = NAN;
  }
  return end(TrainOutcome::finished);
}

// Stopped inside an interval: the state after the last update, with the interval's metrics so
// far, saved whatever save_interval_steps says, so a resume finishes the interval as if
// nothing had happened.
TrainSummary Trainer::Impl::stop_inside_interval(int64_t eval_step) {
  if (!saver_) return end(TrainOutcome::stopped);
  if (save_failed(saver_->wait())) return end(TrainOutcome::save_failed);
  std::vector<Tensor> interval = system_->interval_tensors();
  TensorList all = state_;
  for (const TensorRef& t : tensor_refs(interval)) all.push_back(t);
  saver_->submit(counters().timestep, eval_step, all, NAN, true);
  const SaveResult r = saver_->wait();
  if (r.saved) summary_.stop_checkpoint = r.path;
  return end(TrainOutcome::stopped);
}

// Stopped after an interval whose save was forced.
TrainSummary Trainer::Impl::stopped() {
  await_closing();
  SaveResult r = saver_ ? saver_->wait() : SaveResult{};
  if (r.skipped) {  // the stop came after the closing interval chose not to save
    saver_->queue(closing_.timestep, closing_.eval_step, closing_.result.mean_return, true);
    r = saver_->wait();
  }
  if (r.saved) summary_.stop_checkpoint = r.path;
  if (r.abort) return end(TrainOutcome::save_failed);
  return end(TrainOutcome::stopped);
}

bool Trainer::Impl::summarised_finished(const std::string& run_dir, std::string* text) {
  std::string local;
  std::string& t = text ? *text : local;
  return read_file_to_string(fs_, join_path(run_dir, "summary.ini"), &t).ok() &&
         t.find("\nstatus = finished\n") != std::string::npos;
}

// ", absolute M ± S" for the summary lines; nothing without the absolute metric.
static std::string absolute_text(const TrainSummary& s) {
  if (std::isnan(s.absolute_episode_return_mean)) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, ", absolute %.2f ± %.2f", s.absolute_episode_return_mean,
                s.absolute_episode_return_std);
  return buf;
}

// A resumed run with nothing left to train: its summary, without training or evaluating.
TrainSummary Trainer::Impl::already_finished() {
  std::string text;
  const std::string path = join_path(summary_.run_dir, "summary.ini");
  if (!summarised_finished(summary_.run_dir, &text))
    return finish(EvalResult{});  // it ended before its summary: finish it
  auto number = [&](const char* key) {
    const size_t at = text.find(std::string("\n") + key + " = ");
    return at == std::string::npos ? NAN
                                   : std::strtod(text.c_str() + at + std::strlen(key) + 4, nullptr);
  };
  summary_.outcome = TrainOutcome::already_finished;
  summary_.episode_return_mean = number("episode_return_mean");
  summary_.episode_return_std = number("episode_return_std");
  summary_.absolute_episode_return_mean = number("absolute_episode_return_mean");
  summary_.absolute_episode_return_std = number("absolute_episode_return_std");
  const double abs_step = number("absolute_eval_step");  // NaN: a summary from before it
  summary_.absolute_eval_step = std::isfinite(abs_step) ? static_cast<int64_t>(abs_step) : -1;
  summary_.timesteps = counters().timestep;
  summary_.wall_seconds = number("wall_seconds");
  summary_.steps_per_second = number("steps_per_second");
  {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->finish();
  }
  std::fprintf(opt_.out,
               "the run already finished (%s): episode_return %.2f ± %.2f%s, %lld timesteps; "
               "nothing to train\n",
               path.c_str(), summary_.episode_return_mean, summary_.episode_return_std,
               absolute_text(summary_).c_str(), static_cast<long long>(summary_.timesteps));
  return summary_;
}

// The summary in the run folder and on the console, for every way a run ends.
TrainSummary Trainer::Impl::end(TrainOutcome outcome) {
  summary_.outcome = outcome;
  if (outcome != TrainOutcome::finished) {
    summary_.absolute_episode_return_mean = NAN;
    summary_.absolute_episode_return_std = NAN;
    if (outcome == TrainOutcome::save_failed && saver_) saver_->wait();
  }
  summary_.timesteps = counters().timestep;
  summary_.threads = system_->threads();
  summary_.steps_alone = system_->steps_alone(&summary_.steps_guarded);
  summary_.wall_seconds = opt_.clock.monotonic() - start_;
  summary_.steps_per_second =
      summary_.wall_seconds > 0
          ? static_cast<double>(summary_.timesteps - start_timestep_) / summary_.wall_seconds
          : 0;
  summary_.peak_resident_bytes = peak_resident_bytes();
  if (saver_) summary_.saving = saver_->stats();
  {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->sync();
  }
  write_summary();
  {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->finish();
  }
  if (outcome == TrainOutcome::finished) {
    char alone[96] = "";
    // Said when it mattered: a few steps alone (the run's own evaluation beside two learning
    // threads on two cores) are no news.
    if (summary_.steps_alone > 0 && summary_.steps_alone * 20 >= summary_.steps_guarded)
      std::snprintf(alone, sizeof alone, "; %.0f%% of the gradient steps on one, the cores busy",
                    100.0 * static_cast<double>(summary_.steps_alone) /
                        static_cast<double>(summary_.steps_guarded));
    std::fprintf(opt_.out,
                 "final: episode_return %.2f ± %.2f%s, %lld timesteps in "
                 "%.2f s (%.0f steps/s, %d thread%s%s)\n",
                 summary_.episode_return_mean, summary_.episode_return_std,
                 absolute_text(summary_).c_str(), static_cast<long long>(summary_.timesteps),
                 summary_.wall_seconds, summary_.steps_per_second, summary_.threads,
                 summary_.threads == 1 ? "" : "s", alone);
  }
  return summary_;
}

// <run folder>/summary.ini. A failure to write it is a warning: training itself is done.
void Trainer::Impl::write_summary() {
  const TrainSummary& s = summary_;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "; edgerl run summary\n[final]\nstatus = %s\nepisode_return_mean = %.9g\n"
                "episode_return_std = %.9g\nabsolute_episode_return_mean = %.9g\n"
                "absolute_episode_return_std = %.9g\nabsolute_eval_step = %lld\n"
                "timesteps = %lld\nwall_seconds = %.3f\nsteps_per_second = %.1f\n"
                "peak_resident_kib = %llu\nthreads = %d\nsteps_alone = %lld\n",
                outcome_name(s.outcome), s.episode_return_mean, s.episode_return_std,
                s.absolute_episode_return_mean, s.absolute_episode_return_std,
                static_cast<long long>(s.absolute_eval_step), static_cast<long long>(s.timesteps),
                s.wall_seconds, s.steps_per_second,
                static_cast<unsigned long long>(s.peak_resident_bytes / 1024), s.threads,
                static_cast<long long>(s.steps_alone));
  const std::string text = buf;
  const std::string path = join_path(s.run_dir, "summary.ini");
  const Status st =
      write_file_atomic(fs_, path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!st.ok())
    std::fprintf(opt_.err, "edgerl train: warning: cannot write %s: %s\n", path.c_str(),
                 st.message().c_str());
}

// ---- How it starts: run folders, locks, resume ----------------------------------------------

std::string Trainer::Impl::dir_of_run(const std::string& rel_dir, const std::string& uid) const {
  return join_path(join_path(join_path(cfg_.logger.base_exp_path, rel_dir), model_name(cfg_)), uid);
}

std::string Trainer::Impl::log_dir_of(const std::string& uid) const {
  return make_run_dir(cfg_.logger.base_exp_path, cfg_.system.system_name, cfg_.env.scenario_name,
                      uid);
}

// One line of news on the diagnostics stream. Until the logger exists the lines wait, so that a
// run that cannot start says only why (one line), not what it did before.
void Trainer::Impl::note(const std::string& line) {
  std::lock_guard<std::mutex> lock(logger_mutex_);
  if (logger_)
    logger_->note(line);
  else
    early_notes_.push_back(line);
}

// A run folder is used by one process at a time: its lock file is held until this run ends
// (the kernel drops it if the process dies).
void Trainer::Impl::lock(const std::string& dir) {
  std::unique_ptr<FileLock> l;
  const Status st = fs_.lock_file(join_path(dir, kLockFile), &l);
  if (st.code() == Status::Code::busy)
    throw RunError(dir + " is in use (" + st.message() +
                   "); wait for that run to end, or choose another checkpoint_uid");
  if (!st.ok()) throw RunError("cannot lock the run folder: " + st.message());
  locks_.push_back(std::move(l));
}

// A new timestamped run id, free both among this model's checkpoint runs and among the log
// folders of this system and scenario (runs started in the same second never share one).
std::string Trainer::Impl::fresh_uid() {
  std::vector<std::string> parents;
  if (cfg_.checkpointing.save_model)
    parents.push_back(dir_name(dir_of_run(cfg_.checkpointing.save_args.rel_dir, "x")));
  parents.push_back(dir_name(log_dir_of("x")));
  std::string uid;
  Status st;
  for (const std::string& p : parents)
    if (st.ok()) st = create_dirs(fs_, p);
  if (st.ok())
    st = create_timestamped_dirs(fs_, parents,
                                 static_cast<int64_t>(std::floor(opt_.clock.wall() * 1000)), &uid);
  if (!st.ok()) throw RunError("cannot create a run folder: " + st.message());
  return uid;
}

// Picks the run (resumed or new), takes its folders' locks, restores, and opens the saver and
// the logger.
void Trainer::Impl::setup_runs() {
  const CheckpointConfig& ck = cfg_.checkpointing;
  std::string uid = ck.save_args.checkpoint_uid;  // the run saves and logs go to
  std::string restored_dir;                       // the checkpoint folder resumed from
  int64_t resume_from = -1;                       // the logger's resume point
  std::string started_note;                       // said once the folders are ours
  if (ck.load_model) {
    const bool asked = !ck.load_args.checkpoint_uid.empty();
    std::string target = asked ? ck.load_args.checkpoint_uid : uid;
    if (target.empty() &&
        !find_newest_run(fs_, dir_name(dir_of_run(ck.load_args.rel_dir, "x")), &target).ok())
      target.clear();
    const std::string dir = target.empty() ? "" : dir_of_run(ck.load_args.rel_dir, target);
    RunListing listing;
    if (!dir.empty() && list_run(fs_, dir, &listing).ok() && !listing.checkpoints.empty()) {
      lock(dir);
      const bool newest = restore(target);
      restored_dir = dir;
      resume_from = counters().timestep;
      // Resumed from an older step than the run's newest: saves go to a new run, so the
      // abandoned steps are never mixed with the new ones (a fixed uid stays where it is).
      if (uid.empty() && newest) uid = target;
      if (uid.empty())
        note("edgerl train: " + dir +
             " has checkpoints after the one resumed: this run goes on "
             "in a new folder");
    } else if (asked) {
      throw RunError((dir.empty() ? target : dir) +
                     ": no checkpoint to resume (load_args.checkpoint_uid names a run that has "
                     "none)");
    } else if (!uid.empty()) {
      resume_from = 0;  // its folders may hold the logs of an attempt that saved nothing
      if (path_exists(fs_, log_dir_of(uid)))
        started_note = "edgerl train: run " + uid + " has no checkpoint yet: starting it again";
    } else {
      started_note =
          "edgerl train: no checkpoint of " + model_name(cfg_) + " to resume: starting a new run";
    }
  } else if (!uid.empty() && ck.save_model) {
    RunListing existing;
    const std::string dir = dir_of_run(ck.save_args.rel_dir, uid);
    if (list_run(fs_, dir, &existing).ok() && !existing.checkpoints.empty())
      throw RunError(dir +
                     " already holds checkpoints: resume it with --resume auto (or "
                     "logger.checkpointing.load_model=true) or choose another checkpoint_uid");
  }
  if (uid.empty()) uid = fresh_uid();
  if (ck.save_model) {
    const std::string dir = dir_of_run(ck.save_args.rel_dir, uid);
    const Status st = create_dirs(fs_, dir);
    if (!st.ok()) throw RunError("cannot create the checkpoint folder: " + st.message());
    if (dir != restored_dir) lock(dir);
    open_saver(uid);
  }
  const std::string log_dir = log_dir_of(uid);
  const Status st = create_dirs(fs_, log_dir);
  if (!st.ok()) throw RunError("cannot create the run folder: " + st.message());
  lock(log_dir);
  if (!started_note.empty()) note(started_note);
  // A finished run whose summary was written has all its rows (end() syncs the logs first):
  // resumed again, it keeps them all, the absolute metric's included, which a resume at the
  // last step would otherwise cut for writing again (already_finished() writes nothing).
  if (finished_ && summarised_finished(log_dir)) resume_from = counters().timestep + 1;
  open_logger(uid, resume_from);
}

// Restores run `uid` (the newest checkpoint that verifies, or load_args.load_step), with the
// metrics of an interval it stopped inside. True when the restored file is the run's newest.
bool Trainer::Impl::restore(const std::string& uid) {
  CheckpointConfig ck = cfg_.checkpointing;
  ck.save_model = false;
  ck.load_args.checkpoint_uid = uid;
  CheckpointerHooks hooks;
  hooks.fs = &fs_;
  hooks.now_ms = [this] { return static_cast<int64_t>(std::floor(opt_.clock.wall() * 1000)); };
  hooks.log = [this](const std::string& line) { note(line); };
  std::unique_ptr<Checkpointer> loader;
  Status st =
      Checkpointer::open(ck, cfg_.logger.base_exp_path, model_name(cfg_), "", &loader, hooks);
  if (!st.ok()) throw RunError("cannot open checkpoint folder: " + st.message());
  LoadOptions options;
  options.optional = optional_counter_tensors();
  for (const std::string& name : best_.names()) options.optional.push_back(name);
  std::vector<std::string> missing;
  options.missing = &missing;
  std::vector<Tensor> interval;
  options.extra_prefix = kIntervalPrefix;
  options.extra = &interval;
  RestoreInfo info;
  st = loader->restore(state_, &info, options);
  if (!st.ok()) throw RunError("cannot resume: " + st.message());
  try {
    system_->after_restore();
    system_->set_interval_tensors(interval);
    if (!restore_best(best_, *system_, info.meta, missing))
      note("edgerl train: " + info.path +
           " was saved before edgerl kept the best policy: the absolute metric takes the best "
           "of this checkpoint's policy and the evaluations from here on");
  } catch (const std::exception& e) {
    throw RunError(info.path + ": restored state is impossible: " + e.what());
  }
  check_config(info.meta.config_ini);
  resumed_line_ = "resumed from " + info.path + " (eval step " +
                  std::to_string(info.meta.eval_step) + ", timestep " +
                  std::to_string(info.meta.timestep) + ")";
  const int64_t update = counters().update;
  if (update > system_->interval_end(counters().eval_step))
    throw RunError(info.path + ": restored state is impossible: counters/update = " +
                   std::to_string(update) + " lies beyond its evaluation interval");
  finished_ =
      counters().eval_step >= cfg_.arch.num_evaluation || update >= system_->planned_updates();
  RunListing listing;
  return list_run(fs_, dir_name(info.path), &listing).ok() && !listing.checkpoints.empty() &&
         listing.checkpoints.back().eval_step <= info.meta.eval_step;
}

// A resumed run with another config: keys that change what training computes are refused
// (unless allowed), a new length re-plans the rest of the run, the rest is noted or silent.
void Trainer::Impl::check_config(const std::string& stored_ini) {
  Config stored;
  try {
    stored = load_resolved_config(stored_ini, "the checkpoint's config");
  } catch (const ConfigError& e) {
    if (!opt_.allow_config_change)
      throw RunError(std::string("the checkpoint's config cannot be read back (") + e.what() +
                     "); pass --allow-config-change to resume it with this config");
    note(std::string("edgerl train: warning: the checkpoint's config cannot be read back (") +
         e.what() + "); resuming with this config");
    return;
  }
  std::string training, length, evaluation;
  for (const ConfigDifference& d : config_differences(cfg_, stored)) {
    if (d.effect == KeyEffect::none) continue;  // logging, rotation, paths: silently allowed
    std::string& list = d.effect == KeyEffect::training ? training
                        : d.effect == KeyEffect::length ? length
                                                        : evaluation;
    list += (list.empty() ? "" : ", ") + d.name + " = " + d.value +
            " (checkpoint: " + d.other_value + ")";
  }
  if (!training.empty() && !opt_.allow_config_change)
    throw RunError(
        "the config differs from the checkpoint's in what training computes: " + training +
        "; resume with the checkpoint's values (edgerl ckpt config FILE), start a "
        "new run, or pass --allow-config-change");
  if (!training.empty())
    note("edgerl train: warning: resuming with a different config: " + training +
         "; the run will not match an uninterrupted one (the new values are stored)");
  if (!evaluation.empty()) note("edgerl train: evaluating from here on with " + evaluation);
  if (!length.empty()) {
    const int64_t left = system_->planned_updates() - counters().update;
    const int64_t intervals = cfg_.arch.num_evaluation - counters().eval_step;
    if (left > 0 && intervals <= 0)
      throw RunError("a new length: " + length + " asks for " + std::to_string(left) +
                     " more updates, but all arch.num_evaluation = " +
                     std::to_string(cfg_.arch.num_evaluation) +
                     " evaluations are done: raise arch.num_evaluation too (the updates left are "
                     "spread over the evaluations left)");
    system_->replan();
    note("edgerl train: a new length: " + length + "; " +
         (left > 0 && intervals > 0
              ? std::to_string(system_->updates_per_eval() * intervals) +
                    " more updates over evaluations " + std::to_string(counters().eval_step) +
                    ".." + std::to_string(cfg_.arch.num_evaluation - 1) +
                    " (learning-rate decay and exploration follow the new totals)"
              : std::string("the run already has as much: nothing more to train")));
  }
}

void Trainer::Impl::open_saver(const std::string& uid) {
  CheckpointConfig ck = cfg_.checkpointing;
  ck.load_model = false;
  ck.save_args.checkpoint_uid = uid;
  CheckpointerHooks hooks;
  hooks.fs = &fs_;
  hooks.now_ms = [this] { return static_cast<int64_t>(std::floor(opt_.clock.wall() * 1000)); };
  hooks.log = [this](const std::string& line) { note(line); };
  const Status st = Checkpointer::open(ck, cfg_.logger.base_exp_path, model_name(cfg_),
                                       to_ini(cfg_), &ckpt_, hooks);
  if (!st.ok()) throw RunError("cannot open checkpoint folder: " + st.message());
  summary_.checkpoint_dir = ckpt_->run_dir();
}

void Trainer::Impl::open_logger(const std::string& uid, int64_t resume_from_timestep) {
  RunInfo run;
  run.system_name = cfg_.system.system_name;
  run.scenario = cfg_.env.scenario_name;
  run.uid = uid;
  run.total_timesteps = system_->total_updates() * system_->steps_per_update();
  run.num_evaluation = cfg_.arch.num_evaluation;
  run.resume_from_timestep = resume_from_timestep;
  LoggerIo io;
  io.console = opt_.out;
  io.diagnostics = opt_.err;
  io.clock = opt_.clock.wall;
  io.fs = &fs_;
  auto logger = std::make_unique<Logger>(cfg_.logger, run, io);
  summary_.run_dir = logger->run_dir();
  std::lock_guard<std::mutex> lock(logger_mutex_);
  logger_ = std::move(logger);
  for (const std::string& line : early_notes_) logger_->note(line);
  early_notes_.clear();
  if (!resumed_line_.empty()) std::fprintf(opt_.out, "%s\n", resumed_line_.c_str());
}

}  // namespace edgerl
