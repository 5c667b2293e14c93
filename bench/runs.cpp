#include "runs.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace edgerl::bench {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgerl-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot make a scratch folder like " + tmpl);
  path = tmpl;
}

TempDir::~TempDir() {
  std::system(("rm -rf '" + path + "'").c_str());
}

TrainSummary run(Config cfg, const std::string& dir, const std::vector<std::string>& overrides) {
  cfg.logger.base_exp_path = dir;
  for (const auto& o : overrides) apply_override(cfg, o);
  FILE* null = std::fopen("/dev/null", "w");
  TrainOptions opt;
  opt.out = null;
  opt.err = null;
  const TrainSummary s = train(cfg, opt);
  std::fclose(null);
  return s;
}

TrainSummary best_of(int reps, const Config& cfg, const std::vector<std::string>& overrides) {
  TrainSummary best;
  for (int i = 0; i < reps; ++i) {
    TempDir t;
    const TrainSummary s = run(cfg, t.path, overrides);
    if (i == 0 || s.wall_seconds < best.wall_seconds) best = s;
  }
  return best;
}

const std::vector<std::string>& quiet() {
  static const std::vector<std::string> q = {
      "logger.loggers.console.enabled=false", "logger.loggers.csv.enabled=false",
      "logger.loggers.tensorboard.enabled=false", "logger.checkpointing.save_model=false"};
  return q;
}

std::vector<int64_t> int_list(const std::string& text) {
  std::vector<int64_t> out;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    out.push_back(std::stoll(text.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

}  // namespace edgerl::bench
