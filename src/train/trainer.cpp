// The training loop of Stoix's Anakin systems: learn -> log -> evaluate -> log -> checkpoint,
// num_evaluation times, then the absolute metric and the run summary. Trainer::Impl::run() is
// the loop; the constructor's steps (restore, run folders, logger) and the end each have a
// function of their own below it.
#include "edgerl/train.hpp"

#include <cmath>
#include <memory>
#include <mutex>

#include "edgerl/checkpoint.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/system.hpp"
#include "train/saver.hpp"

namespace edgerl {

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
  // What one learn() call produced.
  struct Learned {
    Metrics train, act;
  };

  const Counters& counters() const { return system_->counters(); }
  void open_checkpointer();
  void restore();
  void open_logger();
  Learned learn(Throughput* tp);
  EvalResult evaluate_policy(int64_t key, int64_t episodes, Throughput* tp);
  void log(const Metrics& metrics, LogEvent event, int64_t eval_step);
  void log_throughput(const Throughput& tp, int64_t eval_step);
  bool checkpoint(int64_t eval_step, double episode_return);
  bool save_failed(const SaveResult& r);
  TrainSummary finish(EvalResult last, bool stopped);
  void write_summary();
  std::string training_differences(const std::string& stored_ini) const;

  const Config cfg_;
  const TrainOptions opt_;
  FileSystem& fs_;
  const double start_;  // monotonic seconds at construction
  std::unique_ptr<System> system_;
  TensorList state_;  // views of the whole learner state, for restore and saves
  TrainSummary summary_;
  int64_t start_timestep_ = 0;
  int64_t resume_timestep_ = -1;  // >= 0: resumed at this timestep
  std::string resumed_uid_;
  std::unique_ptr<Checkpointer> ckpt_;
  // The logger prints the checkpointer's lines (so they never tear the console's progress
  // bar); its lock also orders them with the saver thread's sync().
  std::mutex logger_mutex_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<BackgroundSaver> saver_;
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
      system_(make_system(cfg_)) {
  system_->append_tensors(state_);
  open_checkpointer();
  if (cfg_.checkpointing.load_model) restore();
  start_timestep_ = counters().timestep;
  summary_.start_eval_step = counters().eval_step;
  open_logger();
  system_->set_progress([this](int64_t timestep) {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->progress(timestep);
  });
  if (cfg_.checkpointing.save_model)
    saver_ = std::make_unique<BackgroundSaver>(*ckpt_, *logger_, logger_mutex_);
}

// The loop, as Stoix's: num_evaluation times learn, log, evaluate, log, checkpoint.
TrainSummary Trainer::Impl::run() {
  EvalResult last;
  bool stopped = false;
  for (int64_t step = counters().eval_step; step < cfg_.arch.num_evaluation && !stopped; ++step) {
    Throughput tp;
    const Learned out = learn(&tp);  // num_updates_per_eval updates
    log(out.act, LogEvent::ACT, step);
    log(out.train, LogEvent::TRAIN, step);
    last = evaluate_policy(step, cfg_.arch.num_eval_episodes, &tp);
    log(last.metrics(), LogEvent::EVAL, step);
    log_throughput(tp, step);
    stopped = !checkpoint(step, last.mean_return);  // due by interval; rotation; on_save_error
  }
  return finish(std::move(last), stopped);
}

Trainer::Impl::Learned Trainer::Impl::learn(Throughput* tp) {
  Learned out;
  const double t0 = opt_.clock.monotonic();
  const int64_t before = counters().timestep;
  system_->learn(out.train, out.act);
  tp->train_seconds = opt_.clock.monotonic() - t0;
  tp->train_steps = counters().timestep - before;
  return out;
}

EvalResult Trainer::Impl::evaluate_policy(int64_t key, int64_t episodes, Throughput* tp) {
  const double t0 = opt_.clock.monotonic();
  EvalResult r = evaluate(*system_, eval_options(cfg_), episodes, static_cast<uint64_t>(key));
  if (tp) {
    tp->eval_seconds = opt_.clock.monotonic() - t0;
    tp->eval_steps = r.steps;
  }
  return r;
}

void Trainer::Impl::log(const Metrics& metrics, LogEvent event, int64_t eval_step) {
  if (metrics.empty()) return;  // e.g. ACT when no episode ended
  std::lock_guard<std::mutex> lock(logger_mutex_);
  logger_->log(metrics, counters().timestep, eval_step, event);
}

void Trainer::Impl::log_throughput(const Throughput& tp, int64_t eval_step) {
  std::lock_guard<std::mutex> lock(logger_mutex_);
  logger_->log_throughput(tp, counters().timestep, eval_step);
}

// Hands the state to the saver (which saves when due). False when training must stop: the
// previous save failed with on_save_error = abort.
bool Trainer::Impl::checkpoint(int64_t eval_step, double episode_return) {
  if (!saver_) return true;
  return !save_failed(saver_->submit(counters().timestep, eval_step, state_, episode_return));
}

bool Trainer::Impl::save_failed(const SaveResult& r) {
  if (!r.abort) return false;
  summary_.save_failed = true;
  std::fprintf(opt_.err,
               "edgerl train: stopping: a checkpoint could not be saved "
               "(on_save_error = abort)\n");
  return true;
}

// Waits for the last save; unless training stopped, the absolute metric; then the summary in
// the run folder and on the console.
TrainSummary Trainer::Impl::finish(EvalResult last, bool stopped) {
  if (saver_ && save_failed(saver_->wait())) stopped = true;
  summary_.absolute_episode_return_mean = NAN;
  summary_.absolute_episode_return_std = NAN;
  if (!stopped) {
    if (last.episode_return.empty())  // resumed a finished run: evaluate its final policy again
      last = evaluate_policy(cfg_.arch.num_evaluation - 1, cfg_.arch.num_eval_episodes, nullptr);
    if (cfg_.arch.absolute_metric) {
      const EvalResult abs =
          evaluate_policy(cfg_.arch.num_evaluation, 10 * cfg_.arch.num_eval_episodes, nullptr);
      {
        std::lock_guard<std::mutex> lock(logger_mutex_);
        logger_->log(abs.metrics(), counters().timestep, cfg_.arch.num_evaluation,
                     LogEvent::ABSOLUTE);
      }
      summary_.absolute_episode_return_mean = abs.mean_return;
      summary_.absolute_episode_return_std = abs.std_return();
    }
  }
  summary_.episode_return_mean = last.episode_return.empty() ? NAN : last.mean_return;
  summary_.episode_return_std = last.episode_return.empty() ? NAN : last.std_return();
  summary_.timesteps = counters().timestep;
  summary_.wall_seconds = opt_.clock.monotonic() - start_;
  summary_.steps_per_second =
      summary_.wall_seconds > 0
          ? static_cast<double>(summary_.timesteps - start_timestep_) / summary_.wall_seconds
          : 0;
  write_summary();
  {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    logger_->finish();
  }
  if (!stopped)
    std::fprintf(opt_.out,
                 "final: episode_return %.2f ± %.2f, absolute %.2f ± %.2f, %lld timesteps in "
                 "%.2f s (%.0f steps/s)\n",
                 summary_.episode_return_mean, summary_.episode_return_std,
                 summary_.absolute_episode_return_mean, summary_.absolute_episode_return_std,
                 static_cast<long long>(summary_.timesteps), summary_.wall_seconds,
                 summary_.steps_per_second);
  return summary_;
}

// <run folder>/summary.ini. A failure to write it is a warning: training itself is done.
void Trainer::Impl::write_summary() {
  const TrainSummary& s = summary_;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "; edgerl run summary\n[final]\nstatus = %s\nepisode_return_mean = %.9g\n"
                "episode_return_std = %.9g\nabsolute_episode_return_mean = %.9g\n"
                "absolute_episode_return_std = %.9g\n"
                "timesteps = %lld\nwall_seconds = %.3f\nsteps_per_second = %.1f\n",
                s.save_failed ? "save_failed" : "finished", s.episode_return_mean,
                s.episode_return_std, s.absolute_episode_return_mean, s.absolute_episode_return_std,
                static_cast<long long>(s.timesteps), s.wall_seconds, s.steps_per_second);
  const std::string text = buf;
  const std::string path = join_path(s.run_dir, "summary.ini");
  const Status st =
      write_file_atomic(fs_, path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!st.ok())
    std::fprintf(opt_.err, "edgerl train: warning: cannot write %s: %s\n", path.c_str(),
                 st.message().c_str());
}

// ---- Setting up: checkpoints, resume, the logger ---------------------------------------------

// One checkpointer restores (load_model) and saves (save_model).
void Trainer::Impl::open_checkpointer() {
  const CheckpointConfig& ck = cfg_.checkpointing;
  if (!ck.save_model && !ck.load_model) return;
  const std::string model = model_name(cfg_);
  if (ck.save_model && !ck.load_model && !ck.save_args.checkpoint_uid.empty()) {
    const std::string run =
        join_path(join_path(join_path(cfg_.logger.base_exp_path, ck.save_args.rel_dir), model),
                  ck.save_args.checkpoint_uid);
    RunListing existing;
    if (list_run(fs_, run, &existing).ok() && !existing.checkpoints.empty())
      throw RunError(run +
                     " already holds checkpoints: resume it with "
                     "logger.checkpointing.load_model=true or choose another checkpoint_uid");
  }
  CheckpointerHooks hooks;
  hooks.fs = &fs_;
  hooks.now_ms = [this] { return static_cast<int64_t>(std::floor(opt_.clock.wall() * 1000)); };
  hooks.log = [this](const std::string& line) {
    std::lock_guard<std::mutex> lock(logger_mutex_);
    if (logger_)
      logger_->note(line);
    else
      std::fprintf(opt_.err, "%s\n", line.c_str());
  };
  const Status st =
      Checkpointer::open(ck, cfg_.logger.base_exp_path, model, to_ini(cfg_), &ckpt_, hooks);
  if (!st.ok()) throw RunError("cannot open checkpoint folder: " + st.message());
  if (ck.save_model) summary_.checkpoint_dir = ckpt_->run_dir();
}

// Restores the whole learner state; saves then continue in the restored run's folder (or a new
// one when an older step than the run's newest was restored).
void Trainer::Impl::restore() {
  RestoreInfo info;
  const Status st = ckpt_->restore(state_, &info);
  if (!st.ok()) throw RunError("cannot resume: " + st.message());
  try {
    system_->after_restore();
  } catch (const std::exception& e) {
    throw RunError(info.path + ": restored state is impossible: " + e.what());
  }
  const std::string diff = training_differences(info.meta.config_ini);
  if (!diff.empty())
    std::fprintf(opt_.err,
                 "edgerl train: warning: resuming with a different config: %s; the run will not "
                 "match an uninterrupted one\n",
                 diff.c_str());
  resumed_uid_ = info.checkpoint_uid;
  resume_timestep_ = counters().timestep;
  if (cfg_.checkpointing.save_model) summary_.checkpoint_dir = ckpt_->run_dir();
  std::fprintf(opt_.out, "resumed from %s (eval step %lld, timestep %lld)\n", info.path.c_str(),
               static_cast<long long>(info.meta.eval_step),
               static_cast<long long>(info.meta.timestep));
}

// The keys that change what training computes or evaluates whose values differ from the
// config stored in the checkpoint, as "key = new (checkpoint: old)", or why it cannot be read.
std::string Trainer::Impl::training_differences(const std::string& stored_ini) const {
  Config stored;
  try {
    stored = load_config_text(stored_ini, "the checkpoint's config");
  } catch (const ConfigError& e) {
    return std::string("the checkpoint's config cannot be read back (") + e.what() + ")";
  }
  std::string out;
  for (const ConfigDifference& d : config_differences(cfg_, stored))
    if (d.effect == KeyEffect::training || d.effect == KeyEffect::evaluation)
      out += (out.empty() ? "" : ", ") + d.name + " = " + d.value +
             " (checkpoint: " + d.other_value + ")";
  return out;
}

// Logs live beside the checkpoints' run id: the saving run's, else the resumed run's, else the
// configured one, else a new timestamped folder.
void Trainer::Impl::open_logger() {
  const CheckpointConfig& ck = cfg_.checkpointing;
  RunInfo run;
  run.system_name = cfg_.system.system_name;
  run.scenario = cfg_.env.scenario_name;
  if (ck.save_model) {
    run.uid = ckpt_->checkpoint_uid();
  } else if (!resumed_uid_.empty()) {
    run.uid = resumed_uid_;
  } else if (!ck.save_args.checkpoint_uid.empty()) {
    run.uid = ck.save_args.checkpoint_uid;
  } else {
    const std::string parent =
        join_path(join_path(cfg_.logger.base_exp_path, run.system_name), run.scenario);
    Status st = create_dirs(fs_, parent);
    if (st.ok())
      st = create_timestamped_dir(
          fs_, parent, static_cast<int64_t>(std::floor(opt_.clock.wall() * 1000)), &run.uid);
    if (!st.ok()) throw RunError("cannot create a run folder: " + st.message());
  }
  run.total_timesteps =
      system_->updates_per_eval() * system_->steps_per_update() * cfg_.arch.num_evaluation;
  run.num_evaluation = cfg_.arch.num_evaluation;
  run.resume_from_timestep = resume_timestep_;
  LoggerIo io;
  io.console = opt_.out;
  io.diagnostics = opt_.err;
  io.clock = opt_.clock.wall;
  io.fs = &fs_;
  auto logger = std::make_unique<Logger>(cfg_.logger, run, io);
  summary_.run_dir = logger->run_dir();
  std::lock_guard<std::mutex> lock(logger_mutex_);
  logger_ = std::move(logger);
}

}  // namespace edgerl
