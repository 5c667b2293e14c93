// `edgerl sweep`: a grid of config values times seeds as many `edgerl train --resume auto`
// runs, on this machine (a pool of processes) or as a Slurm array job; and `sweep status` and
// `sweep report` on the sweep folder. Running the same sweep command again skips finished runs
// and resumes the others: every run is an idempotent `train --resume auto`.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/commands.hpp"
#include "core/text.hpp"
#include "edgerl/io.hpp"
#include "edgerl/plot.hpp"
#include "edgerl/sweep.hpp"
#include "edgerl/train.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl sweep [--config FILE] [--seeds 1-10] [section.key=v1,v2,...] [overrides]\n"
    "                    --out DIR [--local [-j N] | --slurm [options] [--submit]]\n"
    "       edgerl sweep status DIR\n"
    "       edgerl sweep report DIR\n"
    "\n"
    "Expands a grid times seeds into runs with readable ids (actor_lr=3e-4,seed=3), one run\n"
    "folder each under DIR, listed in DIR/sweep.ini. A key given several comma-separated values\n"
    "is a grid axis (system.actor_lr=3e-4,1e-3); a list key takes its grid values in brackets\n"
    "(network.actor_network.layer_sizes=[64,64],[128,128]); one value is a plain override.\n"
    "Each run is `edgerl train --resume auto` with its overrides, so the same sweep command run\n"
    "again skips finished runs and resumes the others. A grid value given twice (or two that\n"
    "are one value: 1e-3 and 0.001) is refused, and so are the keys the sweep sets per run:\n"
    "arch.seed next to --seeds or as an axis (use --seeds), logger.base_exp_path (--out),\n"
    "the checkpoint keys save_args.checkpoint_uid, load_model, load_args.checkpoint_uid and\n"
    "load_args.load_step, and logger.loggers.console.progress.\n"
    "\n"
    "  --local [-j N]        run them here (the default), N at a time (default: the number of\n"
    "                        cores; -j is refused with --slurm), one progress line; each\n"
    "                        run's output goes to DIR/logs/<id>.log.\n"
    "                        SIGINT/SIGTERM stop every run gracefully at once (each saves\n"
    "                        and exits 75; no other run starts; exit 75)\n"
    "  --slurm               write DIR/sweep.sbatch: one array task per run, requeued on\n"
    "                        preemption and before its time limit (--signal), each resuming.\n"
    "                        The options below need --slurm\n"
    "    --partition P       #SBATCH --partition (one word)\n"
    "    --time T            #SBATCH --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or\n"
    "                        D-HH:MM:SS (default 01:00:00)\n"
    "    --cpus-per-task C   #SBATCH --cpus-per-task (default 1)\n"
    "    --throttle K        at most K tasks at once (--array=0-N%K)\n"
    "    --signal-grace S    seconds before the time limit for the save (default 120)\n"
    "    --sbatch-arg ARG    one more #SBATCH line (repeatable)\n"
    "    --submit            call sbatch and print the job id\n"
    "  status DIR            per run: done, running, resumable, failed, damaged (a summary.ini\n"
    "                        that is not a run summary: one line on stderr each, its numbers\n"
    "                        not counted) or pending, with steps and the last evaluation return\n"
    "  report DIR            per grid point across seeds: mean, std, median and interquartile\n"
    "                        mean of the final and absolute returns, steps and wall time;\n"
    "                        written to DIR/report.csv and DIR/report.svg and printed\n"
    "\n"
    "Exit status of a sweep: 0 every run finished; 5 some runs failed (see sweep status);\n"
    "75 stopped by a signal, or runs left to resume.\n";

extern "C" void on_sweep_child(int) {}  // SIGCHLD is taken by sigwaitinfo; never runs

// While a local sweep runs, SIGINT, SIGTERM, SIGUSR1 and SIGCHLD are blocked and taken one at a
// time by sigwaitinfo: a stop signal can never slip in between looking at the flag and waiting
// for a child (it stays pending until the wait takes it). Restores the signal mask and
// SIGCHLD's action, without delivering a stop signal that came too late to matter.
class SweepSignals {
 public:
  SweepSignals() {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGCHLD}) sigaddset(&set_, sig);
    struct sigaction sa {};
    sa.sa_handler = on_sweep_child;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &old_chld_);
    sigprocmask(SIG_BLOCK, &set_, &old_mask_);
  }
  ~SweepSignals() {
    const struct timespec now {};
    while (sigtimedwait(&set_, nullptr, &now) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGCHLD, &old_chld_, nullptr);
  }
  SweepSignals(const SweepSignals&) = delete;
  SweepSignals& operator=(const SweepSignals&) = delete;
  // The next signal (SIGCHLD: some child ended); -1 if interrupted.
  int wait() const { return sigwaitinfo(&set_, nullptr); }
  // In a forked child before exec: the signals as they were before the sweep.
  void restore_in_child() const {
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) signal(sig, SIG_DFL);
    sigaction(SIGCHLD, &old_chld_, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t set_{}, old_mask_{};
  struct sigaction old_chld_ {};
};

const char* stop_signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGUSR1";
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw UsageError("cannot find the edgerl binary (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) throw UsageError("cannot read the current folder");
  return join_path(cwd, path);
}

// The train command line of one run (after `edgerl train`).
std::vector<std::string> train_args(const SweepSpec& spec, const SweepRun& run) {
  std::vector<std::string> a;
  if (!spec.config.empty()) a.insert(a.end(), {"--config", spec.config});
  a.insert(a.end(), spec.overrides.begin(), spec.overrides.end());
  a.insert(a.end(), run.overrides.begin(), run.overrides.end());
  a.push_back("logger.loggers.console.progress=never");
  a.insert(a.end(), {"--resume", "auto"});
  return a;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Whether a run's train arguments set arch.num_threads (then the sweep leaves it alone).
bool sets_threads(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a.rfind("arch.num_threads=", 0) == 0) return true;
  return false;
}

// Runs the sweep's unfinished runs here, `jobs` at a time.
int run_local(const SweepSpec& spec, const std::vector<SweepRun>& runs, int jobs) {
  FileSystem& fs = posix_fs();
  std::vector<const SweepRun*> todo;
  size_t done = 0, failed = 0, busy = 0;
  for (const SweepRun& r : runs) {
    const SweepRunState st = read_run_state(fs, spec, r);
    if (st.kind == SweepRunState::done)
      ++done;
    else if (st.kind == SweepRunState::running)
      ++busy;  // another process has it: leave it alone
    else
      todo.push_back(&r);
  }
  // The runs at once share the cores: each gets its part (1 when there are more runs than
  // cores).
  const int cores = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const int at_once = std::max(1, std::min(jobs, static_cast<int>(todo.size())));
  const int threads = std::max(1, cores / at_once);
  const Status logs = create_dirs(fs, join_path(spec.out, "logs"));
  if (!logs.ok()) throw RunError("cannot create the sweep's log folder: " + logs.message());
  const std::string edgerl = self_path();
  const bool tty = ::isatty(STDOUT_FILENO);
  std::map<pid_t, const SweepRun*> running;
  size_t next = 0, stopped = 0;
  int stop = 0;  // the first stop signal; no run starts after it
  std::string last_line;
  auto progress = [&] {
    char line[256];
    std::snprintf(line, sizeof line, "sweep %s: %zu/%zu done, %zu running, %zu failed, %zu to go",
                  spec.out.c_str(), done, runs.size(), running.size(), failed, todo.size() - next);
    if (line == last_line) return;
    last_line = line;
    if (tty)
      std::printf("\r%s\033[K", line);
    else
      std::printf("%s\n", line);
    std::fflush(stdout);
  };
  // A run that ended: its status recorded and counted.
  auto ended = [&](std::map<pid_t, const SweepRun*>::iterator it, int status) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    write_run_exit_status(fs, spec.out, it->second->id, code);
    if (code == 0)
      ++done;
    else if (code == 75 || code >= 128)
      ++stopped;
    else
      ++failed;
    running.erase(it);
  };
  const SweepSignals signals;
  progress();
  for (;;) {
    while (!stop && next < todo.size() && static_cast<int>(running.size()) < jobs) {
      const SweepRun* r = todo[next++];
      std::vector<std::string> args = train_args(spec, *r);
      args.insert(args.begin(), {"edgerl", "train"});
      if (!sets_threads(args)) args.push_back("arch.num_threads=" + std::to_string(threads));
      const std::string log = join_path(join_path(spec.out, "logs"), r->id + ".log");
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = ::fork();
      if (pid < 0) throw RunError(std::string("cannot start a run: ") + std::strerror(errno));
      if (pid == 0) {
        ::setpgid(0, 0);  // the terminal's Ctrl-C reaches the sweep, which passes it on once
        signals.restore_in_child();
        FILE* f = std::freopen(log.c_str(), "a", stdout);
        if (f) ::dup2(::fileno(stdout), STDERR_FILENO);
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(edgerl.c_str(), argv.data());
        std::_Exit(127);
      }
      ::setpgid(pid, pid);  // also here, so that no Ctrl-C can reach it before the child's own
      running[pid] = r;
      progress();
    }
    if (running.empty()) break;
    // Every run that ended; then, if none did, the next signal (a child's end or a stop).
    bool reaped = false;
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      const pid_t pid = ::waitpid(it->first, &status, WNOHANG);
      const auto here = it++;
      if (pid == here->first) {
        ended(here, status);
        reaped = true;
      } else if (pid < 0 && errno == ECHILD) {  // not ours to wait for after all
        ended(here, 127 << 8);
        reaped = true;
      }
    }
    if (reaped) {
      progress();
      continue;
    }
    const int sig = signals.wait();
    if (sig > 0 && sig != SIGCHLD && !stop) {
      stop = sig;
      for (const auto& [pid, run] : running) ::kill(pid, SIGTERM);  // each saves and exits 75
    }
  }
  if (tty) std::printf("\n");
  std::fflush(stdout);
  const size_t left = todo.size() - next;
  if (failed > 0) {
    std::fprintf(stderr, "edgerl sweep: %zu run%s failed: see edgerl sweep status %s\n", failed,
                 failed == 1 ? "" : "s", spec.out.c_str());
    return kExitRunsFailed;
  }
  // A stop that came when every run had finished anyway leaves nothing to continue.
  if (stopped > 0 || left > 0 || busy > 0) {
    std::fprintf(stderr,
                 "edgerl sweep: %s%s with %zu of %zu runs done%s; run the same command again "
                 "to go on\n",
                 stop ? "stopped by " : "stopped", stop ? stop_signal_name(stop) : "", done,
                 runs.size(), busy ? " (others are running elsewhere)" : "");
    return kExitStopped;
  }
  return kExitOk;
}

struct SlurmOptions {
  std::string partition, time = "01:00:00", cpus = "1", throttle, grace = "120";
  std::vector<std::string> extra;
  bool submit = false;
};

// A count: decimal digits only (no sign, no space), from 1 to hi.
int64_t count_option(const std::string& name, const std::string& value, int64_t hi) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
      value.size() > 12)
    throw UsageError(name + " '" + printable(value) + "': expected a whole number from 1 to " +
                     std::to_string(hi));
  return parse_int_option(name, value, 1, hi);
}

// Whether `t` is a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS,
// each part decimal digits.
bool is_slurm_time(const std::string& t) {
  const size_t dash = t.find('-');
  const std::string days = dash == std::string::npos ? "" : t.substr(0, dash);
  const std::vector<std::string> parts =
      split(dash == std::string::npos ? t : t.substr(dash + 1), ':');
  const bool digits = std::all_of(parts.begin(), parts.end(), [](const std::string& p) {
    return !p.empty() && p.size() <= 9 && p.find_first_not_of("0123456789") == std::string::npos;
  });
  if (!digits || parts.size() > 3) return false;
  if (dash == std::string::npos) return true;  // M, M:S, H:M:S
  return !days.empty() && days.size() <= 9 &&
         days.find_first_not_of("0123456789") == std::string::npos;  // D-H, D-H:M, D-H:M:S
}

// Whether `s` holds a control character (a newline would end the #SBATCH line and start a
// shell command).
bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// The Slurm options as sweep.sbatch writes them: refused unless each is one plain word of its
// kind (UsageError naming it); the numbers in their canonical form.
void check_slurm_options(SlurmOptions* o, bool has_partition) {
  if (has_partition && (o->partition.empty() || has_control(o->partition) ||
                        o->partition.find_first_of(" \t") != std::string::npos))
    throw UsageError("--partition '" + printable(o->partition) +
                     "': expected a partition name (no spaces or control characters)");
  if (!is_slurm_time(o->time))
    throw UsageError("--time '" + printable(o->time) +
                     "': expected a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM "
                     "or D-HH:MM:SS");
  o->cpus = std::to_string(count_option("--cpus-per-task", o->cpus, 1 << 20));
  if (!o->throttle.empty())
    o->throttle = std::to_string(count_option("--throttle", o->throttle, 1 << 20));
  o->grace = std::to_string(count_option("--signal-grace", o->grace, 1 << 20));
  for (const std::string& e : o->extra)
    if (e.empty() || has_control(e))
      throw UsageError("--sbatch-arg '" + printable(e) +
                       "': expected one #SBATCH option (no control characters)");
}

// DIR/sweep.sbatch: one array task per run; each resumes its run, and asks to be requeued
// when the time limit's signal stopped it.
std::string slurm_script(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                         const SlurmOptions& o) {
  const std::string edgerl = self_path();
  std::string s;
  s += "#!/bin/bash\n";
  s += "# edgerl sweep: " + std::to_string(runs.size()) + " runs of " +
       (spec.config.empty() ? "the built-in default config" : spec.config) +
       ", one Slurm array task each.\n";
  s += "# Written by `edgerl sweep ... --slurm`; edit freely. Every task runs\n"
       "# `edgerl train --resume auto` for its run, so a requeued task continues from its newest\n"
       "# checkpoint, and a finished one exits at once. Submit with: sbatch " +
       join_path(spec.out, "sweep.sbatch") + "\n";
  s += "#SBATCH --job-name=edgerl-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(runs.size() - 1) +
       (o.throttle.empty() ? "" : "%" + o.throttle) + "\n";
  s += "#SBATCH --requeue              # preempted or timed-out tasks go back to the queue\n";
  std::string signal = "#SBATCH --signal=B:USR1@" + o.grace;
  signal.resize(std::max<size_t>(signal.size() + 1, 31), ' ');  // the comments line up
  s += signal + "# USR1 to this script before the time limit: time to save\n";
  s += "#SBATCH --open-mode=append     # a requeued task appends to its output\n";
  s += "#SBATCH --output=" + join_path(spec.out, "logs") + "/slurm-%A_%a.out\n";
  s += "#SBATCH --time=" + o.time + "\n";
  s += "#SBATCH --cpus-per-task=" + o.cpus + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  for (const std::string& e : o.extra) s += "#SBATCH " + e + "\n";
  s += "set -u\n";
  s += "EDGERL=" + shell_quote(edgerl) + "\n";
  s += "SWEEP=" + shell_quote(spec.out) + "\n";
  s += "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (const SweepRun& r : runs) {
    s += "  " + std::to_string(r.index) + ") RUN=" + shell_quote(r.id) + "\n     set --";
    for (const std::string& a : train_args(spec, r)) s += " " + shell_quote(a);
    s += " ;;\n";
  }
  s += "  *) echo \"edgerl sweep: no run for task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n";
  s += "esac\n";
  s += "# USR1 (the time limit is near): edgerl saves, exits 75, and this task requeues itself.\n"
       "# TERM (scancel, preemption, scontrol requeue): edgerl saves and exits 75; Slurm does\n"
       "# the requeueing.\n";
  s += "requeue=0\n";
  s += "trap 'requeue=1; kill -USR1 \"$child\" 2> /dev/null' USR1\n";
  s += "trap 'kill -TERM \"$child\" 2> /dev/null' TERM\n";
  // A task uses the CPUs it asked for (a node's other cores belong to other tasks).
  const bool threads_given = !runs.empty() && sets_threads(train_args(spec, runs.front()));
  s += threads_given
           ? "\"$EDGERL\" train \"$@\" &\n"
           : "\"$EDGERL\" train \"$@\" arch.num_threads=\"${SLURM_CPUS_PER_TASK:-1}\" &\n";
  s += "child=$!\n";
  s += "while :; do\n";
  s += "  wait \"$child\"\n";
  s += "  status=$?\n";
  s += "  kill -0 \"$child\" 2> /dev/null || break  # else a trapped signal interrupted wait\n";
  s += "done\n";
  s += "mkdir -p \"$SWEEP/status\" && echo \"$status\" > \"$SWEEP/status/$RUN\"\n";
  s += "if [ \"$status\" = 75 ] && [ \"$requeue\" = 1 ]; then\n";
  s += "  echo \"edgerl sweep: $RUN stopped before the time limit; requeueing\"\n";
  s += "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n";
  s += "fi\n";
  s += "exit \"$status\"\n";
  return s;
}

int run_slurm(const SweepSpec& spec, const std::vector<SweepRun>& runs, const SlurmOptions& o) {
  FileSystem& fs = posix_fs();
  const std::string path = join_path(spec.out, "sweep.sbatch");
  const std::string text = slurm_script(spec, runs, o);
  Status st = create_dirs(fs, join_path(spec.out, "logs"));
  if (st.ok())
    st = write_file_atomic(fs, path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!st.ok()) throw RunError("cannot write " + path + ": " + st.message());
  ::chmod(path.c_str(), 0755);
  std::printf("wrote %s: %zu array tasks\n", path.c_str(), runs.size());
  if (!o.submit) return kExitOk;
  const std::string cmd = "sbatch --parsable " + shell_quote(path) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw RunError("cannot run sbatch: " + std::string(std::strerror(errno)));
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (status != 0) throw RunError("sbatch failed: " + printable(out));
  std::printf("submitted job %s\n", out.substr(0, out.find(';')).c_str());
  return kExitOk;
}

int sweep_status(const std::string& dir) {
  FileSystem& fs = posix_fs();
  const SweepManifest m = read_sweep_manifest(fs, dir);
  // Every state first: a run that cannot be read fails the command before any output.
  std::vector<SweepRunState> states;
  for (const SweepRun& r : m.runs) states.push_back(read_run_state(fs, m.spec, r));
  for (const SweepRunState& s : states)
    if (!s.problem.empty()) std::fprintf(stderr, "edgerl sweep: %s\n", s.problem.c_str());
  std::map<std::string, size_t> counts;
  size_t width = 2;
  for (const SweepRun& r : m.runs) width = std::max(width, r.id.size());
  std::printf("%-*s  %-9s %12s %12s\n", static_cast<int>(width), "id", "state", "timesteps",
              "last return");
  for (size_t i = 0; i < m.runs.size(); ++i) {
    const SweepRun& r = m.runs[i];
    const SweepRunState& s = states[i];
    ++counts[state_name(s.kind)];
    char ret[32] = "-";
    if (s.has_return) std::snprintf(ret, sizeof ret, "%.2f", s.last_return);
    std::printf("%-*s  %-9s %12lld %12s\n", static_cast<int>(width), r.id.c_str(),
                state_name(s.kind), static_cast<long long>(s.timesteps), ret);
  }
  std::string summary;
  for (const auto& [name, n] : counts)
    summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  std::printf("%zu runs: %s\n", m.runs.size(), summary.c_str());
  return kExitOk;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

int sweep_report(const std::string& dir) {
  FileSystem& fs = posix_fs();
  const SweepManifest m = read_sweep_manifest(fs, dir);
  std::vector<std::string> points;
  std::map<std::string, std::vector<std::pair<const SweepRun*, SweepRunState>>> by_point;
  for (const SweepRun& r : m.runs) {
    if (!by_point.count(r.point)) points.push_back(r.point);
    by_point[r.point].push_back({&r, read_run_state(fs, m.spec, r)});
    const std::string& damaged = by_point[r.point].back().second.problem;
    if (!damaged.empty()) std::fprintf(stderr, "edgerl sweep: %s\n", damaged.c_str());
  }
  std::string csv =
      "point,seeds,done,final_mean,final_std,final_median,final_iqm,absolute_mean,"
      "absolute_std,absolute_median,absolute_iqm,timesteps_mean,wall_seconds_mean\n";
  // The table is printed once the files are written: a failure prints nothing on stdout.
  std::string table;
  auto row = [&table](const char* format, auto... values) {
    const int n = std::snprintf(nullptr, 0, format, values...);
    std::string line(static_cast<size_t>(std::max(n, 0)) + 1, '\0');
    std::snprintf(line.data(), line.size(), format, values...);
    line.pop_back();
    table += line;
  };
  row("%-32s %5s %10s %9s %10s %10s %10s %10s %12s %8s\n", "point", "seeds", "final", "± std",
      "median", "IQM", "absolute", "abs IQM", "timesteps", "wall s");
  std::vector<Curve> curves;
  for (const std::string& p : points) {
    std::vector<double> finals, absolutes, steps, walls;
    for (const auto& [run, s] : by_point[p]) {
      if (s.kind != SweepRunState::done) continue;
      finals.push_back(s.final_return);
      absolutes.push_back(s.absolute_return);
      steps.push_back(static_cast<double>(s.timesteps));
      walls.push_back(s.wall_seconds);
    }
    const SeedStats f = seed_stats(finals), a = seed_stats(absolutes), t = seed_stats(steps),
                    w = seed_stats(walls);
    const std::string name = p.empty() ? "all" : p;
    csv += name + "," + std::to_string(by_point[p].size()) + "," + std::to_string(f.n) + "," +
           number(f.mean) + "," + number(f.std) + "," + number(f.median) + "," + number(f.iqm) +
           "," + number(a.mean) + "," + number(a.std) + "," + number(a.median) + "," +
           number(a.iqm) + "," + number(t.mean) + "," + number(w.mean) + "\n";
    row("%-32s %2zu/%-2zu %10.2f %9.2f %10.2f %10.2f %10.2f %10.2f %12.0f %8.2f\n", name.c_str(),
        f.n, by_point[p].size(), f.mean, f.std, f.median, f.iqm, a.mean, a.iqm, t.mean, w.mean);
    // The point's curve: the mean across its seeds at each timestep, min to max as the band.
    std::map<double, std::vector<double>> at;
    for (const auto& [run, s] : by_point[p]) {
      try {
        const Curve c = read_curve(join_path(s.run_dir, "eval.csv"), "episode_return", run->id);
        for (size_t i = 0; i < c.timestep.size(); ++i) at[c.timestep[i]].push_back(c.mean[i]);
      } catch (const PlotError&) {
        // a run with no evaluation yet adds nothing to the curve
      }
    }
    Curve c;
    c.label = name;
    for (const auto& [x, ys] : at) {
      const SeedStats s = seed_stats(ys);
      c.timestep.push_back(x);
      c.mean.push_back(s.mean);
      c.lo.push_back(*std::min_element(ys.begin(), ys.end()));
      c.hi.push_back(*std::max_element(ys.begin(), ys.end()));
    }
    if (!c.timestep.empty()) curves.push_back(std::move(c));
  }
  Status st = write_file_atomic(fs, join_path(dir, "report.csv"),
                                reinterpret_cast<const uint8_t*>(csv.data()), csv.size());
  if (!st.ok()) throw RunError("cannot write report.csv: " + st.message());
  if (!curves.empty()) {
    PlotOptions options;
    options.title = "sweep " + base_name(dir) + ": mean over seeds, min to max";
    const std::string svg = render_svg(curves, options);
    st = write_file_atomic(fs, join_path(dir, "report.svg"),
                           reinterpret_cast<const uint8_t*>(svg.data()), svg.size());
    if (!st.ok()) throw RunError("cannot write report.svg: " + st.message());
  }
  std::fputs(table.c_str(), stdout);
  std::printf("wrote %s and %s\n", join_path(dir, "report.csv").c_str(),
              join_path(dir, "report.svg").c_str());
  return kExitOk;
}

}  // namespace

int cmd_sweep(const Args& args) {
  if (!args.empty() && (args[0] == "status" || args[0] == "report")) {
    std::vector<std::string> dirs;
    ArgParser p("sweep");
    p.operands(&dirs);
    if (!p.parse(Args(args.begin() + 1, args.end()))) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    if (dirs.size() != 1) throw UsageError(args[0] + " takes one sweep folder");
    return args[0] == "status" ? sweep_status(dirs[0]) : sweep_report(dirs[0]);
  }
  SweepSpec spec;
  std::string seeds, jobs_text;
  std::vector<std::string> overrides;
  bool local = false, slurm = false, has_jobs = false, has_seeds = false;
  bool has_partition = false, has_time = false, has_cpus = false, has_grace = false;
  SlurmOptions so;
  ArgParser p("sweep");
  p.config(&spec.config, &overrides)
      .option("--seeds", &seeds, "", &has_seeds)
      .option("--out", &spec.out)
      .flag("--local", &local)
      .option("--jobs", &jobs_text, "-j", &has_jobs)
      .flag("--slurm", &slurm)
      .option("--partition", &so.partition, "", &has_partition)
      .option("--time", &so.time, "", &has_time)
      .option("--cpus-per-task", &so.cpus, "", &has_cpus)
      .option("--throttle", &so.throttle)
      .option("--signal-grace", &so.grace, "", &has_grace)
      .flag("--submit", &so.submit);
  // --sbatch-arg may repeat: take them out before parsing.
  Args rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--sbatch-arg") {
      if (i + 1 >= args.size()) throw UsageError("--sbatch-arg needs a value");
      so.extra.push_back(args[++i]);
    } else if (args[i].rfind("--sbatch-arg=", 0) == 0) {
      so.extra.push_back(args[i].substr(13));
    } else {
      rest.push_back(args[i]);
    }
  }
  if (!p.parse(rest)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (spec.out.empty()) throw UsageError("needs --out DIR, the sweep folder");
  if (local && slurm) throw UsageError("--local and --slurm exclude each other");
  if (has_jobs && slurm)
    throw UsageError(
        "-j needs --local (a Slurm task's CPUs: --cpus-per-task; tasks at once: "
        "--throttle)");
  if (!slurm) {
    // Slurm's options would be ignored by a local sweep.
    const char* given = so.submit              ? "--submit"
                        : has_partition        ? "--partition"
                        : has_time             ? "--time"
                        : has_cpus             ? "--cpus-per-task"
                        : !so.throttle.empty() ? "--throttle"
                        : has_grace            ? "--signal-grace"
                        : !so.extra.empty()    ? "--sbatch-arg"
                                               : nullptr;
    if (given) throw UsageError(std::string(given) + " needs --slurm");
  }
  const int jobs = has_jobs ? static_cast<int>(count_option("--jobs", jobs_text, 4096))
                            : std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  check_slurm_options(&so, has_partition);
  if (has_seeds) spec.seeds = parse_seeds(seeds);
  for (const std::string& o : overrides) {
    SweepSpec::Axis axis;
    if (parse_grid_override(o, &axis))
      spec.axes.push_back(std::move(axis));
    else
      spec.overrides.push_back(o);
  }
  spec.out = absolute(spec.out);
  if (!spec.config.empty() && spec.config.rfind("builtin:", 0) != 0)
    spec.config = absolute(spec.config);
  const std::vector<SweepRun> runs = expand_sweep(spec);
  // The same sweep again is fine; another one in the same folder is not.
  std::string existing;
  if (read_file_to_string(posix_fs(), join_path(spec.out, "sweep.ini"), &existing).ok() &&
      existing != sweep_manifest_text(spec, runs))
    throw UsageError(join_path(spec.out, "sweep.ini") +
                     " describes another sweep: choose another --out, or run that sweep's "
                     "own command");
  write_sweep_manifest(posix_fs(), spec, runs);
  std::printf("sweep %s: %zu runs (%zu grid points x %zu seeds)\n", spec.out.c_str(), runs.size(),
              runs.size() / std::max<size_t>(1, spec.seeds.size()),
              std::max<size_t>(1, spec.seeds.size()));
  if (slurm) return run_slurm(spec, runs, so);
  return run_local(spec, runs, jobs);
}

}  // namespace edgerl::cli
