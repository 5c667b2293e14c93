// `edgerl sweep`: what a sweep refuses before it starts anything (a grid value twice, keys it
// sets per run itself, Slurm options that are not what Slurm takes, options of the other
// mode), and what `sweep status` and `sweep report` make of a sweep folder they cannot fully
// trust (a manifest that no longer loads, a summary.ini that is not a run summary).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli_call.hpp"
#include "edgerl/sweep.hpp"
#include "test_util.hpp"

using namespace edgerl;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

// Runs `edgerl sweep ARGS` (cli::run) with stdout and stderr captured.
using SweepCall = edgerl::testing::CliCall;
SweepCall run_sweep(const cli::Args& args) {
  return edgerl::testing::call_cli("sweep", args);
}

// The one line a refused command prints: exit 2, one stderr line holding `text`, nothing on
// stdout.
void check_refused(const cli::Args& args, const std::string& text) {
  const SweepCall r = run_sweep(args);
  std::string shown;
  for (const std::string& a : args) shown += a + " ";
  INFO("edgerl sweep " << shown << "-> " << r.status << ": " << r.err);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(text) != std::string::npos);
}

// The message expand_sweep refuses a spec with ("" if it does not).
std::string expand_error(const SweepSpec& spec) {
  try {
    expand_sweep(spec);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

SweepSpec grid(const std::string& key, std::vector<std::string> values,
               std::vector<std::string> overrides = {}) {
  SweepSpec spec;
  spec.out = "/nonexistent/sweep";
  spec.seeds = {1, 2};
  spec.axes.push_back({key, std::move(values)});
  spec.overrides = std::move(overrides);
  return spec;
}

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

const char* kFinished =
    "; edgerl run summary\n[final]\nstatus = finished\nepisode_return_mean = 180.5\n"
    "episode_return_std = 3\nabsolute_episode_return_mean = 190\n"
    "absolute_episode_return_std = 2\nabsolute_eval_step = 3\ntimesteps = 40960\n"
    "wall_seconds = 1.5\nsteps_per_second = 27000.0\npeak_resident_kib = 1\nthreads = 1\n"
    "steps_alone = 0\n";

}  // namespace

TEST_CASE("sweep: a grid value given twice, or two that are one value, is refused") {
  CHECK(expand_error(grid("system.actor_lr", {"1e-3", "1e-3"})) ==
        "system.actor_lr: value 1e-3 given twice: give each value once");
  CHECK(expand_error(grid("system.actor_lr", {"1e-3", "3e-4", "0.001"})) ==
        "system.actor_lr: values 1e-3 and 0.001 are the same value: give each value once");
  CHECK(expand_error(grid("network.actor_network.layer_sizes", {"64,64", "64, 64"})) ==
        "network.actor_network.layer_sizes: values [64,64] and [64, 64] make the same run id "
        "(64x64): give each value once");
  CHECK(expand_error(grid("system.actor_lr", {"1e-3", "3e-4"}, {"system.actor_lr=1e-4"})) ==
        "system.actor_lr is given twice: give it once (system.actor_lr=v1,v2,... for a grid "
        "axis)");
  SweepSpec two_axes = grid("system.actor_lr", {"1e-3", "3e-4"});
  two_axes.axes.push_back({"system.actor_lr", {"1e-4", "1e-5"}});
  CHECK(expand_error(two_axes).find("system.actor_lr is given twice") == 0);
  // Distinct values: distinct runs, each id once.
  const std::vector<SweepRun> runs = expand_sweep(grid("system.actor_lr", {"1e-3", "3e-4"}));
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].id == "actor_lr=1e-3,seed=1");
  CHECK(runs[3].id == "actor_lr=3e-4,seed=2");
  // Through the command line: one line, exit 2, no sweep folder.
  TempDir dir;
  check_refused({"system.actor_lr=1e-3,1e-3", "--out", dir / "sw"},
                "system.actor_lr: value 1e-3 given twice");
  CHECK_FALSE(std::filesystem::exists(dir / "sw"));
}

TEST_CASE("sweep: keys the sweep sets per run are refused, arch.seed with a pointer to --seeds") {
  CHECK(expand_error(grid("arch.seed", {"1", "2"})).find("arch.seed as a grid axis") == 0);
  CHECK(expand_error(grid("arch.seed", {"1", "2"})).find("--seeds") != std::string::npos);
  CHECK(expand_error(grid("system.actor_lr", {"1e-3", "3e-4"}, {"arch.seed=7"}))
            .find("arch.seed next to --seeds") == 0);
  // Without --seeds, arch.seed is the config's own: a plain override of it is the seed.
  SweepSpec own = grid("system.actor_lr", {"1e-3", "3e-4"}, {"arch.seed=7"});
  own.seeds.clear();
  const std::vector<SweepRun> runs = expand_sweep(own);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].seed == 7);
  for (const char* key :
       {"logger.base_exp_path=x", "logger.checkpointing.save_args.checkpoint_uid=x",
        "logger.checkpointing.load_model=false", "logger.checkpointing.load_args.checkpoint_uid=x",
        "logger.checkpointing.load_args.load_step=2", "logger.loggers.console.progress=always"}) {
    const std::string k = std::string(key).substr(0, std::string(key).find('='));
    INFO(key);
    CHECK(expand_error(grid("system.actor_lr", {"1e-3", "3e-4"}, {key})).find(k + ": ") == 0);
  }
  CHECK(expand_error(grid("logger.base_exp_path", {"a", "b"})).find("logger.base_exp_path: ") == 0);
  TempDir dir;
  check_refused({"--seeds", "1-2", "arch.seed=3", "--out", dir / "sw"}, "use --seeds");
  check_refused({"--seeds", "1-2", "arch.seed=3", "--out", dir / "sw"}, "--seeds 1-5");
  check_refused({"logger.base_exp_path=elsewhere", "--out", dir / "sw"},
                "logger.base_exp_path: the sweep sets it");
  CHECK_FALSE(std::filesystem::exists(dir / "sw"));
}

TEST_CASE("sweep --slurm: options that are not what Slurm takes are refused (no script)") {
  TempDir dir;
  const std::string out = dir / "sw";
  auto slurm = [&](std::vector<std::string> extra) {
    cli::Args a = {"--seeds", "1-2", "--out", out, "--slurm"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  check_refused(slurm({"--time", "1:00\necho pwned"}), "--time '1:00\\x0aecho pwned'");
  for (const char* bad : {"", "abc", "1:2:3:4", "1-", "-1", "1-2:3:4:5", "1h", " 60", "1:"})
    check_refused(slurm({"--time", bad}), "expected a Slurm time limit");
  check_refused(slurm({"--partition", "debug\necho pwned"}), "--partition 'debug\\x0aecho");
  check_refused(slurm({"--partition", "a b"}), "expected a partition name");
  check_refused(slurm({"--partition", ""}), "expected a partition name");
  check_refused(slurm({"--cpus-per-task", "0"}), "--cpus-per-task");
  check_refused(slurm({"--cpus-per-task", "2\necho"}), "--cpus-per-task '2\\x0aecho'");
  check_refused(slurm({"--cpus-per-task", " 2"}), "expected a whole number");
  check_refused(slurm({"--cpus-per-task", "+2"}), "expected a whole number");
  check_refused(slurm({"--throttle", "4x"}), "--throttle");
  check_refused(slurm({"--signal-grace", "-5"}), "--signal-grace");
  check_refused(slurm({"--sbatch-arg", "--hold\necho pwned"}), "--sbatch-arg '--hold\\x0aecho");
  check_refused(slurm({"--sbatch-arg="}), "--sbatch-arg ''");
  CHECK_FALSE(std::filesystem::exists(out));
  // Every form Slurm takes is written as given.
  for (const char* good : {"90", "30:00", "01:00:00", "2-12", "2-12:30", "2-12:30:15"}) {
    INFO(good);
    const SweepCall r = run_sweep(slurm({"--time", good, "--cpus-per-task", "2", "--partition",
                                         "gpu-a100", "--sbatch-arg", "--mem=4G"}));
    REQUIRE(r.status == 0);
    const std::string script = slurp(out + "/sweep.sbatch");
    CHECK(script.find("#SBATCH --time=" + std::string(good) + "\n") != std::string::npos);
    CHECK(script.find("#SBATCH --cpus-per-task=2\n") != std::string::npos);
    CHECK(script.find("#SBATCH --partition=gpu-a100\n") != std::string::npos);
    CHECK(script.find("#SBATCH --mem=4G\n") != std::string::npos);
  }
}

TEST_CASE("sweep: an option of the other mode is refused, not ignored") {
  TempDir dir;
  const std::string out = dir / "sw";
  check_refused({"--out", out, "--submit"}, "--submit needs --slurm");
  check_refused({"--out", out, "--local", "--submit"}, "--submit needs --slurm");
  check_refused({"--out", out, "--local", "--partition", "debug"}, "--partition needs --slurm");
  check_refused({"--out", out, "--time", "10"}, "--time needs --slurm");
  check_refused({"--out", out, "--sbatch-arg", "--hold"}, "--sbatch-arg needs --slurm");
  check_refused({"--out", out, "--slurm", "-j", "2"}, "-j needs --local");
  check_refused({"--out", out, "--slurm", "--jobs", "2"}, "-j needs --local");
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("sweep status: a sweep it cannot read prints nothing on stdout") {
  TempDir dir;
  SweepSpec spec = grid("system.actor_lr", {"1e-3", "3e-4"});
  spec.out = dir / "sw";
  write_sweep_manifest(posix_fs(), spec, expand_sweep(spec));
  // The manifest's config no longer loads (an edited manifest, or a config file since changed).
  std::string text = slurp(dir / "sw/sweep.ini");
  text.replace(text.find("override = system.actor_lr=3e-4"), 31, "override = system.actor_lr=x");
  write(dir / "sw/sweep.ini", text);
  for (const char* what : {"status", "report"}) {
    const SweepCall r = run_sweep({what, dir / "sw"});
    INFO(what << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("sweep status and report: a summary.ini that is not a run summary is a damaged run") {
  TempDir dir;
  SweepSpec spec = grid("system.actor_lr", {"1e-3", "3e-4"});
  spec.out = dir / "sw";
  const std::vector<SweepRun> runs = expand_sweep(spec);
  write_sweep_manifest(posix_fs(), spec, runs);
  const std::string logs = dir / "sw/ff_ppo/CartPole-v1/";
  write(logs + runs[0].id + "/summary.ini", kFinished);
  write(logs + runs[1].id + "/summary.ini", "hello\n");
  write(logs + runs[2].id + "/summary.ini", "[final]\nstatus = bogus\n");
  std::string negative = kFinished;
  negative.replace(negative.find("timesteps = 40960"), 17, "timesteps = -5");
  write(logs + runs[3].id + "/summary.ini", negative);

  const SweepRunState done = read_run_state(posix_fs(), spec, runs[0]);
  CHECK(done.kind == SweepRunState::done);
  CHECK(done.timesteps == 40960);
  CHECK(done.problem.empty());
  const char* problems[] = {"(no status line)", "(status = bogus)", "(timesteps = -5)"};
  for (size_t i = 1; i < 4; ++i) {
    const SweepRunState s = read_run_state(posix_fs(), spec, runs[i]);
    INFO(runs[i].id << ": " << s.problem);
    CHECK(s.kind == SweepRunState::damaged);
    CHECK(s.timesteps == 0);
    CHECK(s.problem.find(runs[i].id + "/summary.ini is not a run summary " + problems[i - 1]) !=
          std::string::npos);
  }
  const SweepCall status = run_sweep({"status", dir / "sw"});
  CHECK(status.status == 0);
  CHECK(std::count(status.err.begin(), status.err.end(), '\n') == 3);
  CHECK(status.out.find("4 runs: 3 damaged, 1 done") != std::string::npos);
  CHECK(status.out.find("-5") == std::string::npos);
  const SweepCall report = run_sweep({"report", dir / "sw"});
  CHECK(report.status == 0);
  CHECK(std::count(report.err.begin(), report.err.end(), '\n') == 3);
  // Only the valid summary counts: actor_lr=1e-3 has 1 of 2 done, its numbers those of seed 1.
  const std::string csv = slurp(dir / "sw/report.csv");
  CHECK(csv.find("actor_lr=1e-3,2,1,180.5,0,180.5,180.5,190,0,190,190,40960,1.5\n") !=
        std::string::npos);
  CHECK(csv.find("actor_lr=3e-4,2,0,nan,") != std::string::npos);
}
