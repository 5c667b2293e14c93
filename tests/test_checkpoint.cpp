// The Checkpointer: run folders, exact resume, rotation, disk safety, fallback, and crashes at
// every step of a save. The learners do not exist here: a small fake learner state (a few
// tensors and a deterministic update) stands in for them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

#include "ckpt_test_util.hpp"
#include "edgerl/checkpoint.hpp"
#include "fault_fs.hpp"

using namespace edgerl;
using namespace edgerl::test;

namespace {

constexpr int64_t kClock = 1767225600000;  // 2026-01-01 00:00:00 UTC
const char* kIni = "[system]\nsystem_name = ff_ppo\n";

// Everything a training run needs to continue: parameters, Adam moments and step, the RNG
// words, an environment's state and counters. update() is one deterministic training step.
struct FakeLearner {
  std::vector<float> params = std::vector<float>(37);
  std::vector<float> m = std::vector<float>(37);
  std::vector<float> v = std::vector<float>(37);
  int64_t adam_step = 0;
  std::array<uint64_t, Pcg64::kStateWords> rng{};
  double env[4] = {0, 0, 0, 0};
  int32_t counters[2] = {0, 0};

  explicit FakeLearner(uint64_t seed) {
    Pcg64 g(seed);
    for (float& p : params) p = static_cast<float>(g.normal() * 0.1);
    for (double& e : env) e = g.uniform(-0.05, 0.05);
    rng = g.state();
  }

  TensorList tensors() {
    return {tensor_ref("actor/params", params.data(), {37}),
            tensor_ref("opt/actor/m", m.data(), {37}),
            tensor_ref("opt/actor/v", v.data(), {37}),
            tensor_ref("opt/step", &adam_step, {}),
            tensor_ref("rng/state", rng.data(), {rng.size()}),
            tensor_ref("env/state", env, {1, 4}),
            tensor_ref("counters", counters, {2})};
  }

  void update() {
    Pcg64 g;
    REQUIRE(g.set_state(rng));
    ++adam_step;
    for (size_t i = 0; i < params.size(); ++i) {
      const float grad = static_cast<float>(g.normal() * 0.1 + env[i % 4]) + 0.01f * params[i];
      m[i] = 0.9f * m[i] + 0.1f * grad;
      v[i] = 0.999f * v[i] + 0.001f * grad * grad;
      const float mhat = m[i] / (1.0f - std::pow(0.9f, static_cast<float>(adam_step)));
      const float vhat = v[i] / (1.0f - std::pow(0.999f, static_cast<float>(adam_step)));
      params[i] -= 1e-2f * mhat / (std::sqrt(vhat) + 1e-8f);
    }
    for (double& e : env) e = 0.99 * e + g.uniform(-0.01, 0.01);
    counters[0] += 1;
    counters[1] += static_cast<int32_t>(g.below(3));
    rng = g.state();
  }

  double episode_return() const {
    double s = 0;
    for (float p : params) s += p;
    return 100 + s;
  }

  std::vector<uint8_t> bytes() {
    std::vector<uint8_t> out;
    for (const TensorRef& t : tensors()) {
      const uint8_t* p = static_cast<const uint8_t*>(t.data);
      out.insert(out.end(), p, p + t.size_bytes());
    }
    return out;
  }
};

CheckpointConfig config(const std::string& uid = "run") {
  CheckpointConfig c;
  c.save_model = true;
  c.save_args.checkpoint_uid = uid;
  c.save_args.max_to_keep = 100;
  c.save_args.min_free_bytes = 0;
  return c;
}

struct Logged {
  std::vector<std::string> lines;
  bool has(const std::string& part) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }
};

CheckpointerHooks hooks(Logged* logged, FileSystem* fs = nullptr) {
  CheckpointerHooks h;
  h.fs = fs;
  h.now_ms = [] { return kClock; };
  h.log = [logged](const std::string& line) { logged->lines.push_back(line); };
  return h;
}

std::unique_ptr<Checkpointer> open_ok(const CheckpointConfig& cfg, const std::string& base,
                                      Logged* logged, FileSystem* fs = nullptr) {
  std::unique_ptr<Checkpointer> c;
  const Status s = Checkpointer::open(cfg, base, "ff_ppo", kIni, &c, hooks(logged, fs));
  INFO(s.message());
  REQUIRE(s.ok());
  return c;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The eval steps of the checkpoint files in a run folder, and any other file names there.
std::vector<int64_t> steps_in(const std::string& run_dir,
                              std::vector<std::string>* others = nullptr) {
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(run_dir, &entries).ok());
  std::vector<int64_t> steps;
  for (const DirEntry& e : entries) {
    int64_t s = 0;
    if (parse_checkpoint_file_name(e.name, &s))
      steps.push_back(s);
    else if (others)
      others->push_back(e.name);
  }
  return steps;
}

// One evaluation step of the fake training loop: learn, then checkpoint.
SaveResult train_eval_step(FakeLearner& l, Checkpointer& c, int64_t eval_step) {
  for (int u = 0; u < 5; ++u) l.update();
  return c.save((eval_step + 1) * 500, eval_step, l.tensors(), l.episode_return());
}

}  // namespace

TEST_CASE("ckpt checkpointer: saves go to base/rel_dir/model_name/uid/step_N.ckpt") {
  TempDir dir;
  Logged logged;
  auto c = open_ok(config("run1"), dir.path(), &logged);
  CHECK(c->run_dir() == dir / "checkpoints/ff_ppo/run1");
  CHECK(c->checkpoint_uid() == "run1");
  FakeLearner l(1);
  const SaveResult r = c->save(12800, 4, l.tensors(), 187.5);
  REQUIRE(r.saved);
  CHECK(r.path == dir / "checkpoints/ff_ppo/run1/step_000004.ckpt");
  CHECK(r.bytes == read_all(r.path).size());
  CHECK(r.free_bytes > 0);
  CHECK(logged.has("checkpoint: saved " + r.path + " ("));
  CHECK(logged.has(" free)"));

  CheckpointInfo info;
  REQUIRE(verify_checkpoint_file(posix_fs(), r.path, &info).ok());
  CHECK(info.meta.timestep == 12800);
  CHECK(info.meta.eval_step == 4);
  CHECK(info.meta.episode_return == 187.5);
  CHECK(info.meta.wall_time_ms == kClock);
  CHECK(info.meta.model_name == "ff_ppo");
  CHECK(info.meta.checkpoint_uid == "run1");
  CHECK(info.meta.config_ini == kIni);
  CHECK(info.meta.edgerl_version == "0.1.0");
  CHECK(info.tensors.size() == 7);
}

TEST_CASE(
    "ckpt checkpointer: save, restore and continue equals an uninterrupted run byte for byte") {
  TempDir a, b;
  Logged logged;
  FakeLearner straight(42);
  {
    auto c = open_ok(config(), a.path(), &logged);
    for (int64_t e = 0; e < 10; ++e) REQUIRE(train_eval_step(straight, *c, e).saved);
  }
  {
    FakeLearner first_half(42);
    auto c = open_ok(config(), b.path(), &logged);
    for (int64_t e = 0; e < 4; ++e) REQUIRE(train_eval_step(first_half, *c, e).saved);
  }  // the process ends here

  CheckpointConfig cfg = config();
  cfg.load_model = true;
  auto c = open_ok(cfg, b.path(), &logged);
  FakeLearner resumed(999);  // a different start: everything must come from the file
  REQUIRE(resumed.bytes() != straight.bytes());
  RestoreInfo info;
  REQUIRE(c->restore(resumed.tensors(), &info).ok());
  CHECK(info.meta.eval_step == 3);
  CHECK(info.meta.timestep == 2000);
  CHECK(info.checkpoint_uid == "run");
  CHECK(info.path == b / "checkpoints/ff_ppo/run/step_000003.ckpt");
  CHECK(info.fell_back.empty());
  for (int64_t e = info.meta.eval_step + 1; e < 10; ++e)
    REQUIRE(train_eval_step(resumed, *c, e).saved);

  CHECK(resumed.bytes() == straight.bytes());
  const std::string tail = "checkpoints/ff_ppo/run/step_000009.ckpt";
  CHECK(read_all(a / tail) == read_all(b / tail));
  CHECK(read_all(a / tail).size() > 0);
}

TEST_CASE(
    "ckpt checkpointer: rotation for every combination of max_to_keep, keep_best, keep_period") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> returns = {5, 3, nan, 9, 9, 1, 7, 2, 9, 0, 4, 8, nan, 6};
  float x = 0;
  for (int64_t max_to_keep : {1, 2, 3, 20}) {
    for (int64_t keep_best : {0, 1, 2, 4}) {
      for (int64_t keep_period : {0, 1, 3, 5}) {
        CAPTURE(max_to_keep);
        CAPTURE(keep_best);
        CAPTURE(keep_period);
        TempDir dir;
        Logged logged;
        FaultFs fs;
        fs.skip_syncs = true;
        CheckpointConfig cfg = config();
        cfg.save_args.max_to_keep = max_to_keep;
        cfg.save_args.keep_best = keep_best;
        cfg.save_args.keep_period = keep_period;
        auto c = open_ok(cfg, dir.path(), &logged, &fs);
        for (int64_t e = 0; e < static_cast<int64_t>(returns.size()); ++e) {
          CAPTURE(e);
          REQUIRE(c->save(e, e, {tensor_ref("x", &x, {1})}, returns[e]).saved);
          // The reference: the newest max_to_keep, the keep_best best so far (newer first among
          // equals, NaN never), and every keep_period-th evaluation.
          std::set<int64_t> want;
          for (int64_t s = std::max<int64_t>(0, e + 1 - max_to_keep); s <= e; ++s) want.insert(s);
          std::vector<int64_t> ranked;
          for (int64_t s = 0; s <= e; ++s)
            if (!std::isnan(returns[s])) ranked.push_back(s);
          std::sort(ranked.begin(), ranked.end(), [&](int64_t p, int64_t q) {
            return returns[p] != returns[q] ? returns[p] > returns[q] : p > q;
          });
          for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(keep_best); ++i)
            want.insert(ranked[i]);
          for (int64_t s = 0; keep_period > 0 && s <= e; ++s)
            if ((s + 1) % keep_period == 0) want.insert(s);
          const std::vector<int64_t> got = steps_in(c->run_dir());
          CHECK(std::set<int64_t>(got.begin(), got.end()) == want);
          CHECK(got.back() == e);  // the newest is never evicted
        }
      }
    }
  }
}

TEST_CASE(
    "ckpt checkpointer: a checkpoint the schedule did not ask for is kept only while newest, "
    "and takes nobody's place") {
  // save_interval_steps = 3: steps 2, 5, 8, ... are due. A stop saves whatever step it is at
  // (forced); a resumed run must end with the checkpoints of one that never stopped.
  float x = 0;
  TempDir dir;
  Logged logged;
  FaultFs fs;
  fs.skip_syncs = true;
  CheckpointConfig cfg = config();
  cfg.save_args.save_interval_steps = 3;
  cfg.save_args.max_to_keep = 2;
  cfg.save_args.keep_best = 1;
  auto c = open_ok(cfg, dir.path(), &logged, &fs);
  auto save = [&](int64_t e, double ret, bool force) {
    return c->save(e, e, {tensor_ref("x", &x, {1})}, ret, force).saved;
  };
  auto steps = [&] {
    const std::vector<int64_t> got = steps_in(c->run_dir());
    return std::set<int64_t>(got.begin(), got.end());
  };
  REQUIRE(save(2, 1.0, false));
  REQUIRE(save(5, 2.0, false));
  CHECK_FALSE(save(6, 50.0, false));  // not due
  REQUIRE(save(6, 50.0, true));       // a stop: the best return, but not asked for
  CHECK(steps() == std::set<int64_t>{2, 5, 6});
  REQUIRE(save(7, std::numeric_limits<double>::quiet_NaN(), true));  // a stop inside step 7
  CHECK(steps() == std::set<int64_t>{2, 5, 7});
  REQUIRE(save(8, 3.0, false));  // due: the stops' checkpoints go
  CHECK(steps() == std::set<int64_t>{5, 8});
  REQUIRE(save(9, 0.0, true));  // e.g. the run's last step
  REQUIRE(save(10, 0.0, true));
  CHECK(steps() == std::set<int64_t>{5, 8, 10});
  // A restart indexes what is on disk the same way.
  c.reset();
  auto again = open_ok(cfg, dir.path(), &logged, &fs);
  REQUIRE(again->save(11, 11, {tensor_ref("x", &x, {1})}, 0.5).saved);
  const std::vector<int64_t> got = steps_in(again->run_dir());
  CHECK(std::set<int64_t>(got.begin(), got.end()) == std::set<int64_t>{8, 11});
}

TEST_CASE(
    "ckpt checkpointer: a resumed run saves into its folder, or a new one after an older step") {
  TempDir dir;
  Logged logged;
  FakeLearner l(4);
  {
    auto c = open_ok(config(""), dir.path(), &logged);  // a timestamped run folder
    for (int64_t e = 0; e < 3; ++e) REQUIRE(train_eval_step(l, *c, e).saved);
  }
  CheckpointConfig cfg = config("");
  cfg.load_model = true;
  auto c = open_ok(cfg, dir.path(), &logged);
  CHECK(c->run_dir().empty());  // chosen by restore()
  RestoreInfo info;
  REQUIRE(c->restore(l.tensors(), &info).ok());
  CHECK(info.checkpoint_uid == "20260101000000");
  CHECK(c->run_dir() == dir / "checkpoints/ff_ppo/20260101000000");
  REQUIRE(train_eval_step(l, *c, 3).saved);
  CHECK(steps_in(c->run_dir()) == std::vector<int64_t>{0, 1, 2, 3});

  // From an older step, the abandoned steps 2 and 3 stay where they are, apart from the new run.
  cfg.load_args.load_step = 1;
  c = open_ok(cfg, dir.path(), &logged);
  REQUIRE(c->restore(l.tensors(), &info).ok());
  CHECK(info.meta.eval_step == 1);
  CHECK(c->run_dir() == dir / "checkpoints/ff_ppo/20260101000000-2");
  CHECK(logged.has("has checkpoints after eval step 1; this run continues in a new folder"));
  REQUIRE(train_eval_step(l, *c, 2).saved);
  CHECK(steps_in(c->run_dir()) == std::vector<int64_t>{2});
  CHECK(steps_in(dir / "checkpoints/ff_ppo/20260101000000") == std::vector<int64_t>{0, 1, 2, 3});

  // Saving without restoring first starts a new run.
  cfg.load_args.load_step = -1;
  c = open_ok(cfg, dir.path(), &logged);
  REQUIRE(train_eval_step(l, *c, 0).saved);
  CHECK(c->run_dir() == dir / "checkpoints/ff_ppo/20260101000000-3");
}

TEST_CASE("ckpt is_checkpoint_file: a checkpoint by its first bytes, whatever its name") {
  TempDir dir;
  Logged logged;
  auto c = open_ok(config("run1"), dir.path(), &logged);
  FakeLearner l(1);
  const SaveResult r = c->save(128, 1, l.tensors(), 1.0);
  REQUIRE(r.saved);
  CHECK(is_checkpoint_file(posix_fs(), r.path));
  const std::string bytes = read_all(r.path);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  // Renamed, or damaged after its magic: still one (an output must not overwrite it).
  CHECK(is_checkpoint_file(posix_fs(), write("renamed.txt", bytes)));
  CHECK(is_checkpoint_file(posix_fs(), write("cut.ckpt", bytes.substr(0, 8))));
  CHECK_FALSE(is_checkpoint_file(posix_fs(), write("short.ckpt", bytes.substr(0, 7))));
  CHECK_FALSE(is_checkpoint_file(posix_fs(), write("eval.csv", "timestep,eval_step\n")));
  CHECK_FALSE(is_checkpoint_file(posix_fs(), dir / "missing.ckpt"));
  CHECK_FALSE(is_checkpoint_file(posix_fs(), dir.path()));
}

TEST_CASE("ckpt checkpointer: save_interval_steps saves every Nth evaluation, force always") {
  TempDir dir;
  Logged logged;
  CheckpointConfig cfg = config();
  cfg.save_args.save_interval_steps = 3;
  auto c = open_ok(cfg, dir.path(), &logged);
  float x = 0;
  std::vector<int64_t> saved;
  for (int64_t e = 0; e < 10; ++e) {
    const SaveResult r = c->save(e * 10, e, {tensor_ref("x", &x, {1})}, 1.0, /*force=*/e == 9);
    CHECK(r.saved != r.skipped);
    if (r.saved) saved.push_back(e);
  }
  CHECK(saved == std::vector<int64_t>{2, 5, 8, 9});
  CHECK(steps_in(c->run_dir()) == saved);

  cfg.save_model = false;
  TempDir other;
  auto off = open_ok(cfg, other.path(), &logged);
  CHECK(off->save(0, 2, {tensor_ref("x", &x, {1})}, 1.0, true).skipped);
  CHECK(off->run_dir().empty());
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(other.path(), &entries).ok());
  CHECK(entries.empty());
}

TEST_CASE("ckpt checkpointer: the default uid is a UTC timestamp, unique for each run") {
  TempDir dir;
  Logged logged;
  auto first = open_ok(config(""), dir.path(), &logged);
  auto second = open_ok(config(""), dir.path(), &logged);
  CHECK(first->checkpoint_uid() == "20260101000000");
  CHECK(second->checkpoint_uid() == "20260101000000-2");
  CHECK(first->run_dir() != second->run_dir());
}

TEST_CASE("ckpt checkpointer: names with path separators and bad save_args are refused") {
  TempDir dir;
  std::unique_ptr<Checkpointer> c;
  CHECK(Checkpointer::open(config(), dir.path(), "../x", kIni, &c).message() ==
        "logger.checkpointing.model_name '../x' has a character other than letters, digits, "
        "'.', '_', '-', '=', ','");
  CHECK(Checkpointer::open(config(".."), dir.path(), "m", kIni, &c).message() ==
        "logger.checkpointing.save_args.checkpoint_uid '..' is not a folder name");
  CheckpointConfig cfg = config();
  cfg.load_args.checkpoint_uid = "a/b";
  CHECK(!Checkpointer::open(cfg, dir.path(), "m", kIni, &c).ok());
  cfg = config();
  cfg.save_args.rel_dir = "";
  CHECK(Checkpointer::open(cfg, dir.path(), "m", kIni, &c).message() ==
        "logger.checkpointing.save_args.rel_dir is empty");
  cfg = config();
  cfg.save_args.max_to_keep = 0;
  CHECK(Checkpointer::open(cfg, dir.path(), "m", kIni, &c).message() ==
        "logger.checkpointing.save_args.max_to_keep = 0 is out of range (at least 1)");
  cfg = config();
  cfg.save_args.on_save_error = "ignore";
  CHECK(!Checkpointer::open(cfg, dir.path(), "m", kIni, &c).ok());
  cfg = config();
  cfg.save_args.compression_level = 10;
  CHECK(!Checkpointer::open(cfg, dir.path(), "m", kIni, &c).ok());
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(dir.path(), &entries).ok());
  CHECK(entries.empty());  // nothing was created for a refused config
}

TEST_CASE("ckpt checkpointer: restore finds the newest run and step, or the ones asked for") {
  TempDir dir;
  Logged logged;
  float x = 0;
  int64_t clock = kClock;
  auto save_run = [&](const std::string& uid, std::vector<int64_t> steps) {
    CheckpointerHooks h = hooks(&logged);
    h.now_ms = [&] { return clock; };
    std::unique_ptr<Checkpointer> c;
    REQUIRE(Checkpointer::open(config(uid), dir.path(), "ff_ppo", kIni, &c, h).ok());
    for (int64_t s : steps) {
      x = static_cast<float>(uid.size() * 100 + s);
      clock += 1000;
      REQUIRE(c->save(s * 10, s, {tensor_ref("x", &x, {1})}, 0).saved);
    }
  };
  save_run("zzz-older", {0, 1});
  save_run("aaa-newer", {0, 1, 2});
  save_run("mmm-empty", {});

  CheckpointConfig cfg = config();
  cfg.save_model = false;
  cfg.load_model = true;
  auto c = open_ok(cfg, dir.path(), &logged);
  RestoreInfo info;
  REQUIRE(c->restore({tensor_ref("x", &x, {1})}, &info).ok());
  CHECK(info.checkpoint_uid == "aaa-newer");
  CHECK(info.meta.eval_step == 2);
  CHECK(x == 902);

  cfg.load_args.checkpoint_uid = "zzz-older";
  c = open_ok(cfg, dir.path(), &logged);
  REQUIRE(c->restore({tensor_ref("x", &x, {1})}, &info).ok());
  CHECK(info.meta.eval_step == 1);
  CHECK(x == 901);

  cfg.load_args.load_step = 0;
  c = open_ok(cfg, dir.path(), &logged);
  REQUIRE(c->restore({tensor_ref("x", &x, {1})}, &info).ok());
  CHECK(x == 900);

  cfg.load_args.load_step = 7;
  c = open_ok(cfg, dir.path(), &logged);
  CHECK(c->restore({tensor_ref("x", &x, {1})}, &info).message() ==
        dir / "checkpoints/ff_ppo/zzz-older" + ": no checkpoint of eval step 7 (steps: 0, 1)");

  cfg.load_args.checkpoint_uid = "nope";
  c = open_ok(cfg, dir.path(), &logged);
  CHECK(c->restore({tensor_ref("x", &x, {1})}, &info).code() == Status::Code::not_found);

  cfg.load_args.checkpoint_uid = "";
  CHECK(Checkpointer::open(cfg, dir.path(), "other_model", kIni, &c).ok());
  CHECK(c->restore({tensor_ref("x", &x, {1})}, &info).code() == Status::Code::not_found);
}

TEST_CASE("ckpt checkpointer: a damaged newest checkpoint is skipped, saying so") {
  TempDir dir;
  Logged logged;
  FakeLearner l(5);
  std::string newest;
  std::vector<uint8_t> at_step1;
  {
    auto c = open_ok(config(), dir.path(), &logged);
    for (int64_t e = 0; e < 3; ++e) {
      newest = train_eval_step(l, *c, e).path;
      if (e == 1) at_step1 = l.bytes();
    }
  }
  // Flip one byte in the middle of the newest file (tensor data: only its CRC can tell).
  std::string bytes = read_all(newest);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(newest, std::ios::binary) << bytes;

  CheckpointConfig cfg = config();
  cfg.load_model = true;
  auto c = open_ok(cfg, dir.path(), &logged);
  FakeLearner r(0);
  RestoreInfo info;
  REQUIRE(c->restore(r.tensors(), &info).ok());
  CHECK(info.meta.eval_step == 1);
  CHECK(r.bytes() == at_step1);
  REQUIRE(info.fell_back.size() == 1);
  CHECK(info.fell_back[0].find(newest + ": tensor '") == 0);
  CHECK(logged.has("falling back to an older checkpoint"));

  // Asking for the damaged step explicitly is an error, not a silent substitute.
  cfg.load_args.load_step = 2;
  c = open_ok(cfg, dir.path(), &logged);
  const Status s = c->restore(r.tensors(), &info);
  CHECK(s.code() == Status::Code::corruption);
  CHECK(s.message().find(newest + ": ") == 0);

  // Truncated files are skipped too; when none verifies, restore says so.
  for (const std::string& p : {newest, dir / "checkpoints/ff_ppo/run/step_000001.ckpt",
                               dir / "checkpoints/ff_ppo/run/step_000000.ckpt"}) {
    std::string b = read_all(p);
    std::ofstream(p, std::ios::binary) << b.substr(0, b.size() - 1);
  }
  cfg.load_args.load_step = -1;
  c = open_ok(cfg, dir.path(), &logged);
  CHECK(c->restore(r.tensors(), &info).message() ==
        dir / "checkpoints/ff_ppo" + ": no run of model 'ff_ppo' has a readable checkpoint");
  cfg.load_args.checkpoint_uid = "run";
  c = open_ok(cfg, dir.path(), &logged);
  const Status none = c->restore(r.tensors(), &info);
  CHECK(none.code() == Status::Code::corruption);
  CHECK(none.message() == dir / "checkpoints/ff_ppo/run" +
                              ": no checkpoint verifies (newest: " + newest +
                              ": truncated or damaged: no valid trailer at the end of "
                              "the " +
                              std::to_string(bytes.size() - 1) + "-byte file)");
}

TEST_CASE("ckpt checkpointer: a state of other shapes is refused, naming the tensor and shapes") {
  TempDir dir;
  Logged logged;
  FakeLearner l(5);
  {
    auto c = open_ok(config(), dir.path(), &logged);
    REQUIRE(train_eval_step(l, *c, 0).saved);
  }
  CheckpointConfig cfg = config();
  cfg.load_model = true;
  auto c = open_ok(cfg, dir.path(), &logged);
  FakeLearner other(6);
  const std::vector<uint8_t> before = other.bytes();
  TensorList state = other.tensors();
  state[0].shape = {36};
  RestoreInfo info;
  Status s = c->restore(state, &info);
  CHECK(s.code() == Status::Code::invalid_argument);
  CHECK(s.message() == dir / "checkpoints/ff_ppo/run/step_000000.ckpt" +
                           ": tensor 'actor/params' is f32 [37] in the checkpoint but f32 [36] in "
                           "this run (the config differs from the checkpoint's)");
  CHECK(other.bytes() == before);

  state = other.tensors();
  state.pop_back();
  s = c->restore(state, &info);
  CHECK(s.message().find("the checkpoint has tensor 'counters', which this run does not") !=
        std::string::npos);
  state = other.tensors();
  float extra = 0;
  state.push_back(tensor_ref("extra", &extra, {1}));
  s = c->restore(state, &info);
  CHECK(s.message().find("the checkpoint has no tensor 'extra', which this run needs") !=
        std::string::npos);
  state = other.tensors();
  state[3] = tensor_ref("opt/step", reinterpret_cast<double*>(&other.adam_step), {});
  s = c->restore(state, &info);
  CHECK(s.message().find("tensor 'opt/step' is i64 [] in the checkpoint but f64 []") !=
        std::string::npos);
  CHECK(other.bytes() == before);
}

TEST_CASE("ckpt checkpointer: too little free space refuses the save and keeps the old ones") {
  TempDir dir;
  Logged logged;
  FaultFs fs;
  CheckpointConfig cfg = config();
  cfg.save_args.min_free_bytes = 1 << 20;
  cfg.save_args.max_to_keep = 1;
  auto c = open_ok(cfg, dir.path(), &logged, &fs);
  FakeLearner l(1);
  const SaveResult first = train_eval_step(l, *c, 0);
  REQUIRE(first.saved);
  fs.free_space = (1 << 20) + first.bytes - 1;
  SaveResult r = train_eval_step(l, *c, 1);
  CHECK(!r.saved);
  CHECK(!r.abort);
  CHECK(r.status.code() == Status::Code::no_space);
  CHECK(r.status.message().find("must leave min_free_bytes = 1.0 MiB") != std::string::npos);
  CHECK(logged.has("checkpoint: eval step 1 (timestep 1000) not saved: "));
  CHECK(logged.has("earlier checkpoints kept; training continues (on_save_error = warn)"));
  CHECK(steps_in(c->run_dir()) == std::vector<int64_t>{0});
  CHECK(verify_checkpoint_file(posix_fs(), first.path, nullptr).ok());

  cfg.save_args.on_save_error = "abort";
  cfg.save_args.checkpoint_uid = "run2";
  auto strict = open_ok(cfg, dir.path(), &logged, &fs);
  r = train_eval_step(l, *strict, 2);
  CHECK(r.abort);
  CHECK(logged.has("stopping (on_save_error = abort)"));

  fs.free_space = (1 << 20) + first.bytes + 64;
  const SaveResult second = train_eval_step(l, *c, 2);
  REQUIRE(second.saved);  // step 0 is rotated out: the spare for the next save
  // The spare's blocks are written over, so they count as free: a disk with less free space
  // than a checkpoint still takes the next one.
  fs.free_space = (1 << 20) + 64;
  CHECK(train_eval_step(l, *c, 3).saved);
  CHECK(steps_in(c->run_dir()) == std::vector<int64_t>{3});
}

TEST_CASE("ckpt checkpointer: a failure at every I/O step of a save keeps earlier checkpoints") {
  FakeLearner l(3);
  for (int err : {EIO, ENOSPC}) {
    for (int k = 1;; ++k) {
      CAPTURE(err);
      CAPTURE(k);
      TempDir dir;
      Logged logged;
      FaultFs fs;
      fs.skip_syncs = true;  // FaultFs models durability itself
      CheckpointConfig cfg = config();
      cfg.save_args.max_to_keep = 2;
      auto c = open_ok(cfg, dir.path(), &logged, &fs);
      REQUIRE(train_eval_step(l, *c, 0).saved);
      REQUIRE(train_eval_step(l, *c, 1).saved);
      fs.fail_at(k, err);
      const SaveResult r = train_eval_step(l, *c, 2);
      if (!fs.fault_fired()) {
        CHECK(r.saved);
        CHECK(k > 6);
        break;
      }
      std::vector<std::string> others;
      const std::vector<int64_t> steps = steps_in(c->run_dir(), &others);
      // No temporary file left behind but the checkpointer's spare (a rotated-out checkpoint
      // kept for the next save to write over). FaultFs keeps unsynced removals as hidden links.
      const std::string spare = base_name(temp_path_for(join_path(c->run_dir(), "spare")));
      std::vector<std::string> visible;
      for (const std::string& o : others)
        if (o.find(".faultfs-") == std::string::npos && o != spare) visible.push_back(o);
      CHECK(visible.empty());
      CHECK(std::find(steps.begin(), steps.end(), 1) != steps.end());
      const bool has2 = std::find(steps.begin(), steps.end(), 2) != steps.end();
      if (!has2) CHECK(steps == std::vector<int64_t>{0, 1});
      if (r.saved) CHECK(has2);
      if (!r.saved) CHECK(logged.has("not saved: "));
      for (int64_t s : steps)
        CHECK(verify_checkpoint_file(posix_fs(), join_path(c->run_dir(), checkpoint_file_name(s)),
                                     nullptr)
                  .ok());
      // The next save works and rotation catches up; the spare goes with the checkpointer.
      fs.clear_faults();
      REQUIRE(train_eval_step(l, *c, 3).saved);
      CHECK(steps_in(c->run_dir()) ==
            (has2 ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{1, 3}));
      const std::string run_dir = c->run_dir();
      c.reset();
      std::vector<std::string> left;
      steps_in(run_dir, &left);
      for (const std::string& o : left)
        if (o.find(".faultfs-") == std::string::npos) CHECK(o.find(".tmp") == std::string::npos);
    }
  }
}

TEST_CASE(
    "ckpt checkpointer: a crash anywhere in a save, then power loss, leaves a restorable run") {
  for (int k = 1;; ++k) {
    CAPTURE(k);
    TempDir dir;
    Logged logged;
    FaultFs fs;
    fs.skip_syncs = true;  // FaultFs models durability itself
    CheckpointConfig cfg = config();
    cfg.save_args.max_to_keep = 2;
    FakeLearner l(8);
    std::vector<std::vector<uint8_t>> states;
    auto c = open_ok(cfg, dir.path(), &logged, &fs);
    for (int64_t e = 0; e < 2; ++e) {
      REQUIRE(train_eval_step(l, *c, e).saved);
      states.push_back(l.bytes());
    }
    fs.crash_at(k);
    const SaveResult r = train_eval_step(l, *c, 2);
    states.push_back(l.bytes());
    const bool crashed = fs.crashed();
    c.reset();
    fs.power_loss();
    fs.clear_faults();

    // Restart: stale temporaries go, every checkpoint file verifies, and the run resumes from
    // step 2 if that save completed, else from step 1.
    cfg.load_model = true;
    c = open_ok(cfg, dir.path(), &logged, &fs);
    std::vector<std::string> others;
    const std::vector<int64_t> steps = steps_in(c->run_dir(), &others);
    CHECK(others.empty());
    for (int64_t s : steps)
      CHECK(verify_checkpoint_file(posix_fs(), join_path(c->run_dir(), checkpoint_file_name(s)),
                                   nullptr)
                .ok());
    FakeLearner back(0);
    RestoreInfo info;
    REQUIRE(c->restore(back.tensors(), &info).ok());
    CHECK(info.fell_back.empty());
    const int64_t got = info.meta.eval_step;
    CHECK((got == 1 || got == 2));
    if (r.saved) CHECK(got == 2);
    if (got == 1) CHECK(steps == std::vector<int64_t>{0, 1});
    CHECK(back.bytes() == states[static_cast<size_t>(got)]);
    if (!crashed) break;
  }
}

TEST_CASE("ckpt checkpointer: stale temporaries are removed when a run starts") {
  TempDir dir;
  Logged logged;
  const std::string run = dir / "checkpoints/ff_ppo/run";
  REQUIRE(create_dirs(posix_fs(), run).ok());
  const std::string stale = temp_path_for(join_path(run, checkpoint_file_name(3)));
  std::ofstream(stale) << "half a checkpoint";
  auto c = open_ok(config("other"), dir.path(), &logged);
  CHECK(logged.has("removed stale temporary file " + stale));
  std::vector<std::string> others;
  CHECK(steps_in(run, &others).empty());
  CHECK(others.empty());
}

TEST_CASE(
    "ckpt checkpointer: a save writes over the rotated-out checkpoint, to a fresh file's bytes") {
  // The same training saved twice: through a FaultFs that traces (its rotated-out files are
  // kept as spares and written over) and straight to disk in another folder; every file must
  // be the same bytes, and the spare goes when the checkpointer does.
  TempDir a, b;
  Logged logged;
  FaultFs fs;
  fs.skip_syncs = true;
  CheckpointConfig cfg = config();
  cfg.save_args.max_to_keep = 1;
  FakeLearner la(7), lb(7);
  auto ca = open_ok(cfg, a.path(), &logged, &fs);
  auto cb = open_ok(cfg, b.path(), &logged);
  const std::string spare = temp_path_for(join_path(ca->run_dir(), "spare"));
  for (int64_t e = 0; e < 4; ++e) {
    CAPTURE(e);
    fs.trace.clear();
    REQUIRE(train_eval_step(la, *ca, e).saved);
    REQUIRE(train_eval_step(lb, *cb, e).saved);
    const std::string name = checkpoint_file_name(e);
    CHECK(read_all(join_path(ca->run_dir(), name)) == read_all(join_path(cb->run_dir(), name)));
    const std::string tmp = temp_path_for(join_path(ca->run_dir(), name));
    const bool overwrote =
        std::find(fs.trace.begin(), fs.trace.end(), "overwrite " + tmp) != fs.trace.end();
    CHECK(overwrote == (e >= 2));  // the first spare is step 0, rotated out by step 1's save
    std::vector<std::string> others;
    CHECK(steps_in(ca->run_dir(), &others) == std::vector<int64_t>{e});
    const bool has_spare =
        std::find(others.begin(), others.end(), base_name(spare)) != others.end();
    CHECK(has_spare == (e >= 1));
  }
  const std::string run_dir = ca->run_dir();
  ca.reset();
  std::vector<std::string> others;
  CHECK(steps_in(run_dir, &others) == std::vector<int64_t>{3});
  CHECK(std::find(others.begin(), others.end(), base_name(spare)) == others.end());
}

TEST_CASE("ckpt checkpointer: continuing in the same run folder continues its rotation") {
  TempDir dir;
  Logged logged;
  CheckpointConfig cfg = config();
  cfg.save_args.max_to_keep = 2;
  float x = 0;
  {
    auto c = open_ok(cfg, dir.path(), &logged);
    for (int64_t e = 0; e < 3; ++e) REQUIRE(c->save(e, e, {tensor_ref("x", &x, {1})}, 0).saved);
  }
  auto c = open_ok(cfg, dir.path(), &logged);
  const SaveResult r = c->save(3, 3, {tensor_ref("x", &x, {1})}, 0);
  CHECK(r.removed == std::vector<std::string>{join_path(c->run_dir(), checkpoint_file_name(1))});
  CHECK(steps_in(c->run_dir()) == std::vector<int64_t>{2, 3});
}

TEST_CASE("ckpt checkpointer: list_runs finds every run below a folder") {
  TempDir dir;
  Logged logged;
  float x = 0;
  for (const char* uid : {"r1", "r2"}) {
    auto c = open_ok(config(uid), dir.path(), &logged);
    c->save(10, 0, {tensor_ref("x", &x, {1})}, 1.5);
    c->save(20, 1, {tensor_ref("x", &x, {1})}, 2.5);
  }
  std::ofstream(dir / "checkpoints/ff_ppo/r2/step_000007.ckpt") << "junk";
  for (const std::string& from : {dir.path(), dir / "checkpoints", dir / "checkpoints/ff_ppo/r1"}) {
    std::vector<RunListing> runs;
    REQUIRE(list_runs(posix_fs(), from, &runs).ok());
    const size_t want = from == dir / "checkpoints/ff_ppo/r1" ? 1 : 2;
    REQUIRE(runs.size() == want);
    CHECK(runs[0].checkpoint_uid == "r1");
    CHECK(runs[0].checkpoints.size() == 2);
    CHECK(runs[0].checkpoints[1].meta.timestep == 20);
    CHECK(runs[0].checkpoints[1].meta.episode_return == 2.5);
    if (want == 2) {
      REQUIRE(runs[1].checkpoints.size() == 3);
      CHECK(!runs[1].checkpoints[2].status.ok());
      CHECK(runs[1].checkpoints[2].eval_step == 7);
    }
  }
  // A folder below that cannot be read is passed over (ckpt ls / met /proc's); the folder
  // asked for must be readable.
  FaultFs fs;
  fs.fail_at(1, EACCES, FaultFs::Op::list, false, "ff_ppo/r2");
  std::vector<RunListing> runs;
  REQUIRE(list_runs(fs, dir.path(), &runs).ok());
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].checkpoint_uid == "r1");
  fs.fail_at(1, EACCES, FaultFs::Op::list);
  CHECK(list_runs(fs, dir.path(), &runs).code() == Status::Code::io_error);
  CHECK(checkpoint_file_name(42) == "step_000042.ckpt");
  CHECK(checkpoint_file_name(1234567) == "step_1234567.ckpt");
  int64_t s = 0;
  CHECK((parse_checkpoint_file_name("step_1234567.ckpt", &s) && s == 1234567));
  CHECK_FALSE(parse_checkpoint_file_name("step_.ckpt", &s));
  CHECK_FALSE(parse_checkpoint_file_name("step_12.ckpt.tmp", &s));
  CHECK(human_bytes(512) == "512 B");
  CHECK(human_bytes(1536) == "1.5 KiB");
  CHECK(human_bytes(12u << 20) == "12.0 MiB");
}
