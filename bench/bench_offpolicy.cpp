// Off-policy continuous control: SAC and TD3 on Pendulum-v1 with RLtools' settings
// (sac_pendulum.ini, td3_pendulum.ini), timed end to end (every evaluation and the absolute
// metric included), with the network FLOPs that work implies; and the checkpoint cost with a
// 1M-transition replay buffer, partly filled and full: the save's size and time, the training
// thread's part of it, and what checkpoints and logs at every evaluation add to a run's wall
// time.
//
// FLOPs count 2 per multiply-add of the matrix products as dense products (bench_nn,
// bench_train): the ReLU layers' kernels skip the products with exact zeros, so the rate below
// is "dense-equivalent" GFLOP/s, the FLOPs a dense implementation (RLtools, PyTorch) spends on
// the same work per second.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/clock.hpp"
#include "edgerl/config.hpp"
#include "edgerl/system.hpp"
#include "edgerl/train.hpp"
#include "machine.hpp"
#include "runs.hpp"

namespace {

using edgerl::Config;
using edgerl::TrainSummary;
using edgerl::bench::best_of;
using edgerl::bench::int_list;
using edgerl::bench::quiet;
using edgerl::bench::run;
using edgerl::bench::TempDir;

// Multiply-adds of one sample through an MLP in -> hidden... -> out, and of its first layer.
struct Net {
  double macs = 0, first = 0;
  Net(size_t in, const std::vector<int64_t>& hidden, size_t out) {
    size_t prev = in;
    for (int64_t h : hidden) {
      macs += static_cast<double>(prev) * static_cast<double>(h);
      prev = static_cast<size_t>(h);
    }
    macs += static_cast<double>(prev) * static_cast<double>(out);
    first = static_cast<double>(in) * static_cast<double>(hidden.empty() ? out : hidden[0]);
  }
  double fwd() const { return 2 * macs; }
  // dW of every layer, dX of every layer but the first (the learners never ask for it).
  double bwd() const { return 4 * macs - 2 * first; }
  // dX of every layer but the first, and of the first only its `cols` action columns.
  double input_grad(size_t cols, size_t width) const {
    return 2 * (macs - first) + 2 * static_cast<double>(cols * width);
  }
};

// Pendulum: 3 observations, 1 action.
void bench_pendulum(const char* config, bool sac) {
  const Config cfg = edgerl::load_config_text(edgerl::builtin_config_text(config), config);
  const TrainSummary s = best_of(3, cfg, quiet());
  auto value = [&](const char* key) { return edgerl::config_value(cfg, key); };
  const auto actor_hidden = int_list(value("network.actor_network.layer_sizes"));
  const auto q_hidden = int_list(value("network.q_network.layer_sizes"));
  const size_t D = 3, A = 1;
  const Net actor(D, actor_hidden, sac ? 2 * A : A), q(D + A, q_hidden, 1);
  const double batch = std::stod(value("system.total_batch_size"));
  const double warmup = std::stod(value("system.warmup_steps"));
  const double steps = static_cast<double>(s.timesteps);
  const double grad_steps = steps - warmup + 1;
  const double q_width = static_cast<double>(q_hidden.empty() ? 1 : q_hidden[0]);
  const double critic_update = 2 * (q.fwd() + q.bwd());
  double per_step;  // per sample of a gradient step
  if (sac) {
    // target: actor(s'), 2 target critics; critics; actor(s), 2 critics with their action
    // gradients, the actor's backward.
    per_step = actor.fwd() + 2 * q.fwd() + critic_update + actor.fwd() + 2 * q.fwd() +
               2 * q.input_grad(A, static_cast<size_t>(q_width)) + actor.bwd();
  } else {
    // target actor and 2 target critics; critics; every 2nd step the actor through Q1.
    const double freq = std::stod(value("system.policy_frequency"));
    per_step =
        actor.fwd() + 2 * q.fwd() + critic_update +
        (actor.fwd() + q.fwd() + q.input_grad(A, static_cast<size_t>(q_width)) + actor.bwd()) /
            freq;
  }
  const double training = grad_steps * batch * per_step;
  const double behaviour = (steps - warmup) * actor.fwd();
  // Evaluation: num_evaluation x num_eval_episodes episodes of 200 steps, plus the absolute
  // metric's 10x, one actor forward per step.
  const double eval_steps =
      200.0 * static_cast<double>(cfg.arch.num_eval_episodes) *
      static_cast<double>(cfg.arch.num_evaluation + (cfg.arch.absolute_metric ? 10 : 0));
  const double evaluation = eval_steps * actor.fwd();
  const double flops = training + behaviour + evaluation;
  std::printf("%s: %lld env steps, %.0f gradient steps of batch %.0f, no logging or checkpoints\n",
              config, static_cast<long long>(s.timesteps), grad_steps, batch);
  std::printf(
      "  wall %.3f s (best of 3, with %lld evaluations and the absolute metric, %.0f eval "
      "steps)\n",
      s.wall_seconds, static_cast<long long>(cfg.arch.num_evaluation), eval_steps);
  std::printf("  final return %.1f, absolute %.1f\n", s.episode_return_mean,
              s.absolute_episode_return_mean);
  std::printf(
      "  network FLOPs (dense-equivalent): training %.1f G, behaviour %.2f G, evaluation %.2f G; "
      "%.1f GFLOP/s over the run (%.0f%% of the build's peak)\n",
      training * 1e-9, behaviour * 1e-9, evaluation * 1e-9, flops * 1e-9 / s.wall_seconds,
      100.0 * flops * 1e-9 / s.wall_seconds / edgerl::bench::machine().peak_gflops);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A TD3 learner whose 1M-transition buffer is full (filled cheaply: 1000 environments, one
// gradient step per 1000 transitions), saved and loaded as a checkpoint: the first save, whose
// chunk cache is empty, and later ones after 1,000 transitions changed each time (what one
// evaluation interval of td3_pendulum.ini adds), as the background saver does them.
void bench_full_buffer_save() {
  Config cfg = edgerl::load_config_text(
      edgerl::builtin_config_text("td3_pendulum.ini"), "td3_pendulum.ini",
      {"system.total_buffer_size=1000000", "arch.num_envs=1000", "arch.total_timesteps=1050000",
       "arch.num_evaluation=1", "system.warmup_steps=1000"});
  auto sys = edgerl::make_system(cfg);
  edgerl::Metrics train, act;
  const double t_fill = edgerl::bench::now_seconds();
  sys->learn(train, act);
  std::printf("TD3 Pendulum learner with a full 1M-transition buffer (filled in %.1f s)\n",
              edgerl::bench::now_seconds() - t_fill);
  edgerl::TensorList state;
  sys->append_tensors(state);
  uint64_t raw = 0;
  for (const auto& t : state) raw += t.size_bytes();
  // What a saver without its own lasting copy would copy at every save: every tensor.
  std::vector<std::vector<uint8_t>> copy(state.size());
  for (size_t i = 0; i < state.size(); ++i) copy[i].resize(state[i].size_bytes());
  std::vector<double> whole_copy;
  for (int r = 0; r < 7; ++r) {
    const double t0 = edgerl::bench::now_seconds();
    for (size_t i = 0; i < state.size(); ++i)
      if (state[i].size_bytes()) std::memcpy(copy[i].data(), state[i].data, state[i].size_bytes());
    whole_copy.push_back(edgerl::bench::now_seconds() - t0);
    edgerl::bench::keep(copy[0][0]);
  }
  TempDir dir;
  edgerl::CheckpointConfig ck;
  ck.save_args.checkpoint_uid = "full";
  ck.save_args.min_free_bytes = 0;
  ck.save_args.max_to_keep = 1;
  edgerl::CheckpointerHooks hooks;
  hooks.log = [](const std::string&) {};
  std::unique_ptr<edgerl::Checkpointer> c;
  edgerl::Status st =
      edgerl::Checkpointer::open(ck, dir.path, "ff_td3", edgerl::to_ini(cfg), &c, hooks);
  if (!st.ok()) {
    std::printf("  %s\n", st.message().c_str());
    return;
  }
  auto track = [&](edgerl::ChunkCache& cache) {
    for (const auto& t : state)
      if (t.rows) cache.track(t.name);
  };
  // 1,000 rows changed in every ring tensor, somewhere in the middle of the ring.
  auto change_rows = [&](edgerl::ChunkCache& cache, int r) {
    for (const auto& t : state) {
      if (!t.rows) continue;
      const uint64_t row = t.size_bytes() / t.shape[0], first = 1000 * (400 + r);
      cache.changed(t.name, first * row, (first + 1000) * row);
    }
  };
  std::vector<double> cold, warm, warm_cpu, load;
  uint64_t bytes = 0;
  int64_t step = 0;
  // Appends the save's wall time to `times` and, with `cpu`, its CPU time to *cpu.
  auto save = [&](edgerl::ChunkCache& cache, std::vector<double>& times,
                  std::vector<double>* cpu = nullptr) {
    double t0 = edgerl::bench::now_seconds();
    const double cpu0 = edgerl::thread_cpu_seconds();
    const edgerl::SaveResult sr = c->save(step, step, state, -150.0, false, &cache);
    ++step;
    times.push_back(edgerl::bench::now_seconds() - t0);
    if (cpu != nullptr) cpu->push_back(edgerl::thread_cpu_seconds() - cpu0);
    if (!sr.saved) {
      std::printf("  save failed: %s\n", sr.status.message().c_str());
      return false;
    }
    bytes = sr.bytes;
    t0 = edgerl::bench::now_seconds();
    edgerl::Status ls = edgerl::load_checkpoint_file(edgerl::posix_fs(), sr.path, state, nullptr);
    load.push_back(edgerl::bench::now_seconds() - t0);
    if (!ls.ok()) std::printf("  load failed: %s\n", ls.message().c_str());
    return ls.ok();
  };
  for (int r = 0; r < 5; ++r) {
    edgerl::ChunkCache fresh;
    track(fresh);
    if (!save(fresh, cold)) return;
  }
  edgerl::ChunkCache cache;
  track(cache);
  if (!save(cache, cold)) return;
  for (int r = 0; r < 5; ++r) {
    change_rows(cache, r);
    if (!save(cache, warm, &warm_cpu)) return;
  }
  std::printf(
      "  state %.1f MiB raw, file %.1f MiB; load %.0f ms (median of 11). Save (encode, write, "
      "fsync): first %.0f ms, then with 1,000 transitions changed %.0f ms, of it CPU %.1f ms "
      "(medians of 6 and 5); copying the whole state would take the training thread %.1f ms "
      "(median of 7)\n",
      raw / 1048576.0, bytes / 1048576.0, median(load) * 1e3, median(cold) * 1e3,
      median(warm) * 1e3, median(warm_cpu) * 1e3, median(whole_copy) * 1e3);
}

TrainSummary best_resumed(int reps, const Config& cfg, const std::string& seed_dir,
                          const std::vector<std::string>& overrides) {
  TrainSummary best;
  for (int i = 0; i < reps; ++i) {
    TempDir t;
    std::system(("cp -r '" + seed_dir + "/checkpoints' '" + t.path + "/'").c_str());
    const TrainSummary s = run(cfg, t.path, overrides);
    if (i == 0 || s.wall_seconds < best.wall_seconds) best = s;
  }
  return best;
}

void print_overhead(const char* what, const TrainSummary& base, const TrainSummary& all,
                    bool estimate = false) {
  std::printf("  %s\n", what);
  std::printf("    no logs, no checkpoints            %.3f s\n", base.wall_seconds);
  std::printf("    CSV + TensorBoard + checkpoint each %.3f s (%+.2f%%)\n", all.wall_seconds,
              100.0 * (all.wall_seconds - base.wall_seconds) / base.wall_seconds);
  const edgerl::SaveStats& v = all.saving;
  const double later = static_cast<double>(std::max<int64_t>(v.handovers - 1, 1));
  std::printf(
      "    %lld saves of %.1f MiB; training thread per hand-over %.2f ms (mean after the first, "
      "longest %.2f ms; the first %.1f ms); saver thread per save %.0f ms (longest %.0f ms), "
      "of it CPU %.1f ms\n",
      static_cast<long long>(v.saves), v.last_bytes / 1048576.0, v.handover_seconds / later * 1e3,
      v.max_handover_seconds * 1e3, v.first_handover_seconds * 1e3,
      v.saves ? v.save_seconds / static_cast<double>(v.saves) * 1e3 : 0.0, v.max_save_seconds * 1e3,
      v.saves ? v.save_cpu_seconds / static_cast<double>(v.saves) * 1e3 : 0.0);
  // The saves' share of the machine: what they take from training when no core is spare.
  const double cores = static_cast<double>(std::max(1, all.threads));
  std::printf(
      "    training thread's hand-overs %.2f%% of the run; the saver's CPU %.2f%% of %d "
      "thread%s' time\n",
      100.0 * (v.handover_seconds + v.first_handover_seconds) / all.wall_seconds,
      100.0 * v.save_cpu_seconds / (cores * all.wall_seconds), all.threads,
      all.threads == 1 ? "" : "s");
  if (!estimate || v.saves == 0) return;
  // What the saves cost such a run, from the measured parts (free of the run-to-run noise of
  // the wall times): per interval, the training thread's hand-overs and the saver's CPU
  // (its own, kernel included) taken from the training threads when no core is spare; once
  // per run, the first hand-over and the wait for the last save, spread over 20 intervals.
  const double n = static_cast<double>(v.saves);
  const double interval = all.wall_seconds / n;
  const double per = v.handover_seconds / std::max(1.0, n - 1) + v.save_cpu_seconds / n / cores;
  const double once = v.first_handover_seconds + v.save_seconds / n;
  std::printf(
      "    a 20-interval run of such intervals (%.1f s each): the saves take %.2f%% of it "
      "(%.2f%% per interval: hand-over %.2f ms, saver CPU %.1f ms per save over %d "
      "threads; %.2f%% once: first hand-over and the last save, %.0f ms)\n",
      interval, 100.0 * (20 * per + once) / (20 * interval), 100.0 * per / interval,
      v.handover_seconds / std::max(1.0, n - 1) * 1e3, v.save_cpu_seconds / n * 1e3, all.threads,
      100.0 * once / (20 * interval), once * 1e3);
}

// What checkpoints (every evaluation) and CSV + TensorBoard logs add to td3_pendulum.ini with
// a 1M-transition buffer: as shipped (20k transitions stored by the end), and with the buffer
// full at every save (resumed from a checkpoint after 1M warm-up steps of random actions, then
// the config's 20 evaluations of 1,000 steps, each followed by a checkpoint of 1M transitions).
void bench_overheads() {
  const std::string buffer = "system.total_buffer_size=1000000";
  const Config cfg = edgerl::load_config_text(edgerl::builtin_config_text("td3_pendulum.ini"),
                                              "td3_pendulum.ini", {buffer});
  std::printf("td3_pendulum.ini with a 1M-transition buffer, %lld evaluations, best of 3\n",
              static_cast<long long>(cfg.arch.num_evaluation));
  print_overhead("20k transitions stored by the end", best_of(3, cfg, quiet()),
                 best_of(3, cfg, {"logger.loggers.console.enabled=false"}));

  TempDir fill;
  const std::vector<std::string> warm = {buffer, "system.warmup_steps=1000000"};
  std::vector<std::string> filling = {"arch.total_timesteps=1000000", "arch.num_evaluation=1",
                                      "arch.num_eval_episodes=1", "arch.absolute_metric=false",
                                      "logger.checkpointing.save_args.checkpoint_uid=fill"};
  for (const std::string& q : quiet())
    if (q != "logger.checkpointing.save_model=false") filling.push_back(q);
  const Config fill_cfg = edgerl::load_config_text(edgerl::builtin_config_text("td3_pendulum.ini"),
                                                   "td3_pendulum.ini", warm);
  const double t0 = edgerl::bench::now_seconds();
  const TrainSummary filled = run(fill_cfg, fill.path, filling);
  if (filled.outcome != edgerl::TrainOutcome::finished) {
    std::printf("  filling the buffer failed\n");
    return;
  }
  std::vector<std::string> resumed = warm;
  resumed.insert(resumed.end(), {"arch.total_timesteps=1020000", "arch.num_evaluation=21",
                                 "logger.checkpointing.load_model=true"});
  const Config full = edgerl::load_config_text(edgerl::builtin_config_text("td3_pendulum.ini"),
                                               "td3_pendulum.ini", resumed);
  char what[160];
  std::snprintf(what, sizeof what,
                "the buffer full at every save (1M warm-up steps, %.1f s, then resumed for 20 "
                "evaluations of 1,000 steps)",
                edgerl::bench::now_seconds() - t0);
  const TrainSummary base = best_resumed(3, full, fill.path, quiet());
  print_overhead(what, base,
                 best_resumed(3, full, fill.path, {"logger.loggers.console.enabled=false"}));
  // The same with a save every 10 evaluations (10,000 steps) instead of each one.
  print_overhead("the buffer full, a save every 10 evaluations (save_interval_steps = 10)", base,
                 best_resumed(3, full, fill.path,
                              {"logger.loggers.console.enabled=false",
                               "logger.checkpointing.save_args.save_interval_steps=10"}));
  // A run that has filled a 1M-transition buffer has trained 1M steps or more; with the
  // config's 20 evaluations it saves every 50,000 steps. Three such intervals, resumed from
  // the full buffer.
  std::vector<std::string> longer = warm;
  longer.insert(longer.end(), {"arch.total_timesteps=1150000", "arch.num_evaluation=4",
                               "logger.checkpointing.load_model=true"});
  const Config sparse = edgerl::load_config_text(edgerl::builtin_config_text("td3_pendulum.ini"),
                                                 "td3_pendulum.ini", longer);
  print_overhead(
      "the buffer full, a save every 50,000 steps (a 1M-step run's 20 evaluations), 3 saves",
      best_resumed(2, sparse, fill.path, quiet()),
      best_resumed(2, sparse, fill.path, {"logger.loggers.console.enabled=false"}), true);
}

}  // namespace

EDGERL_BENCHMARK("offpolicy/sac_pendulum", [] { bench_pendulum("sac_pendulum.ini", true); });
EDGERL_BENCHMARK("offpolicy/td3_pendulum", [] { bench_pendulum("td3_pendulum.ini", false); });
EDGERL_BENCHMARK("offpolicy/full_buffer_save", bench_full_buffer_save);
EDGERL_BENCHMARK("offpolicy/overheads", bench_overheads);
