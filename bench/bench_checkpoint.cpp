// Checkpoint cost: save (encode, one write, fsync of file and folder, rotation), load and size
// of a PPO-CartPole-sized learner state and of a 1M-parameter one, at compression levels 0, 1
// and 6. The goal is a checkpoint at every evaluation for under 1% of training wall time.
// Files go to a fresh folder under $TMPDIR (default /tmp): point it at the device's real disk.
#include <ftw.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/rng.hpp"

namespace edgerl::bench {
namespace {

// Parameters, Adam moments and the small rest of a learner state, with realistic values:
// weights ~ N(0, 0.1^2), first moments ~ N(0, 1e-3^2), second moments ~ squares of 1e-3.
struct State {
  std::vector<float> params, m, v;
  std::vector<float> obs, episode;
  std::vector<double> env;
  std::vector<uint64_t> rng;
  int64_t step = 1000;

  State(size_t n_params, size_t n_envs) : params(n_params), m(n_params), v(n_params) {
    Pcg64 g(7);
    for (size_t i = 0; i < n_params; ++i) {
      params[i] = static_cast<float>(g.normal() * 0.1);
      m[i] = static_cast<float>(g.normal() * 1e-3);
      const double s = g.normal() * 1e-3;
      v[i] = static_cast<float>(s * s);
    }
    obs.resize(n_envs * 4);
    episode.resize(n_envs * 2);
    env.resize(n_envs * 4);
    for (float& o : obs) o = static_cast<float>(g.normal());
    for (double& e : env) e = g.normal();
    rng.assign(12, 0);
    for (uint64_t& r : rng) r = g.next_u64();
  }

  TensorList tensors() {
    const uint64_t n = params.size(), envs = env.size() / 4;
    return {tensor_ref("params", params.data(), {n}),
            tensor_ref("opt/m", m.data(), {n}),
            tensor_ref("opt/v", v.data(), {n}),
            tensor_ref("opt/step", &step, {}),
            tensor_ref("rng/state", rng.data(), {2, 6}),
            tensor_ref("env/state", env.data(), {envs, 4}),
            tensor_ref("env/obs", obs.data(), {envs, 4}),
            tensor_ref("env/episode", episode.data(), {envs, 2})};
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(const char* what, size_t n_params, int reps) {
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base && *base ? base : "/tmp") + "/edgerl-bench.XXXXXX";
  if (!::mkdtemp(dir.data())) {
    std::printf("  cannot create a folder under %s\n", base ? base : "/tmp");
    return;
  }
  State state(n_params, 4);
  State into(n_params, 4);
  std::printf("  %s: %zu parameters (+ Adam m, v), files in %s\n", what, n_params, dir.c_str());
  for (int level : {0, 1, 6}) {
    CheckpointConfig cfg;
    cfg.save_args.checkpoint_uid = "level" + std::to_string(level);
    cfg.save_args.compression_level = level;
    cfg.save_args.min_free_bytes = 0;
    CheckpointerHooks hooks;
    hooks.log = [](const std::string&) {};
    std::unique_ptr<Checkpointer> c;
    Status s = Checkpointer::open(cfg, dir, "bench", "[system]\nsystem_name = ff_ppo\n", &c, hooks);
    if (!s.ok()) {
      std::printf("  %s\n", s.message().c_str());
      break;
    }
    std::vector<double> encode, save, load;
    uint64_t bytes = 0;
    std::vector<uint8_t> buf;
    for (int r = 0; r < reps; ++r) {
      double t0 = now_seconds();
      encode_checkpoint(CheckpointMeta{}, state.tensors(), level, &buf);
      encode.push_back(now_seconds() - t0);
      t0 = now_seconds();
      const SaveResult sr = c->save(r, r, state.tensors(), 1.0);
      save.push_back(now_seconds() - t0);
      if (!sr.saved) {
        std::printf("  save failed: %s\n", sr.status.message().c_str());
        return;
      }
      bytes = sr.bytes;
      t0 = now_seconds();
      s = load_checkpoint_file(posix_fs(), sr.path, into.tensors(), nullptr);
      load.push_back(now_seconds() - t0);
      if (!s.ok() || into.params != state.params) {
        std::printf("  load failed: %s\n", s.message().c_str());
        return;
      }
      keep(into.params[0]);
    }
    const double raw = 3.0 * n_params * 4;
    std::printf(
        "    level %d: %10s (%5.1f%% of raw)  save %8.2f ms (encode %7.2f ms)  load %7.2f ms\n",
        level, human_bytes(bytes).c_str(), 100.0 * bytes / raw, median(save) * 1e3,
        median(encode) * 1e3, median(load) * 1e3);
  }
  ::nftw(
      dir.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

// CleanRL's CartPole networks: actor 4-64-64-2 and critic 4-64-64-1, 4 environments.
constexpr size_t kCartPoleParams =
    (4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2) + (4 * 64 + 64 + 64 * 64 + 64 + 64 * 1 + 1);

EDGERL_BENCHMARK("checkpoint/ppo_cartpole", [] { run("PPO CartPole state", kCartPoleParams, 21); });
EDGERL_BENCHMARK("checkpoint/1m_params", [] { run("1M-parameter state", 1000000, 5); });

}  // namespace
}  // namespace edgerl::bench
