// `edgerl train`: loads the config, handles the signals that ask a run to stop, maps --resume
// onto the checkpointing keys, runs the training loop (src/train/) and says how it ended.
#include <signal.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "cli/commands.hpp"
#include "core/text.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/train.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl train [--config FILE] [--resume [auto|UID|PATH]] [--allow-config-change]\n"
    "                    [section.key=value ...]\n"
    "\n"
    "Trains an agent: num_evaluation times learn, evaluate, log and checkpoint, then the\n"
    "absolute metric (the best evaluation's policy on 10x the episodes). Without --config the\n"
    "built-in default (PPO on CartPole-v1) is used. Logs go to\n"
    "<base_exp_path>/<system_name>/<scenario>/<uid>/, checkpoints to\n"
    "<base_exp_path>/checkpoints/<model_name>/<uid>/.\n"
    "\n"
    "  --config FILE          INI config (see edgerl config --doc, docs/config.md);\n"
    "                         builtin:NAME for a config compiled into the binary\n"
    "  --resume [auto]        continue the newest run of this model (or the run of\n"
    "                         save_args.checkpoint_uid) from its newest checkpoint that\n"
    "                         verifies; start a new run when there is none, so one command\n"
    "                         line both starts and resumes a job; a finished run is left\n"
    "                         alone (exit 0). Same as logger.checkpointing.load_model=true\n"
    "  --resume UID           continue run UID (an error if it has no checkpoint)\n"
    "  --resume PATH          continue from a checkpoint file or run folder of this config\n"
    "  --allow-config-change  resume even when keys that change what training computes\n"
    "                         differ from the checkpoint's (a warning; new values stored)\n"
    "\n"
    "SIGINT, SIGTERM and SIGUSR1 (Slurm's --signal) stop a run after the current update:\n"
    "it saves a checkpoint, syncs the logs and exits 75; a third signal ends it at once\n"
    "(earlier checkpoints stay valid). Two processes never share a run folder.\n"
    "\n";

// Lock-free atomics: safe in a signal handler, and read by the training and evaluation threads.
std::atomic<int> g_signal{0};  // the first stop signal received
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler needs lock-free atomics");

extern "C" void on_stop_signal(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig);
  if (g_signals.fetch_add(1) + 1 >= 2) {  // a third signal, of any of the kinds, ends it at once
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaction(s, &dfl, nullptr);
  }
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGUSR1:
      return "SIGUSR1";
  }
  return "a signal";
}

// --resume VALUE as checkpointing keys: auto, a run id, or a checkpoint file / run folder of
// this config's checkpoint folders.
std::vector<std::string> resume_overrides(const std::string& value, const Config& cfg) {
  std::vector<std::string> o = {"logger.checkpointing.load_model=true"};
  if (value == "auto") return o;
  const std::string model_dir = join_path(
      join_path(cfg.logger.base_exp_path, cfg.checkpointing.load_args.rel_dir), model_name(cfg));
  std::vector<DirEntry> probe;
  FileSystem& fs = posix_fs();
  const bool is_dir = fs.list_dir(value, &probe).ok();
  std::unique_ptr<RandomAccessFile> file;
  const bool is_file = !is_dir && fs.open_for_read(value, &file).ok();
  if (!is_dir && !is_file) {
    if (!folder_name_problem(value).empty())
      throw UsageError("--resume " + value +
                       ": not auto, a run id, or an existing checkpoint file or run folder");
    o.push_back("logger.checkpointing.load_args.checkpoint_uid=" + value);
    return o;
  }
  std::string run = value;
  while (run.size() > 1 && run.back() == '/') run.pop_back();
  int64_t step = -1;
  if (is_file) {
    if (!parse_checkpoint_file_name(base_name(run), &step))
      throw UsageError("--resume " + value + ": not a checkpoint file (step_NNNNNN.ckpt)");
    run = dir_name(run);
  }
  char a[4096], b[4096];
  const bool same = ::realpath(dir_name(run).c_str(), a) && ::realpath(model_dir.c_str(), b) &&
                    std::strcmp(a, b) == 0;
  if (!same)
    throw UsageError("--resume " + value + ": not a run of this config's checkpoint folder " +
                     model_dir +
                     " (set logger.base_exp_path and logger.checkpointing.model_name "
                     "to match it)");
  o.push_back("logger.checkpointing.load_args.checkpoint_uid=" + base_name(run));
  if (step >= 0) o.push_back("logger.checkpointing.load_args.load_step=" + std::to_string(step));
  return o;
}

}  // namespace

int cmd_train(const Args& args) {
  std::string path, resume;
  std::vector<std::string> overrides;
  bool resuming = false, allow_change = false;
  ArgParser p("train");
  p.config(&path, &overrides)
      .optional_value("--resume", &resume, "auto", &resuming)
      .flag("--allow-config-change", &allow_change);
  if (!p.parse(args)) {
    std::fputs(kHelp, stdout);
    std::fputs(kExitStatusHelp, stdout);
    return kExitOk;
  }
  Config cfg = load_config_from(path, overrides);
  if (resuming) {
    for (const std::string& o : resume_overrides(resume, cfg)) overrides.push_back(o);
    cfg = load_config_from(path, overrides);
  }
  // A write past `ulimit -f` is an I/O error that on_save_error handles, not a silent death;
  // a console that went away (a closed pipe) is one warning.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  install_stop_handlers();
  TrainOptions opt;
  opt.allow_config_change = allow_change;
  std::atomic<bool> announced{false};
  opt.stop_requested = [&announced] {
    if (g_signal == 0) return false;
    if (!announced.exchange(true)) {
      std::fprintf(stderr,
                   "edgerl train: %s: stopping after this update and saving a checkpoint "
                   "(a third signal ends it at once)\n",
                   signal_name(g_signal));
    }
    return true;
  };
  const TrainSummary s = train(cfg, opt);
  switch (s.outcome) {
    case TrainOutcome::finished:
      if (g_signal != 0)  // it came at the run's very end (its last interval or absolute metric)
        std::fprintf(stderr, "edgerl train: %s came too late to stop the run: it finished\n",
                     signal_name(g_signal));
      return kExitOk;
    case TrainOutcome::already_finished:
      return kExitOk;
    case TrainOutcome::save_failed:
      return kExitSaveFailed;
    case TrainOutcome::stopped:
      break;
  }
  if (s.stop_checkpoint.empty())
    std::fprintf(stderr, "edgerl train: stopped by %s at timestep %lld without a checkpoint (%s)\n",
                 signal_name(g_signal), static_cast<long long>(s.timesteps),
                 cfg.checkpointing.save_model ? "the save failed: the newest earlier one resumes"
                                              : "save_model = false: it cannot be resumed");
  else
    std::fprintf(stderr,
                 "edgerl train: stopped by %s at timestep %lld, saved %s; to continue, run the "
                 "same command%s\n",
                 signal_name(g_signal), static_cast<long long>(s.timesteps),
                 s.stop_checkpoint.c_str(), resuming ? " again" : " with --resume");
  return kExitStopped;
}

}  // namespace edgerl::cli
