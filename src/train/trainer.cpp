// The training loop: learn -> log -> evaluate -> log -> checkpoint, num_evaluation times.
#include "edgerl/train.hpp"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "edgerl/checkpoint.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/system.hpp"

namespace edgerl {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A timestamp run id for a run without checkpoints; its folder is created under `parent`.
std::string new_run_uid(const std::string& parent) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::string uid;
  Status st = create_dirs(posix_fs(), parent);
  if (st.ok()) st = create_timestamped_dir(posix_fs(), parent, now_ms, &uid);
  if (!st.ok()) throw RunError("cannot create a run folder: " + st.message());
  return uid;
}

// The keys that change what training computes or evaluates whose values differ from the
// config stored in the checkpoint, as "key = new (checkpoint: old)", or why it cannot be read.
std::string training_differences(const Config& cfg, const std::string& stored_ini) {
  Config stored;
  try {
    stored = load_config_text(stored_ini, "the checkpoint's config");
  } catch (const ConfigError& e) {
    return std::string("the checkpoint's config cannot be read back (") + e.what() + ")";
  }
  std::string out;
  for (const ConfigDifference& d : config_differences(cfg, stored))
    if (d.effect == KeyEffect::training || d.effect == KeyEffect::evaluation)
      out += (out.empty() ? "" : ", ") + d.name + " = " + d.value + " (checkpoint: " +
             d.other_value + ")";
  return out;
}

void write_summary(const std::string& run_dir, const TrainSummary& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "; edgerl run summary\n[final]\nepisode_return_mean = %.9g\n"
                "episode_return_std = %.9g\nabsolute_episode_return_mean = %.9g\n"
                "absolute_episode_return_std = %.9g\n"
                "timesteps = %lld\nwall_seconds = %.3f\nsteps_per_second = %.1f\n",
                s.episode_return_mean, s.episode_return_std, s.absolute_episode_return_mean,
                s.absolute_episode_return_std, static_cast<long long>(s.timesteps), s.wall_seconds,
                s.steps_per_second);
  const std::string text = buf;
  const Status st = write_file_atomic(posix_fs(), join_path(run_dir, "summary.ini"),
                                      reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!st.ok()) throw RunError("cannot write summary.ini: " + st.message());
}

// Saves checkpoints on a thread of its own, so that the fsyncs that make a save durable (tens
// of milliseconds on an SD card or a busy disk) overlap the next learn() instead of stalling
// training. The loop hands over a copy of the learner state (a memcpy, microseconds) and at
// most one save is in flight: the next hand-over, and the end of training, wait for it.
// Before each save the thread makes the logs durable (Logger::sync) under the logger's lock,
// so a checkpoint never describes a timestep whose log rows could be lost in a power cut.
class BackgroundSaver {
 public:
  BackgroundSaver(Checkpointer& ckpt, Logger& logger, std::mutex& logger_mutex)
      : ckpt_(ckpt), logger_(logger), logger_mutex_(logger_mutex), thread_([this] { run(); }) {}

  ~BackgroundSaver() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // The result of the previous save (waiting for it), then a copy of `state` queued for saving.
  SaveResult submit(int64_t timestep, int64_t eval_step, const TensorList& state,
                    double episode_return) {
    SaveResult previous = wait();
    snapshot(state);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = Job{timestep, eval_step, episode_return};
      pending_ = true;
    }
    cv_.notify_all();
    return previous;
  }

  // Waits for the save in flight, if any, and returns its result.
  SaveResult wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return !pending_; });
    SaveResult r = std::move(result_);
    result_ = SaveResult{};
    return r;
  }

 private:
  struct Job {
    int64_t timestep = 0, eval_step = 0;
    double episode_return = 0;
  };

  void snapshot(const TensorList& state) {
    if (copy_.size() != state.size()) {
      copy_.assign(state.size(), Tensor{});
      for (size_t i = 0; i < state.size(); ++i) {
        copy_[i].name = state[i].name;
        copy_[i].dtype = state[i].dtype;
        copy_[i].shape = state[i].shape;
        copy_[i].bytes.resize(state[i].size_bytes());
      }
      views_ = tensor_refs(copy_);
    }
    for (size_t i = 0; i < state.size(); ++i)
      if (state[i].size_bytes())
        std::memcpy(copy_[i].bytes.data(), state[i].data, state[i].size_bytes());
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || pending_; });
      if (!pending_) return;
      const Job job = job_;
      lock.unlock();
      {
        std::lock_guard<std::mutex> log_lock(logger_mutex_);
        logger_.sync();
      }
      SaveResult r = ckpt_.save(job.timestep, job.eval_step, views_, job.episode_return);
      lock.lock();
      result_ = std::move(r);
      pending_ = false;
      cv_.notify_all();
    }
  }

  Checkpointer& ckpt_;
  Logger& logger_;
  std::mutex& logger_mutex_;
  std::vector<Tensor> copy_;
  TensorList views_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Job job_;
  bool pending_ = false, stop_ = false;
  SaveResult result_;
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

TrainSummary train(const Config& cfg_in, const TrainOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  Config cfg = cfg_in;
  auto& ck = cfg.checkpointing;
  std::unique_ptr<System> system = make_system(cfg);
  TensorList state;
  system->append_tensors(state);
  const std::string model = model_name(cfg);

  // One checkpointer restores (load_model) and saves (save_model). Resuming restores the whole
  // learner state; saves then continue in the restored run's folder (or a new one when an
  // older step than the run's newest was restored).
  TrainSummary summary;
  // The logger (once it exists) prints the checkpointer's lines so they never tear the
  // console's progress bar; its lock also orders them with the saver thread's sync().
  std::mutex logger_mutex;
  Logger* notes = nullptr;
  int64_t resume_timestep = -1;
  std::string resumed_uid;
  std::unique_ptr<Checkpointer> ckpt;
  if (ck.save_model || ck.load_model) {
    if (ck.save_model && !ck.load_model && !ck.save_args.checkpoint_uid.empty()) {
      const std::string run =
          join_path(join_path(join_path(cfg.logger.base_exp_path, ck.save_args.rel_dir), model),
                    ck.save_args.checkpoint_uid);
      RunListing existing;
      if (list_run(posix_fs(), run, &existing).ok() && !existing.checkpoints.empty())
        throw RunError(run +
                         " already holds checkpoints: resume it with "
                         "logger.checkpointing.load_model=true or choose another checkpoint_uid");
    }
    CheckpointerHooks hooks;
    hooks.log = [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(logger_mutex);
      if (notes)
        notes->note(line);
      else
        std::fprintf(opt.err, "%s\n", line.c_str());
    };
    Status st = Checkpointer::open(ck, cfg.logger.base_exp_path, model, to_ini(cfg), &ckpt, hooks);
    if (!st.ok()) throw RunError("cannot open checkpoint folder: " + st.message());
    if (ck.load_model) {
      RestoreInfo info;
      st = ckpt->restore(state, &info);
      if (!st.ok()) throw RunError("cannot resume: " + st.message());
      try {
        system->after_restore();
      } catch (const std::exception& e) {
        throw RunError(info.path + ": restored state is impossible: " + e.what());
      }
      const std::string diff = training_differences(cfg, info.meta.config_ini);
      if (!diff.empty())
        std::fprintf(opt.err,
                     "edgerl train: warning: resuming with a different config: %s; the run will "
                     "not match an uninterrupted one\n",
                     diff.c_str());
      resumed_uid = info.checkpoint_uid;
      resume_timestep = system->counters().timestep;
      summary.start_eval_step = system->counters().eval_step;
      std::fprintf(opt.out, "resumed from %s (eval step %lld, timestep %lld)\n", info.path.c_str(),
                   static_cast<long long>(info.meta.eval_step),
                   static_cast<long long>(info.meta.timestep));
    }
    if (ck.save_model) summary.checkpoint_dir = ckpt->run_dir();
  }

  RunInfo run;
  run.system_name = cfg.system.system_name;
  run.scenario = cfg.env.scenario_name;
  // Logs live beside the checkpoints' run id: the saving run's, else the resumed run's.
  if (ck.save_model)
    run.uid = ckpt->checkpoint_uid();
  else if (!resumed_uid.empty())
    run.uid = resumed_uid;
  else if (!ck.save_args.checkpoint_uid.empty())
    run.uid = ck.save_args.checkpoint_uid;
  else
    run.uid =
        new_run_uid(join_path(join_path(cfg.logger.base_exp_path, run.system_name), run.scenario));
  run.total_timesteps =
      system->updates_per_eval() * system->steps_per_update() * cfg.arch.num_evaluation;
  run.num_evaluation = cfg.arch.num_evaluation;
  run.resume_from_timestep = resume_timestep;
  LoggerIo io;
  io.console = opt.out;
  io.diagnostics = opt.err;
  std::unique_ptr<Logger> logger;
  try {
    logger = std::make_unique<Logger>(cfg.logger, run, io);
  } catch (const LoggerError& e) {
    throw RunError(e.what());
  }
  summary.run_dir = logger->run_dir();
  {
    std::lock_guard<std::mutex> lock(logger_mutex);
    notes = logger.get();
  }

  system->set_progress([&](int64_t timestep) {
    std::lock_guard<std::mutex> lock(logger_mutex);
    logger->progress(timestep);
  });
  std::unique_ptr<BackgroundSaver> saver;
  if (ck.save_model) saver = std::make_unique<BackgroundSaver>(*ckpt, *logger, logger_mutex);
  // A failed save with on_save_error = abort stops training (exit status 3).
  auto save_failed = [&](const SaveResult& r) {
    if (!r.abort) return false;
    summary.save_failed = true;
    std::fprintf(opt.err,
                 "edgerl train: stopping: a checkpoint could not be saved "
                 "(on_save_error = abort)\n");
    summary.timesteps = system->counters().timestep;
    summary.wall_seconds = seconds_since(t0);
    return true;
  };

  const int64_t start_timestep = system->counters().timestep;
  EvalResult last;
  for (int64_t eval_step = system->counters().eval_step; eval_step < cfg.arch.num_evaluation;
       ++eval_step) {
    Throughput tp;
    Metrics train_metrics, act_metrics;
    const auto t_learn = std::chrono::steady_clock::now();
    const int64_t before = system->counters().timestep;
    system->learn(train_metrics, act_metrics);
    tp.train_seconds = seconds_since(t_learn);
    tp.train_steps = system->counters().timestep - before;
    const int64_t t = system->counters().timestep;
    const auto t_eval = std::chrono::steady_clock::now();
    last = evaluate(*system, eval_options(cfg), cfg.arch.num_eval_episodes,
                    static_cast<uint64_t>(eval_step));
    tp.eval_seconds = seconds_since(t_eval);
    tp.eval_steps = last.steps;
    {
      std::lock_guard<std::mutex> lock(logger_mutex);
      if (!act_metrics.empty()) logger->log(act_metrics, t, eval_step, LogEvent::ACT);
      logger->log(train_metrics, t, eval_step, LogEvent::TRAIN);
      logger->log(last.metrics(), t, eval_step, LogEvent::EVAL);
      logger->log_throughput(tp, t, eval_step);
    }
    if (saver && save_failed(saver->submit(t, eval_step, state, last.mean_return))) return summary;
  }
  if (saver && save_failed(saver->wait())) return summary;
  if (last.episode_return.empty())  // resumed a finished run: evaluate its final policy again
    last = evaluate(*system, eval_options(cfg), cfg.arch.num_eval_episodes,
                    static_cast<uint64_t>(cfg.arch.num_evaluation - 1));

  summary.absolute_episode_return_mean = NAN;
  summary.absolute_episode_return_std = NAN;
  const int64_t t_end = system->counters().timestep;
  if (cfg.arch.absolute_metric) {
    const EvalResult abs = evaluate(*system, eval_options(cfg), 10 * cfg.arch.num_eval_episodes,
                                    static_cast<uint64_t>(cfg.arch.num_evaluation));
    std::lock_guard<std::mutex> lock(logger_mutex);
    logger->log(abs.metrics(), t_end, cfg.arch.num_evaluation, LogEvent::ABSOLUTE);
    summary.absolute_episode_return_mean = abs.mean_return;
    summary.absolute_episode_return_std = abs.std_return();
  }
  summary.episode_return_mean = last.mean_return;
  summary.episode_return_std = last.std_return();
  summary.timesteps = t_end;
  summary.wall_seconds = seconds_since(t0);
  summary.steps_per_second =
      summary.wall_seconds > 0 ? static_cast<double>(t_end - start_timestep) / summary.wall_seconds
                               : 0;
  write_summary(summary.run_dir, summary);
  {
    std::lock_guard<std::mutex> lock(logger_mutex);
    logger->finish();
  }
  std::fprintf(opt.out,
               "final: episode_return %.2f ± %.2f, absolute %.2f ± %.2f, %lld timesteps in %.2f s "
               "(%.0f steps/s)\n",
               summary.episode_return_mean, summary.episode_return_std,
               summary.absolute_episode_return_mean, summary.absolute_episode_return_std,
               static_cast<long long>(summary.timesteps), summary.wall_seconds,
               summary.steps_per_second);
  return summary;
}

}  // namespace edgerl
