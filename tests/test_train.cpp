// The whole training loop on a disk that fails: every file the run writes goes through the
// FileSystem it is given, so a write error in the logs, a failed save, or a crash followed by a
// power cut can be injected into a real training run. Whatever fails, training goes on (or
// stops as on_save_error asks), nothing that was durable is lost, and a run resumed from what
// survived ends exactly where an uninterrupted one does.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/text.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/config.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/train.hpp"
#include "fault_fs.hpp"
#include "test_util.hpp"
#include "train/saver.hpp"

using namespace edgerl;
using edgerl::test::FaultFs;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

// A short PPO CartPole run writing every log and a checkpoint at every evaluation.
Config short_run(const std::string& base, std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"arch.total_timesteps=20480",
                                "arch.num_evaluation=4",
                                "arch.num_eval_episodes=4",
                                "logger.base_exp_path=" + base,
                                "logger.loggers.console.enabled=false",
                                "logger.checkpointing.save_args.checkpoint_uid=run",
                                "logger.checkpointing.save_args.max_to_keep=10",
                                "logger.checkpointing.save_args.min_free_bytes=0"};
  o.insert(o.end(), extra.begin(), extra.end());
  return load_config_text(builtin_config_text("ppo_cartpole.ini"), "ppo_cartpole.ini", o);
}

// A fixed wall clock and a monotonic one that ticks per call, in each thread on its own (the
// evaluation thread times itself while the loop learns): the same bytes on every run.
Clock fixed_clock() {
  struct Ticks {
    std::mutex mutex;
    std::map<std::thread::id, double> t;
  };
  Clock c;
  c.wall = [] { return 1.8e9; };
  auto ticks = std::make_shared<Ticks>();
  c.monotonic = [ticks] {
    std::lock_guard<std::mutex> lock(ticks->mutex);
    return ticks->t[std::this_thread::get_id()] += 0.125;
  };
  return c;
}

struct Run {
  TrainSummary summary;
  std::string err;  // the warnings (the checkpointer's news of each save left out)
};

Run train_on(FileSystem& fs, const Config& cfg, std::function<bool()> stop = {}) {
  FILE* null = std::fopen("/dev/null", "w");
  FILE* err = std::tmpfile();
  TrainOptions opt;
  opt.out = null;
  opt.err = err;
  opt.fs = &fs;
  opt.clock = fixed_clock();
  opt.stop_requested = std::move(stop);
  Run r;
  r.summary = train(cfg, opt);
  std::fflush(err);
  std::rewind(err);
  char buf[4096];
  size_t n;
  std::string all;
  while ((n = std::fread(buf, 1, sizeof buf, err)) > 0) all.append(buf, n);
  for (size_t at = 0; at < all.size();) {
    const size_t nl = all.find('\n', at);
    const std::string line = all.substr(at, nl - at + 1);
    if (line.rfind("checkpoint: saving to ", 0) != 0 && line.rfind("checkpoint: saved ", 0) != 0)
      r.err += line;
    at = nl == std::string::npos ? all.size() : nl + 1;
  }
  std::fclose(err);
  std::fclose(null);
  return r;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t nl = s.find('\n', at);
    out.push_back(s.substr(at, nl == std::string::npos ? nl : nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

std::string log_path(const std::string& base, const char* file) {
  return base + "/ff_ppo/CartPole-v1/run/" + file;
}
std::string ckpt_path(const std::string& base, int step) {
  return base + "/checkpoints/ff_ppo/run/" + checkpoint_file_name(step);
}

// Every tensor of a checkpoint file (checked), by name and bytes.
std::vector<Tensor> tensors_of(const std::string& path) {
  CheckpointInfo info;
  std::vector<Tensor> t;
  const Status s = read_checkpoint_file(posix_fs(), path, &info, &t);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return t;
}

void check_same_tensors(const std::string& a, const std::string& b) {
  const std::vector<Tensor> ta = tensors_of(a), tb = tensors_of(b);
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    CAPTURE(ta[i].name);
    CHECK(ta[i].name == tb[i].name);
    CHECK(ta[i].bytes == tb[i].bytes);
  }
}

// The uninterrupted run every faulty one is compared with.
struct Reference {
  TempDir dir;
  Run run;
  int mutations = 0;  // file-system operations that change something
  Reference() {
    FaultFs counting;
    counting.skip_syncs = true;
    run = train_on(counting, short_run(dir.path()));
    for (const std::string& op : counting.trace)
      if (op.rfind("list ", 0) != 0 && op.rfind("open ", 0) != 0 && op.rfind("free ", 0) != 0)
        ++mutations;
  }
  std::string log(const char* file) const { return slurp(log_path(dir.path(), file)); }
  std::string ckpt(int step) const { return ckpt_path(dir.path(), step); }
};

const Reference& reference() {
  static const Reference r;
  return r;
}

// Resumes the run in `base` on a healthy disk: it must end as the reference did, its last
// checkpoint's tensors and its logs byte for byte.
void resume_matches_reference(const std::string& base, const Reference& ref) {
  FaultFs healthy;
  healthy.skip_syncs = true;
  const Run resumed = train_on(healthy, short_run(base, {"logger.checkpointing.load_model=true"}));
  CHECK(resumed.summary.timesteps == 20480);
  check_same_tensors(ckpt_path(base, 3), ref.ckpt(3));
  for (const char* f : {"eval.csv", "train.csv", "act.csv", "absolute.csv"}) {
    CAPTURE(f);
    CHECK(slurp(log_path(base, f)) == ref.log(f));
  }
}

// The mean returns of eval.csv, by eval step.
std::vector<double> eval_returns(const std::string& eval_csv) {
  const std::vector<std::string> rows = lines_of(eval_csv);
  REQUIRE(rows.size() > 1);
  const std::vector<std::string> head = split(rows[0], ',');
  const size_t col = static_cast<size_t>(
      std::find(head.begin(), head.end(), "episode_return_mean") - head.begin());
  REQUIRE(col < head.size());
  std::vector<double> out;
  for (size_t i = 1; i < rows.size(); ++i) out.push_back(std::stod(split(rows[i], ',')[col]));
  return out;
}

// The step of the best of returns[0..n): the highest, the later on ties; -1 for none.
int64_t best_of(const std::vector<double>& returns, size_t n) {
  int64_t best = -1;
  for (size_t i = 0; i < n; ++i)
    if (best < 0 || returns[i] >= returns[static_cast<size_t>(best)])
      best = static_cast<int64_t>(i);
  return best;
}

// A tensor's bytes as one value of type T.
template <class T>
T scalar_of(const std::vector<Tensor>& tensors, const std::string& name) {
  for (const Tensor& t : tensors)
    if (t.name == name) {
      REQUIRE(t.bytes.size() == sizeof(T));
      T v;
      std::memcpy(&v, t.bytes.data(), sizeof v);
      return v;
    }
  FAIL("no tensor " << name);
  return T();
}

}  // namespace

TEST_CASE("train: the uninterrupted reference run wrote every log and checkpoint") {
  const Reference& ref = reference();
  CHECK(ref.run.summary.timesteps == 20480);
  CHECK_MESSAGE(ref.run.err.empty(), ref.run.err);
  CHECK(lines_of(ref.log("eval.csv")).size() == 5);  // header and 4 evaluations
  for (int step = 0; step < 4; ++step) {
    CheckpointInfo info;
    CHECK(verify_checkpoint_file(posix_fs(), ref.ckpt(step), &info).ok());
  }
  CHECK(slurp(log_path(ref.dir.path(), "summary.ini")).find("status = finished") !=
        std::string::npos);
}

TEST_CASE("train: a write error in the middle of the logs stops that log only") {
  const Reference& ref = reference();
  TempDir dir;
  FaultFs fs;
  fs.skip_syncs = true;
  fs.fail_at(3, ENOSPC, FaultFs::Op::write, false, "eval.csv");  // header, row 1, then full
  const Run r = train_on(fs, short_run(dir.path()));
  CHECK(fs.fault_fired());
  // Training went on to the end and said once which log stopped.
  CHECK(r.summary.timesteps == 20480);
  CHECK(r.summary.outcome == TrainOutcome::finished);
  const auto warnings = lines_of(r.err);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("eval.csv: write failed: No space left on device") != std::string::npos);
  // The failed log holds whole rows: the header and the first evaluation, as the reference.
  const auto eval = lines_of(slurp(log_path(dir.path(), "eval.csv")));
  const auto ref_eval = lines_of(ref.log("eval.csv"));
  REQUIRE(eval.size() == 2);
  CHECK(eval[0] == ref_eval[0]);
  CHECK(eval[1] == ref_eval[1]);
  // The CSV sink stopped as a whole: its other files hold whole rows, the reference's first.
  for (const char* f : {"train.csv", "act.csv"}) {
    CAPTURE(f);
    const auto got = lines_of(slurp(log_path(dir.path(), f)));
    const auto want = lines_of(ref.log(f));
    REQUIRE(got.size() <= want.size());
    CHECK(got.size() >= 2);
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == want[i]);
  }
  // The other sink and every checkpoint are exactly the reference's (the clock is fixed).
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(dir.path() + "/ff_ppo/CartPole-v1/run", &entries).ok());
  int event_files = 0;
  for (const DirEntry& e : entries)
    if (e.name.rfind("events.out.tfevents.", 0) == 0) {
      ++event_files;
      CHECK(slurp(log_path(dir.path(), e.name.c_str())) == ref.log(e.name.c_str()));
    }
  CHECK(event_files == 1);
  for (int step = 0; step < 4; ++step)
    check_same_tensors(ckpt_path(dir.path(), step), ref.ckpt(step));
}

TEST_CASE("train: a failed save costs that checkpoint only (on_save_error = warn)") {
  const Reference& ref = reference();
  TempDir dir;
  FaultFs fs;
  fs.skip_syncs = true;
  fs.fail_at(2, EIO, FaultFs::Op::write, true, ".ckpt");  // a short write inside the 2nd save
  const Run r = train_on(fs, short_run(dir.path()));
  CHECK(fs.fault_fired());
  CHECK(r.summary.timesteps == 20480);
  CHECK(r.summary.outcome == TrainOutcome::finished);
  CHECK(r.err.find("not saved") != std::string::npos);
  // The save in flight is gone without a trace; the others are the reference's.
  CHECK_FALSE(path_exists(posix_fs(), ckpt_path(dir.path(), 1)));
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(dir.path() + "/checkpoints/ff_ppo/run", &entries).ok());
  for (const DirEntry& e : entries) CHECK(e.name.find(".tmp") == std::string::npos);
  for (int step : {0, 2, 3}) check_same_tensors(ckpt_path(dir.path(), step), ref.ckpt(step));
  CHECK(slurp(log_path(dir.path(), "eval.csv")) == ref.log("eval.csv"));
}

TEST_CASE("train: a failed save with on_save_error = abort stops training, resumably") {
  const Reference& ref = reference();
  TempDir dir;
  FaultFs fs;
  fs.skip_syncs = true;
  fs.fail_at(1, ENOSPC, FaultFs::Op::write, false, ".ckpt");  // the first save
  const Run r =
      train_on(fs, short_run(dir.path(), {"logger.checkpointing.save_args.on_save_error=abort"}));
  CHECK(r.summary.outcome == TrainOutcome::save_failed);
  CHECK(r.summary.timesteps < 20480);
  CHECK(r.err.find("on_save_error = abort") != std::string::npos);
  CHECK(slurp(log_path(dir.path(), "summary.ini")).find("status = save_failed") !=
        std::string::npos);
  // The run resumes from what it saved and ends as the reference did.
  FaultFs healthy;
  healthy.skip_syncs = true;
  const Run resumed =
      train_on(healthy, short_run(dir.path(), {"logger.checkpointing.load_model=true"}));
  CHECK(resumed.summary.timesteps == 20480);
  check_same_tensors(ckpt_path(dir.path(), 3), ref.ckpt(3));
  CHECK(slurp(log_path(dir.path(), "eval.csv")) == ref.log("eval.csv"));
  CHECK(slurp(log_path(dir.path(), "train.csv")) == ref.log("train.csv"));
}

// The loop asks stop_requested after each update but an interval's last, once while the
// interval closes (evaluation, rows, checkpoint: may the save be forced?) and once after. A
// stop at that last question, when the closing interval's save was not due, must still save
// that interval (forced), and the run must resume to the reference's end.
TEST_CASE("train: a stop just after an interval whose save was not due still saves it") {
  const Reference& ref = reference();
  const std::vector<std::string> rare = {"arch.num_threads=1",  // the closing runs in place
                                         "logger.checkpointing.save_args.save_interval_steps=100"};
  int64_t asked = 0;
  {
    TempDir dir;
    FaultFs fs;
    fs.skip_syncs = true;
    const Run r = train_on(fs, short_run(dir.path(), rare), [&asked] { return ++asked < 0; });
    REQUIRE(r.summary.outcome == TrainOutcome::finished);
  }
  REQUIRE(asked % 4 == 0);  // the same questions in each of the 4 intervals
  const int64_t per_interval = asked / 4;
  TempDir dir;
  FaultFs fs;
  fs.skip_syncs = true;
  int64_t n = 0;
  const Run r =
      train_on(fs, short_run(dir.path(), rare), [&n, per_interval] { return ++n >= per_interval; });
  CHECK(r.summary.outcome == TrainOutcome::stopped);
  CHECK(r.summary.timesteps == 20480 / 4);
  CHECK(r.summary.stop_checkpoint == ckpt_path(dir.path(), 0));
  check_same_tensors(ckpt_path(dir.path(), 0), ref.ckpt(0));
  // Its summary holds the returns of the evaluation it ran, as eval.csv does.
  const double first = eval_returns(ref.log("eval.csv"))[0];
  CHECK(r.summary.episode_return_mean == first);
  const std::string summary = slurp(log_path(dir.path(), "summary.ini"));
  CHECK(summary.find("\nstatus = stopped\n") != std::string::npos);
  const size_t at = summary.find("\nepisode_return_mean = ");
  REQUIRE(at != std::string::npos);
  CHECK(std::strtod(summary.c_str() + at + 23, nullptr) == doctest::Approx(first).epsilon(1e-8));
  resume_matches_reference(dir.path(), ref);
}

TEST_CASE("train: a run stopped before it evaluated anything says nan, not a return") {
  TempDir dir;
  FaultFs fs;
  fs.skip_syncs = true;
  const Run r = train_on(fs, short_run(dir.path(), {"arch.num_threads=1"}), [] { return true; });
  CHECK(r.summary.outcome == TrainOutcome::stopped);
  CHECK(std::isnan(r.summary.episode_return_mean));
  CHECK(std::isnan(r.summary.episode_return_std));
  const std::string summary = slurp(log_path(dir.path(), "summary.ini"));
  CHECK(summary.find("\nepisode_return_mean = nan\nepisode_return_std = nan\n") !=
        std::string::npos);
}

TEST_CASE("train: a crash and a power cut anywhere lose nothing that a resume cannot redo") {
  const Reference& ref = reference();
  // Crash points spread over the run's file operations (each is a separate run).
  int resumed_runs = 0;
  for (int k = 1; k <= 5; ++k) {
    const int at = ref.mutations * k / 6;
    CAPTURE(at);
    TempDir dir;
    {
      FaultFs fs;
      fs.crash_at(at);
      try {
        train_on(fs, short_run(dir.path()));  // every operation after the crash fails
      } catch (const edgerl::Error&) {
        // a crash while the run starts: it never got going
      }
      REQUIRE(fs.crashed());
      fs.power_loss();  // and what was not synced is gone
    }
    // Resume from whatever survived (or start again when nothing did), on a healthy disk.
    RunListing listing;
    const bool has_checkpoint =
        list_run(posix_fs(), dir.path() + "/checkpoints/ff_ppo/run", &listing).ok() &&
        !listing.checkpoints.empty();
    for (const auto& c : listing.checkpoints) {
      CheckpointInfo info;
      CHECK_MESSAGE(verify_checkpoint_file(posix_fs(), c.path, &info).ok(), c.path);
    }
    if (!has_checkpoint) continue;  // nothing to resume: a fresh start is the reference itself
    resume_matches_reference(dir.path(), ref);
    ++resumed_runs;
  }
  CHECK(resumed_runs >= 3);  // most crash points leave a checkpoint to resume from
}

TEST_CASE("train saver: each file holds the state handed over, however many ring rows changed") {
  TempDir dir;
  CheckpointConfig ck;
  ck.save_args.checkpoint_uid = "run";
  ck.save_args.min_free_bytes = 0;
  ck.save_args.max_to_keep = 1;
  CheckpointerHooks hooks;
  hooks.log = [](const std::string&) {};
  std::unique_ptr<Checkpointer> ckpt;
  REQUIRE(Checkpointer::open(ck, dir.path(), "ring", "", &ckpt, hooks).ok());
  LoggerConfig lc;
  lc.base_exp_path = dir / "logs";
  lc.console.enabled = lc.csv.enabled = lc.tensorboard.enabled = false;
  RunInfo run;
  run.system_name = "ff_td3";
  run.scenario = "Pendulum-v1";
  run.uid = "run";
  Logger logger(lc, run);
  std::mutex logger_mutex;

  // A replay buffer's arrays (several chunks each), its counters, and a small tensor.
  const uint64_t rows = 40000;
  std::vector<float> obs(rows * 3, 0);
  std::vector<uint8_t> done(rows, 0);
  uint64_t writes = 0, next = 0;
  int64_t step = 0;
  const RowRing ring{&writes, &next};
  TensorList state = {tensor_ref("buffer/obs", obs.data(), {rows, 3}),
                      tensor_ref("buffer/done", done.data(), {rows}),
                      tensor_ref("buffer/pos", &next, {}), tensor_ref("step", &step, {})};
  state[0].rows = state[1].rows = &ring;
  Pcg64 rng(7);
  auto add_rows = [&](uint64_t n) {
    for (uint64_t r = 0; r < n; ++r, next = (next + 1) % rows, ++writes) {
      for (int d = 0; d < 3; ++d) obs[next * 3 + d] = static_cast<float>(rng.normal());
      done[next] = static_cast<uint8_t>(rng.below(50) == 0);
    }
  };
  auto bytes_of = [](const TensorRef& t) {
    const uint8_t* p = static_cast<const uint8_t*>(t.data);
    return std::vector<uint8_t>(p, p + t.size_bytes());
  };

  BackgroundSaver saver(*ckpt, logger, logger_mutex);
  std::vector<Tensor> extra(1);
  extra[0] = {"interval/train/loss", DType::f64, {2}, std::vector<uint8_t>(16, 7)};
  for (int64_t k = 0; k < 12; ++k) {
    CAPTURE(k);
    add_rows(k == 6 ? 2 * rows + 123 : rng.below(12000));
    step = k;
    TensorList handed = state;
    if (k == 9) handed.push_back(tensor_refs(extra)[0]);  // a list that grows, then shrinks
    std::vector<std::vector<uint8_t>> expected;
    for (const TensorRef& t : handed) expected.push_back(bytes_of(t));
    saver.submit(k, k, handed, -1.0, true);
    add_rows(777);  // training goes on while the save runs
    const SaveResult r = saver.wait();
    REQUIRE(r.saved);
    std::vector<Tensor> back;
    REQUIRE(read_checkpoint_file(posix_fs(), r.path, nullptr, &back).ok());
    REQUIRE(back.size() == handed.size());
    for (size_t i = 0; i < back.size(); ++i) {
      CAPTURE(back[i].name);
      CHECK(back[i].bytes == expected[i]);
    }
  }
}

TEST_CASE("train: the absolute metric measures the best evaluation's policy, as Stoix's") {
  const Reference& ref = reference();
  const std::vector<double> returns = eval_returns(ref.log("eval.csv"));
  REQUIRE(returns.size() == 4);
  const int64_t best = best_of(returns, returns.size());
  // The reference run's best is not its last evaluation, or this would not tell them apart.
  REQUIRE(best != 3);
  CHECK(ref.run.summary.absolute_eval_step == best);
  CHECK(slurp(log_path(ref.dir.path(), "summary.ini"))
            .find("\nabsolute_eval_step = " + std::to_string(best) + "\n") != std::string::npos);

  // The absolute metric is that checkpoint's policy, over 10 x 4 episodes of key num_evaluation.
  const RestoredSystem at_best = restore_system(posix_fs(), ref.ckpt(static_cast<int>(best)));
  const std::unique_ptr<Policy> policy = at_best.system->policy();
  const EvalResult abs = evaluate(*policy, eval_options(at_best.config), 40, 4);
  CHECK(abs.mean_return == ref.run.summary.absolute_episode_return_mean);
  CHECK(abs.mean_return != ref.run.summary.episode_return_mean);

  // Each checkpoint stores the best of the evaluations before its own; a restore adds its own.
  for (int step = 0; step < 4; ++step) {
    CAPTURE(step);
    const std::vector<Tensor> t = tensors_of(ref.ckpt(step));
    const int64_t before = best_of(returns, static_cast<size_t>(step));
    CHECK(scalar_of<int64_t>(t, "best/eval_step") == before);
    const double r = scalar_of<double>(t, "best/episode_return");
    if (before < 0)
      CHECK(r == -HUGE_VAL);
    else
      CHECK(r == returns[static_cast<size_t>(before)]);  // the CSV's 17 digits read back exactly
    const RestoredSystem restored = restore_system(posix_fs(), ref.ckpt(step));
    CHECK(restored.best->eval_step() == best_of(returns, static_cast<size_t>(step) + 1));
  }
  const RestoredSystem last = restore_system(posix_fs(), ref.ckpt(3));
  TensorList a, b;
  last.best->policy().append_tensors(a, "");
  policy->append_tensors(b, "");
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].name);
    REQUIRE(a[i].size_bytes() == b[i].size_bytes());
    CHECK(std::memcmp(a[i].data, b[i].data, a[i].size_bytes()) == 0);
  }
}

TEST_CASE(
    "train: a checkpoint from before the best policy resumes, its own policy the first best") {
  const Reference& ref = reference();
  const std::vector<double> returns = eval_returns(ref.log("eval.csv"));
  // Step 2's file as an older edgerl wrote it: no best/ tensors.
  CheckpointInfo info;
  std::vector<Tensor> all;
  REQUIRE(read_checkpoint_file(posix_fs(), ref.ckpt(2), &info, &all).ok());
  std::vector<Tensor> kept;
  for (Tensor& t : all)
    if (t.name.rfind("best/", 0) != 0) kept.push_back(std::move(t));
  REQUIRE(kept.size() + 3 <= all.size());  // the policy's tensors and the two scalars
  std::vector<uint8_t> bytes;
  REQUIRE(encode_checkpoint(info.meta, tensor_refs(kept), 6, &bytes).ok());
  TempDir dir;
  const std::string file = ckpt_path(dir.path(), 2);
  std::filesystem::create_directories(std::filesystem::path(file).parent_path());
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));

  const RestoredSystem old = restore_system(posix_fs(), file);
  CHECK(old.best->eval_step() == 2);
  CHECK(old.best->episode_return() == returns[2]);

  FaultFs healthy;
  healthy.skip_syncs = true;
  const Run resumed =
      train_on(healthy, short_run(dir.path(), {"logger.checkpointing.load_model=true"}));
  CHECK(resumed.err.find("was saved before edgerl kept the best policy") != std::string::npos);
  CHECK(resumed.summary.timesteps == 20480);
  CHECK(resumed.summary.absolute_eval_step == (returns[3] >= returns[2] ? 3 : 2));
  // The rest of the run is the reference's: its last checkpoint but for the best policy.
  std::vector<Tensor> mine = tensors_of(ckpt_path(dir.path(), 3)), theirs = tensors_of(ref.ckpt(3));
  REQUIRE(mine.size() == theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    CAPTURE(mine[i].name);
    CHECK(mine[i].name == theirs[i].name);
    if (mine[i].name.rfind("best/", 0) != 0) CHECK(mine[i].bytes == theirs[i].bytes);
  }
}

TEST_CASE("train: without the absolute metric the summary says nan, not a return") {
  TempDir dir;
  FaultFs healthy;
  healthy.skip_syncs = true;
  const Run run = train_on(healthy, short_run(dir.path(), {"arch.absolute_metric=false"}));
  CHECK(std::isnan(run.summary.absolute_episode_return_mean));
  CHECK(run.summary.absolute_eval_step == -1);
  const std::string summary = slurp(log_path(dir.path(), "summary.ini"));
  CHECK(summary.find("\nabsolute_episode_return_mean = nan\n") != std::string::npos);
  CHECK(!std::filesystem::exists(log_path(dir.path(), "absolute.csv")));
}
