// The logger: Stoix's reductions, exact CSV contents, resume semantics, console lines and what
// happens when a log cannot be written.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "edgerl/logger.hpp"
#include "log/tfevents.hpp"
#include "test_util.hpp"

using edgerl::LogEvent;
using edgerl::Logger;
using edgerl::Metrics;
namespace fs = std::filesystem;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

std::string read_all(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

// The file without its last column (wall_time), which is the only one allowed to differ.
std::string without_wall_time(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const edgerl::Stat* find(const std::vector<edgerl::Stat>& stats, const std::string& name) {
  for (const auto& s : stats)
    if (s.name == name) return &s;
  return nullptr;
}

edgerl::LoggerConfig config_at(const fs::path& base, bool console = false) {
  edgerl::LoggerConfig cfg;
  cfg.base_exp_path = base.string();
  cfg.console.enabled = console;
  return cfg;
}

edgerl::RunInfo run_info(int64_t resume_from = -1) {
  edgerl::RunInfo run;
  run.system_name = "ff_ppo";
  run.scenario = "CartPole-v1";
  run.uid = "20240101-000000";
  run.total_timesteps = 10000;
  run.num_evaluation = 10;
  run.resume_from_timestep = resume_from;
  return run;
}

// One evaluation cycle of a deterministic fake training run, as the loop in DESIGN.md logs it.
void log_cycle(Logger& logger, int64_t eval_step) {
  const int64_t t = (eval_step + 1) * 1000;
  const double k = static_cast<double>(eval_step);
  Metrics train;
  train.add("actor_loss", std::vector<double>{-0.1 * k, 0.05, 0.3 / (k + 1)})
      .add("critic_loss", std::vector<double>{10 - k, 9 - k})
      .add("learning_rate", 2.5e-4 * (1 - k / 10));
  if (eval_step >= 7) train.add("approx_kl", std::vector<double>{0.01 * k});  // appears late
  logger.log(train, t, eval_step, LogEvent::TRAIN);
  Metrics act;
  act.add("episode_return", std::vector<double>(static_cast<size_t>(eval_step), 10 + k));
  logger.log(act, t, eval_step, LogEvent::ACT);
  Metrics eval;
  eval.add("episode_return", std::vector<double>{20 * k, 20 * k + 3.5, 20 * k - 1, 1.0 / 3});
  eval.add("episode_length", std::vector<double>{100, 120, 140, 160});
  if (eval_step >= 3) eval.add("solve_rate", k / 10);
  logger.log(eval, t, eval_step, LogEvent::EVAL);
  logger.log_throughput({512, 0.25, 640, 0.125}, t, eval_step);
}

void log_absolute(Logger& logger) {
  Metrics m;
  m.add("episode_return", std::vector<double>{200, 190, 180});
  logger.log(m, 10000, 9, LogEvent::ABSOLUTE);
}

// The scalar records of the event files in `dir`, in file name order, one line each ("step
// tag=value ..."), and the number of files.
std::pair<size_t, std::vector<std::string>> tb_events(const fs::path& dir) {
  std::vector<std::string> events;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string bytes = slurp(f);
    for (const auto& r : edgerl::tfevents::read_records(bytes)) {
      edgerl::tfevents::Event e;
      REQUIRE(edgerl::tfevents::decode_event(r.data, e));
      if (!e.file_version.empty()) continue;
      std::string line = std::to_string(e.step);
      for (const auto& v : e.values) line += " " + v.tag + "=" + std::to_string(v.value);
      events.push_back(line);
    }
  }
  return {files.size(), events};
}

constexpr const char* kKinds[] = {"act", "train", "eval", "absolute", "misc"};

// The run folder of run_info()'s run under `dir`, made empty (as an earlier process left it).
fs::path made_run_folder(const TempDir& dir) {
  const fs::path run = fs::path(dir.path()) / "ff_ppo/CartPole-v1/20240101-000000";
  fs::create_directories(run);
  return run;
}

}  // namespace

TEST_CASE("TRAIN arrays reduce to their mean only, as Stoix") {
  Metrics m;
  m.add("actor_loss", std::vector<double>{1, 2, 3, 6}).add("learning_rate", 0.001);
  const auto stats = edgerl::reduce(m, LogEvent::TRAIN);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].name == "actor_loss");
  CHECK(stats[0].value == 3.0);
  CHECK_FALSE(stats[0].described);
  CHECK(stats[1].value == 0.001);
  const auto flat = edgerl::flatten(stats);
  REQUIRE(flat.size() == 2);
  CHECK(flat[0].name == "actor_loss");
}

TEST_CASE("EVAL, ABSOLUTE, ACT and MISC arrays reduce to mean, population std, min and max") {
  for (LogEvent e : {LogEvent::EVAL, LogEvent::ABSOLUTE, LogEvent::ACT, LogEvent::MISC}) {
    Metrics m;
    m.add("episode_return", std::vector<double>{2, 4, 4, 4, 5, 5, 7, 9}).add("steps", 512.0);
    m.add("single", std::vector<double>{42});
    const auto stats = edgerl::reduce(m, e);
    const auto* r = find(stats, "episode_return");
    REQUIRE(r != nullptr);
    CHECK(r->described);
    CHECK(r->value == 5.0);
    CHECK(r->std == 2.0);  // np.std (ddof=0) of this classic example
    CHECK(r->min == 2.0);
    CHECK(r->max == 9.0);
    const auto* single = find(stats, "single");  // an array stays described even at one value
    REQUIRE(single != nullptr);
    CHECK(single->described);
    CHECK(single->std == 0.0);
    CHECK_FALSE(find(stats, "steps")->described);
    const auto flat = edgerl::flatten(stats);
    REQUIRE(flat.size() == 9);
    CHECK(flat[0].name == "episode_return_mean");
    CHECK(flat[1].name == "episode_return_std");
    CHECK(flat[2].name == "episode_return_min");
    CHECK(flat[3].name == "episode_return_max");
    CHECK(flat[4].name == "steps");
  }
}

TEST_CASE("empty arrays produce nothing and NaN is kept visible") {
  Metrics m;
  m.add("episode_return", std::vector<double>{}).add("loss", std::vector<double>{1, NAN});
  const auto stats = edgerl::reduce(m, LogEvent::TRAIN);
  REQUIRE(stats.size() == 1);
  CHECK(std::isnan(stats[0].value));
}

TEST_CASE("metric names are checked and re-adding a name replaces it in place") {
  Metrics m;
  CHECK_THROWS_AS(m.add("", 1.0), std::invalid_argument);
  CHECK_THROWS_AS(m.add("has,comma", 1.0), std::invalid_argument);
  CHECK_THROWS_AS(m.add("new\nline", 1.0), std::invalid_argument);
  CHECK_THROWS_AS(m.add("timestep", 1.0), std::invalid_argument);
  CHECK_THROWS_AS(m.add("wall_time", 1.0), std::invalid_argument);
  m.add("a", 1.0).add("b/c.d-e_f", 2.0).add("a", std::vector<double>{3, 4});
  REQUIRE(m.entries().size() == 2);
  CHECK(m.entries()[0].name == "a");
  CHECK(m.entries()[0].is_array);
  const float f[] = {1.5f, 2.5f};
  m.add("floats", f, 2);
  CHECK(m.entries()[2].values == std::vector<double>{1.5, 2.5});
}

TEST_CASE("the CSV has a sorted, stable header and exact, round-trippable values") {
  TempDir dir;
  {
    edgerl::LoggerIo io;
    io.clock = [] { return 1700000000.25; };
    Logger logger(config_at(std::filesystem::path(dir.path())), run_info(), io);
    Metrics m;
    m.add("z_last", 1.0).add("episode_return", std::vector<double>{1, 2, 3, 4}).add("a_first", 0.1);
    logger.log(m, 1000, 0, LogEvent::EVAL);
    m.add("z_last", 2.0);
    logger.log(m, 2000, 1, LogEvent::EVAL);
  }
  const fs::path run =
      std::filesystem::path(dir.path()) / "ff_ppo" / "CartPole-v1" / "20240101-000000";
  CHECK(slurp(run / "eval.csv") ==
        "timestep,eval_step,a_first,episode_return_mean,episode_return_std,episode_return_min,"
        "episode_return_max,z_last,wall_time\n"
        "1000,0,0.1,2.5,1.118033988749895,1,4,1,1700000000.250\n"
        "2000,1,0.1,2.5,1.118033988749895,1,4,2,1700000000.250\n");
  CHECK_FALSE(fs::exists(run / "train.csv"));  // a kind never logged leaves no file
}

TEST_CASE("a metric that appears late widens the header and leaves earlier cells empty") {
  TempDir dir;
  {
    edgerl::LoggerIo io;
    io.clock = [] { return 5.0; };
    Logger logger(config_at(std::filesystem::path(dir.path())), run_info(), io);
    Metrics m;
    m.add("b", 1.0);
    logger.log(m, 100, 0, LogEvent::TRAIN);
    m.add("a", 2.0);
    logger.log(m, 200, 1, LogEvent::TRAIN);
    Metrics only_a;
    only_a.add("a", 3.0);
    logger.log(only_a, 300, 2, LogEvent::TRAIN);
  }
  CHECK(slurp(std::filesystem::path(dir.path()) / "ff_ppo/CartPole-v1/20240101-000000/train.csv") ==
        "timestep,eval_step,a,b,wall_time\n"
        "100,0,,1,5.000\n"
        "200,1,2,1,5.000\n"
        "300,2,3,,5.000\n");
}

TEST_CASE("a resumed run's CSV equals the uninterrupted run's apart from wall_time") {
  TempDir whole, broken;
  const std::string run = "ff_ppo/CartPole-v1/20240101-000000";
  {
    edgerl::LoggerIo io;
    io.clock = [] { return 1000.0; };
    Logger logger(config_at(std::filesystem::path(whole.path())), run_info(), io);
    for (int64_t e = 0; e < 10; ++e) log_cycle(logger, e);
    log_absolute(logger);
  }
  {
    // The interrupted run got to eval step 6; its last checkpoint is from eval step 4 (t=5000).
    edgerl::LoggerIo io;
    io.clock = [] { return 2000.0; };
    Logger logger(config_at(std::filesystem::path(broken.path())), run_info(), io);
    for (int64_t e = 0; e < 7; ++e) {
      log_cycle(logger, e);
      logger.sync();  // before each checkpoint save
    }
  }
  std::ofstream(std::filesystem::path(broken.path()) / run / "eval.csv", std::ios::app)
      << "7000,6,13";  // torn row
  {
    edgerl::LoggerIo io;
    io.clock = [] { return 3000.0; };
    Logger logger(config_at(std::filesystem::path(broken.path())), run_info(5000), io);
    log_cycle(logger, 4);  // replaying the checkpointed step writes nothing
    for (int64_t e = 5; e < 10; ++e) log_cycle(logger, e);
    log_absolute(logger);
  }
  for (const char* kind : kKinds) {
    CAPTURE(kind);
    const std::string a =
        slurp(std::filesystem::path(whole.path()) / run / (std::string(kind) + ".csv"));
    const std::string b =
        slurp(std::filesystem::path(broken.path()) / run / (std::string(kind) + ".csv"));
    CHECK(!a.empty());
    CHECK(a != b);                                        // the wall clocks differ...
    CHECK(without_wall_time(a) == without_wall_time(b));  // ...and nothing else does
  }
  CHECK(lines_of(slurp(std::filesystem::path(whole.path()) / run / "eval.csv")).size() == 11);
  CHECK(lines_of(slurp(std::filesystem::path(whole.path()) / run / "train.csv"))[0] ==
        "timestep,eval_step,actor_loss,approx_kl,critic_loss,learning_rate,wall_time");

  // TensorBoard: the same steps with the same values, spread over two files.
  const auto [whole_files, whole_events] = tb_events(std::filesystem::path(whole.path()) / run);
  const auto [broken_files, broken_events] = tb_events(std::filesystem::path(broken.path()) / run);
  CHECK(whole_files == 1);
  CHECK(broken_files == 2);
  CHECK(whole_events.size() == 10 * 4 - 1 + 1);  // ACT at eval step 0 has no episodes
  CHECK(whole_events == broken_events);
}

TEST_CASE("a run killed between its absolute row and its summary ends with one absolute row") {
  // The finished run's last checkpoint is at t = 10000, the resume point; the killed process
  // had logged the absolute metric there, which the resumed one logs again in its place.
  TempDir whole, killed;
  const std::string run = "ff_ppo/CartPole-v1/20240101-000000";
  for (const TempDir* dir : {&whole, &killed}) {
    edgerl::LoggerIo io;
    io.clock = [] { return 1000.0; };
    Logger logger(config_at(std::filesystem::path(dir->path())), run_info(), io);
    for (int64_t e = 0; e < 10; ++e) log_cycle(logger, e);
    log_absolute(logger);
  }
  const fs::path killed_run = std::filesystem::path(killed.path()) / run;
  {
    edgerl::LoggerIo io;
    io.clock = [] { return 3000.0; };
    Logger logger(config_at(std::filesystem::path(killed.path())), run_info(10000), io);
    log_cycle(logger, 9);  // the final evaluation again: written already
    log_absolute(logger);
  }
  for (const char* kind : kKinds) {
    CAPTURE(kind);
    CHECK(without_wall_time(
              slurp(std::filesystem::path(whole.path()) / run / (std::string(kind) + ".csv"))) ==
          without_wall_time(slurp(killed_run / (std::string(kind) + ".csv"))));
  }
  const auto [whole_files, whole_events] = tb_events(std::filesystem::path(whole.path()) / run);
  const auto [killed_files, killed_events] = tb_events(killed_run);
  CHECK(killed_files == 2);
  CHECK(std::count_if(killed_events.begin(), killed_events.end(), [](const std::string& e) {
          return e.find(" absolute/") != std::string::npos;
        }) == 1);
  CHECK(whole_events == killed_events);

  // Resumed once its summary is written (resume point = its last timestep + 1), it writes
  // nothing and every log stays byte for byte as it was.
  std::vector<std::pair<fs::path, std::string>> before;
  for (const auto& f : fs::directory_iterator(killed_run))
    before.push_back({f.path(), slurp(f.path())});
  { Logger logger(config_at(std::filesystem::path(killed.path())), run_info(10001)); }
  CHECK(static_cast<size_t>(std::distance(fs::directory_iterator(killed_run),
                                          fs::directory_iterator())) == before.size());
  for (const auto& [path, bytes] : before) {
    CAPTURE(path);
    CHECK(slurp(path) == bytes);
  }
}

TEST_CASE("a new run refuses a folder that already holds logs") {
  TempDir dir;
  {
    Logger logger(config_at(std::filesystem::path(dir.path())), run_info());
    log_cycle(logger, 0);
  }
  CHECK_THROWS_AS(Logger(config_at(std::filesystem::path(dir.path())), run_info()),
                  edgerl::LoggerError);
  CHECK_NOTHROW(Logger(config_at(std::filesystem::path(dir.path())), run_info(1000)));
}

TEST_CASE("resuming over a CSV that is not ours fails with the file's name") {
  TempDir dir;
  const fs::path run = made_run_folder(dir);
  std::ofstream(run / "eval.csv") << "step,value\n1,2\n";
  CHECK_THROWS_WITH_AS(Logger(config_at(std::filesystem::path(dir.path())), run_info(0)),
                       doctest::Contains("eval.csv: not an edgerl log"), edgerl::LoggerError);
}

namespace {

// Resumes the run in dir at timestep 0 and logs one throughput record (misc.csv), as a
// resumed run's first interval does.
void resume_and_log_throughput(const TempDir& dir) {
  Logger logger(config_at(std::filesystem::path(dir.path())), run_info(0));
  logger.log_throughput({100, 2.0, 0, 0}, 1000, 0);
}

}  // namespace

TEST_CASE("a CSV torn inside its header is started afresh on resume") {
  TempDir dir;
  const fs::path run = made_run_folder(dir);
  std::ofstream(run / "misc.csv") << "timestep,eval_st";
  resume_and_log_throughput(dir);
  CHECK(lines_of(slurp(run / "misc.csv"))[0] ==
        "timestep,eval_step,train_steps_per_second,wall_time");
  CHECK(lines_of(slurp(run / "misc.csv"))[1].rfind("1000,0,50,", 0) == 0);
}

TEST_CASE("a torn header whose kind is not logged again is removed; a foreign one refused") {
  TempDir dir;
  const fs::path run = made_run_folder(dir);
  std::ofstream(run / "act.csv") << "timestep,eva";
  resume_and_log_throughput(dir);
  CHECK(!fs::exists(run / "act.csv"));  // as in a run never interrupted: no ACT record
  CHECK(fs::exists(run / "misc.csv"));
  // Found by tests/fuzz/fuzz_logs: text that cannot begin an edgerl header, without a newline,
  // was taken for a torn header and left in the folder.
  std::ofstream(run / "eval.csv") << "\x07\x01e";
  CHECK_THROWS_WITH_AS(Logger(config_at(std::filesystem::path(dir.path())), run_info(1000)),
                       doctest::Contains("eval.csv: not an edgerl log"), edgerl::LoggerError);
}

TEST_CASE("throughput is logged as MISC steps per second") {
  TempDir dir;
  {
    Logger logger(config_at(std::filesystem::path(dir.path())), run_info());
    logger.log_throughput({512, 0.25, 640, 0.125}, 1000, 0);
  }
  const auto lines = lines_of(
      slurp(std::filesystem::path(dir.path()) / "ff_ppo/CartPole-v1/20240101-000000/misc.csv"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "timestep,eval_step,eval_steps_per_second,train_steps_per_second,wall_time");
  CHECK(lines[1].rfind("1000,0,5120,2048,", 0) == 0);
}

TEST_CASE("the run folder is base/system/scenario/uid and its parts are checked") {
  CHECK(edgerl::make_run_dir("results", "ff_ppo", "CartPole-v1", "42") ==
        "results/ff_ppo/CartPole-v1/42");
  CHECK_THROWS_AS(edgerl::make_run_dir("r", "ff_ppo", "..", "42"), edgerl::LoggerError);
  CHECK_THROWS_AS(edgerl::make_run_dir("r", "ff_ppo", "a/b", "42"), edgerl::LoggerError);
  CHECK_THROWS_AS(edgerl::make_run_dir("r", "", "x", "42"), edgerl::LoggerError);
}

TEST_CASE("disabled sinks write nothing and a bad console mode is refused") {
  TempDir dir;
  auto cfg = config_at(std::filesystem::path(dir.path()));
  cfg.csv.enabled = false;
  cfg.tensorboard.enabled = false;
  {
    Logger logger(cfg, run_info());
    log_cycle(logger, 0);
    CHECK(fs::is_empty(logger.run_dir()));
  }
  cfg.console.enabled = true;
  cfg.console.progress = "sometimes";
  CHECK_THROWS_AS(Logger(cfg, run_info()), edgerl::LoggerError);
}

TEST_CASE("console lines are aligned, plain off a terminal and coloured when forced") {
  FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  edgerl::ConsoleStyle style;
  style.total_timesteps = 100000;
  style.num_evaluation = 20;
  edgerl::ConsoleSink plain(out, style);
  Metrics m;
  m.add("episode_return", std::vector<double>{180, 201}).add("steps_per_second", 45012.25);
  edgerl::LogRecord r;
  r.event = LogEvent::EVAL;
  r.stats = edgerl::reduce(m, LogEvent::EVAL);
  r.timestep = 5000;
  r.eval_step = 1;
  plain.write(r);
  r.timestep = 100000;
  r.eval_step = 19;
  plain.write(r);
  const auto lines = lines_of(read_all(out));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "EVAL      t   5000  eval  1/20  episode_return   190.500 \u00b1 10.500    "
        "steps_per_second   45012.2");
  CHECK(lines[0].size() == lines[1].size());
  CHECK(lines[0].find('\033') == std::string::npos);
  CHECK(lines[0].find('\r') == std::string::npos);

  FILE* coloured = std::tmpfile();
  style.colour = true;
  edgerl::ConsoleSink colour(coloured, style);
  r.event = LogEvent::TRAIN;
  colour.write(r);
  CHECK(read_all(coloured).rfind("\033[1;35mTRAIN   \033[0m", 0) == 0);  // Stoix's magenta
  std::fclose(out);
  std::fclose(coloured);
}

TEST_CASE("auto console modes stay plain off a terminal and always forces colour and bar") {
  TempDir dir;
  for (const char* mode : {"auto", "never", "always"}) {
    CAPTURE(mode);
    FILE* out = std::tmpfile();
    auto cfg = config_at(std::filesystem::path(dir.path()) / mode, true);
    cfg.console.colour = mode;
    cfg.console.progress = mode;
    edgerl::LoggerIo io;
    io.console = out;
    {
      Logger logger(cfg, run_info(), io);
      log_cycle(logger, 0);
      logger.progress(1500);
    }
    const std::string s = read_all(out);
    const bool forced = std::string(mode) == "always";
    CHECK(s.find("EVAL") != std::string::npos);
    CHECK((s.find('\033') != std::string::npos) == forced);
    CHECK((s.find("\r[") != std::string::npos) == forced);
    CHECK(s.back() == '\n');
    std::fclose(out);
  }
}

TEST_CASE("the progress bar shows the fraction done and the ETA from the measured rate") {
  FILE* out = std::tmpfile();
  double now = 1000.0;
  edgerl::ConsoleStyle style;
  style.progress = true;
  style.total_timesteps = 1000;
  style.clock = [&] { return now; };
  {
    edgerl::ConsoleSink sink(out, style);
    now = 1010.0;
    edgerl::LogRecord r;
    r.timestep = 250;
    sink.write(r);
    now = 1010.05;
    sink.progress(300);  // within 0.1 s of the last draw: not redrawn
    sink.finish();
  }
  const std::string s = read_all(out);
  CHECK(s.find("MISC      t  250  eval 0\n") != std::string::npos);
  CHECK(
      s.find("\r[=======>                      ]  25%  250/1000 steps  25 steps/s  ETA 0:00:30") !=
      std::string::npos);
  CHECK(s.find("300/1000") == std::string::npos);
  CHECK(s.back() == '\n');
  std::fclose(out);
}

TEST_CASE("a message on the shared terminal clears the bar, prints its line and redraws the bar") {
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  double now = 1000.0;
  edgerl::ConsoleStyle style;
  style.progress = true;
  style.total_timesteps = 1000;
  style.clock = [&] { return now; };
  {
    edgerl::ConsoleSink sink(out, style);
    now = 1010.0;
    sink.progress(500);
    sink.message(err, "checkpoint: saved x.ckpt");
    sink.finish();
  }
  const std::string o = read_all(out), e = read_all(err);
  CHECK(e == "checkpoint: saved x.ckpt\n");
  // Drawn, cleared (carriage return, blanks, carriage return), drawn again, ended.
  const size_t first = o.find("]  50%"), clear = o.find("\r ", first),
               again = o.find("]  50%", clear);
  CHECK(first != std::string::npos);
  CHECK(clear != std::string::npos);
  CHECK(again != std::string::npos);
  CHECK(o.back() == '\n');
  std::fclose(out);
  std::fclose(err);
}

namespace {

// Keeps what it is given; fails on its `fail_at`-th write.
class RecordingSink : public edgerl::LogSink {
 public:
  explicit RecordingSink(int fail_at) : fail_at_(fail_at) {}
  void write(const edgerl::LogRecord& r) override {
    if (++writes_ == fail_at_) return fail("recording: disk on fire");
    records.push_back(r);
  }
  std::vector<edgerl::LogRecord> records;

 private:
  int fail_at_;
  int writes_ = 0;
};

}  // namespace

TEST_CASE("custom sinks get reduced records; a failing one is dropped after one warning") {
  FILE* diagnostics = std::tmpfile();
  auto good = std::make_unique<RecordingSink>(0);
  auto bad = std::make_unique<RecordingSink>(2);
  RecordingSink* good_view = good.get();
  RecordingSink* bad_view = bad.get();
  std::vector<std::unique_ptr<edgerl::LogSink>> sinks;
  sinks.push_back(std::move(bad));
  sinks.push_back(std::move(good));
  edgerl::LoggerIo io;
  io.diagnostics = diagnostics;
  io.clock = [] { return 42.0; };
  Logger logger("unused", std::move(sinks), 1000, io);
  Metrics m;
  m.add("episode_return", std::vector<double>{1, 3});
  for (int64_t t = 1000; t <= 4000; t += 1000) logger.log(m, t, t / 1000, LogEvent::EVAL);
  REQUIRE(good_view->records.size() == 3);  // t = 1000 is the resume point
  CHECK(good_view->records[0].timestep == 2000);
  CHECK(good_view->records[0].wall_time == 42.0);
  CHECK(good_view->records[0].scalars.size() == 4);
  CHECK(good_view->records[0].scalars[1].value == 1.0);  // episode_return_std
  CHECK(bad_view->records.size() == 1);
  CHECK(read_all(diagnostics) ==
        "edgerl: warning: recording: disk on fire; this log stops here, training goes on\n");
  std::fclose(diagnostics);
}

TEST_CASE("a log that cannot be written warns once and training goes on") {
  TempDir dir;
  FILE* diagnostics = std::tmpfile();
  FILE* devnull = std::fopen("/dev/null", "w");
  auto cfg = config_at(std::filesystem::path(dir.path()), true);
  cfg.tensorboard.enabled = false;
  edgerl::LoggerIo io;
  io.console = devnull;
  io.diagnostics = diagnostics;
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;  // a disk that fills up after a few dozen rows
  {
    Logger logger(cfg, run_info(), io);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    for (int64_t e = 0; e < 200; ++e) CHECK_NOTHROW(log_cycle(logger, e));
    setrlimit(RLIMIT_FSIZE, &old);
  }
  signal(SIGXFSZ, old_handler);
  const auto warnings = lines_of(read_all(diagnostics));
  REQUIRE(warnings.size() == 1);  // one line, for the CSV sink; the console carried on
  CHECK(warnings[0].rfind("edgerl: warning: ", 0) == 0);
  CHECK(warnings[0].find(".csv: write failed: File too large") != std::string::npos);
  std::fclose(diagnostics);
  std::fclose(devnull);
}

TEST_CASE("CSV numbers: the shortest %g text that reads back as the same double") {
  using edgerl::shortest_double;
  CHECK(shortest_double(0.1) == "0.1");
  CHECK(shortest_double(1.5e5) == "150000");  // shorter than 1.5e+05, found past the first
  CHECK(shortest_double(1e5) == "1e+05");
  CHECK(shortest_double(0.30000000000000004) == "0.30000000000000004");
  CHECK(shortest_double(1e-5) == "1e-05");
  CHECK(shortest_double(-0.0) == "-0");
  CHECK(shortest_double(HUGE_VAL) == "inf");
  CHECK(shortest_double(std::nan("")) == "nan");
  // Against every precision tried in turn, on doubles of every kind.
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    if (i % 2) {
      std::memcpy(&v, &x, sizeof v);
    } else {
      v = std::ldexp(static_cast<double>(x >> 11) * 0x1p-53, static_cast<int>(x % 60) - 30);
      if (i % 4 == 0) v = static_cast<float>(v);  // float metrics: fewer digits
    }
    if (std::isnan(v)) continue;
    std::string want;
    char buf[40];
    for (int p = 1; p <= 17; ++p) {
      std::snprintf(buf, sizeof buf, "%.*g", p, v);
      if (std::strtod(buf, nullptr) == v && (want.empty() || std::strlen(buf) < want.size()))
        want = buf;
    }
    CAPTURE(v);
    REQUIRE(shortest_double(v) == want);
  }
}
