// Helpers shared by the unit tests: the one temporary folder class, and whole-file reads.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/system.hpp"
#include "edgerl/train.hpp"

namespace edgerl::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgerl-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // The path of `name` inside the folder.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A quiet run of a built-in config with overrides, in `dir`: no console, no TensorBoard, no
// checkpoints.
inline TrainSummary quiet_train(const std::string& builtin, const std::string& dir,
                                std::vector<std::string> overrides) {
  overrides.insert(
      overrides.begin(),
      {"logger.base_exp_path=" + dir, "logger.loggers.console.enabled=false",
       "logger.loggers.tensorboard.enabled=false", "logger.checkpointing.save_model=false"});
  const Config cfg = load_config_text(builtin_config_text(builtin), builtin, overrides);
  FILE* null = std::fopen("/dev/null", "w");
  TrainOptions opt;
  opt.out = null;
  opt.err = null;
  const TrainSummary s = train(cfg, opt);
  std::fclose(null);
  return s;
}

// The bytes of every tensor of a learner built from a built-in config with overrides, after
// `intervals` evaluation intervals of training (no files, no evaluation), then the names and
// values of the metrics it logged.
inline std::vector<std::vector<uint8_t>> trained_state(const std::string& builtin,
                                                       const std::vector<std::string>& overrides,
                                                       int64_t intervals) {
  const Config cfg = load_config_text(builtin_config_text(builtin), builtin, overrides);
  auto sys = make_system(cfg);
  Metrics train, act;
  while (sys->counters().eval_step < intervals) sys->learn(train, act);
  TensorList ts;
  sys->append_tensors(ts);
  std::vector<std::vector<uint8_t>> bytes;
  for (const TensorRef& t : ts) {
    const uint8_t* p = static_cast<const uint8_t*>(t.data);
    bytes.emplace_back(p, p + t.size_bytes());
  }
  // What it logged (losses, values, episode returns) must be as reproducible as the state.
  for (const Metrics* m : {&train, &act})
    for (const Metrics::Entry& e : m->entries()) {
      const uint8_t* p = reinterpret_cast<const uint8_t*>(e.values.data());
      bytes.emplace_back(e.name.begin(), e.name.end());
      bytes.emplace_back(p, p + e.values.size() * sizeof(double));
    }
  return bytes;
}

}  // namespace edgerl::testing
