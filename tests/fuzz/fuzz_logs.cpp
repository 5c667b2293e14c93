// libFuzzer target for resuming over a run folder's logs (tests/fuzz/run.sh builds and runs it).
//
// A run killed by a crash, a full disk or a power cut can leave its CSV and TensorBoard files
// torn or damaged. An input is
//   byte 0        which CSV file gets the damaged text (act, train, eval, absolute, misc) and
//                 where the run resumes (one of four timesteps);
//   bytes 1-2     the length L of that text (little-endian, cut to what the input holds);
//   then L bytes  the CSV text; the rest is an event file's bytes.
// The logger resumes over them and logs the rest of the run. It must either refuse the folder
// with a LoggerError of one line, or leave every CSV file with its header and whole rows of the
// header's width, and every event file made of whole, checksummed records.
// With EDGERL_FUZZ_SEEDS=DIR it first writes its seeds there: the logs of a whole run, for each
// CSV file whole and torn, with the event file whole and torn.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgerl/logger.hpp"
#include "log/tfevents.hpp"

namespace {

namespace fs = std::filesystem;
using edgerl::LogEvent;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t cells(const std::string& line) {
  size_t n = 1;
  for (char c : line) n += c == ',';
  return n;
}

const fs::path& base() {
  static const fs::path p = fs::temp_directory_path() /
                            ("edgerl-fuzz-logs-" + std::to_string(static_cast<long>(::getpid())));
  return p;
}

// Deletes this process's folder when the fuzzer exits.
struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    fs::remove_all(base(), ec);
  }
} cleanup;

void log_cycle(edgerl::Logger& logger, int64_t eval_step) {
  const int64_t t = (eval_step + 1) * 1000;
  const double k = static_cast<double>(eval_step);
  edgerl::Metrics train;
  train.add("actor_loss", std::vector<double>{-0.1 * k, 0.05}).add("learning_rate", 2.5e-4);
  if (eval_step >= 7) train.add("approx_kl", 0.01 * k);  // a column that appears late
  logger.log(train, t, eval_step, LogEvent::TRAIN);
  edgerl::Metrics eval;
  eval.add("episode_return", std::vector<double>{20 * k, 20 * k + 3.5});
  logger.log(eval, t, eval_step, LogEvent::EVAL);
  logger.log_throughput({512, 0.25, 640, 0.125}, t, eval_step);
  logger.sync();
}

edgerl::LoggerConfig config() {
  edgerl::LoggerConfig cfg;
  cfg.base_exp_path = base().string();
  cfg.console.enabled = false;
  return cfg;
}

edgerl::RunInfo run_info(int64_t resume_from_timestep) {
  edgerl::RunInfo info;
  info.system_name = "ff_ppo";
  info.scenario = "CartPole-v1";
  info.uid = "run";
  info.total_timesteps = 10000;
  info.num_evaluation = 10;
  info.resume_from_timestep = resume_from_timestep;
  return info;
}

edgerl::LoggerIo quiet_io() {
  static FILE* devnull = std::fopen("/dev/null", "w");
  edgerl::LoggerIo io;
  io.diagnostics = devnull;
  io.clock = [] { return 1.7e9; };
  return io;
}

void log_absolute(edgerl::Logger& logger) {
  edgerl::Metrics m;
  m.add("episode_return", std::vector<double>{200, 190});
  logger.log(m, 10000, 9, LogEvent::ABSOLUTE);
}

const fs::path kRun = fs::path("ff_ppo") / "CartPole-v1" / "run";

// The seeds: the logs of a whole run, each CSV whole and torn, with the event file whole and
// torn, resuming at each of the four points.
void write_seeds(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(base(), ec);
  {
    edgerl::Logger logger(config(), run_info(-1), quiet_io());
    for (int64_t e = 0; e < 10; ++e) log_cycle(logger, e);
    log_absolute(logger);
  }
  std::string events;
  for (const auto& entry : fs::directory_iterator(base() / kRun))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      events = slurp(entry.path());
  static const char* const kKinds[] = {"act", "train", "eval", "absolute", "misc"};
  fs::create_directories(dir);
  for (int k = 0; k < 5; ++k) {
    const std::string csv = slurp(base() / kRun / (std::string(kKinds[k]) + ".csv"));
    for (int torn = 0; torn < 2; ++torn) {
      const std::string c = torn ? csv.substr(0, csv.size() * 2 / 3) : csv;
      const std::string ev = torn ? events.substr(0, events.size() * 2 / 3) : events;
      const int kind_byte = k + 5 * (torn + 1);  // resume points differ too
      std::ofstream out(dir / ("seed_" + std::string(kKinds[k]) + (torn ? "_torn" : "_whole")),
                        std::ios::binary);
      out << static_cast<char>(kind_byte) << static_cast<char>(c.size() & 0xff)
          << static_cast<char>(c.size() >> 8) << c << ev;
    }
  }
  fs::remove_all(base(), ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("EDGERL_FUZZ_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static const char* const kKinds[] = {"act", "train", "eval", "absolute", "misc"};
  const char* kind = kKinds[data[0] % 5];
  const int64_t resume_step = (data[0] / 5) % 4 + 2;  // eval steps 2..5
  size_t csv_len = data[1] | (static_cast<size_t>(data[2]) << 8);
  if (csv_len > size - 3) csv_len = size - 3;
  const std::string csv(reinterpret_cast<const char*>(data) + 3, csv_len);
  const std::string events(reinterpret_cast<const char*>(data) + 3 + csv_len, size - 3 - csv_len);

  std::error_code ec;
  fs::remove_all(base(), ec);
  const fs::path run = base() / kRun;
  fs::create_directories(run);
  std::ofstream(run / (std::string(kind) + ".csv"), std::ios::binary) << csv;
  std::ofstream(run / "events.out.tfevents.1700000000.fuzz", std::ios::binary) << events;
  try {
    edgerl::Logger logger(config(), run_info((resume_step + 1) * 1000), quiet_io());
    for (int64_t e = resume_step; e < 10; ++e) log_cycle(logger, e);
    log_absolute(logger);
  } catch (const edgerl::LoggerError& e) {
    const std::string what = e.what();
    require(!what.empty() && what.find('\n') == std::string::npos);
    return 0;
  }

  for (const auto& entry : fs::directory_iterator(run)) {
    const std::string name = entry.path().filename().string();
    const std::string text = slurp(entry.path());
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".csv") == 0) {
      if (text.empty()) continue;  // torn before its header and not written since: harmless
      require(text.back() == '\n');
      std::istringstream in(text);
      std::string header, line;
      std::getline(in, header);
      require(header.rfind("timestep,eval_step,", 0) == 0);
      require(header.size() >= 10 && header.compare(header.size() - 10, 10, ",wall_time") == 0);
      while (std::getline(in, line)) require(cells(line) == cells(header));
    } else if (name.rfind("events.out.tfevents.", 0) == 0) {
      size_t whole = 0;
      for (const auto& r : edgerl::tfevents::read_records(text)) whole += r.size;
      require(whole == text.size());
    } else {
      require(name == ".lock");  // nothing else is left behind (no temporary files)
    }
  }
  return 0;
}
