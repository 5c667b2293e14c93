// The Checkpointer: run folders, saving with rotation and disk checks, restoring with
// verification and fallback, and the listing that `edgerl ckpt ls` prints.
#include "edgerl/checkpoint.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/text.hpp"
#include "edgerl/version.hpp"

namespace edgerl {

namespace {

const char* kPrefix = "step_";
const char* kSuffix = ".ckpt";

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string utc_timestamp(int64_t ms) {
  return utc_text(ms, true);
}

std::string step_list(const RunListing& run) {
  std::string s;
  for (const CheckpointEntry& e : run.checkpoints)
    s += (s.empty() ? "" : ", ") + std::to_string(e.eval_step);
  return s.empty() ? "none" : s;
}

Status open_and(FileSystem& fs, const std::string& path,
                const std::function<Status(const RandomAccessFile&)>& fn) {
  std::unique_ptr<RandomAccessFile> file;
  Status s = fs.open_for_read(path, &file);
  if (!s.ok()) return s;
  return fn(*file).prefixed(path);
}

Status check_range(const std::string& key, int64_t v, IntRange r) {
  if (v < r.min)
    return Status::invalid_argument(key + " = " + std::to_string(v) +
                                    " is out of range (at least " + std::to_string(r.min) + ")");
  if (v > r.max)
    return Status::invalid_argument(key + " = " + std::to_string(v) + " is out of range (at most " +
                                    std::to_string(r.max) + ")");
  return Status();
}

Status check_save_args(const SaveArgs& a) {
  const std::string key = "logger.checkpointing.save_args.";
  for (Status s :
       {check_range(key + "save_interval_steps", a.save_interval_steps,
                    SaveArgs::kSaveIntervalRange),
        check_range(key + "max_to_keep", a.max_to_keep, SaveArgs::kMaxToKeepRange),
        check_range(key + "keep_period", a.keep_period, SaveArgs::kKeepPeriodRange),
        check_range(key + "keep_best", a.keep_best, SaveArgs::kKeepBestRange),
        check_range(key + "compression_level", a.compression_level, SaveArgs::kCompressionRange),
        check_range(key + "min_free_bytes", a.min_free_bytes, SaveArgs::kMinFreeRange)})
    if (!s.ok()) return s;
  for (const char* choice : SaveArgs::kOnSaveError)
    if (a.on_save_error == choice) return Status();
  return Status::invalid_argument(key + "on_save_error = " + a.on_save_error +
                                  " is not one of warn, abort");
}

}  // namespace

std::string checkpoint_file_name(int64_t eval_step) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%06lld%s", kPrefix, static_cast<long long>(eval_step), kSuffix);
  return buf;
}

bool parse_checkpoint_file_name(const std::string& name, int64_t* eval_step) {
  const std::string prefix = kPrefix, suffix = kSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix))
    return false;
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18) return false;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *eval_step = v;
  return true;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

// ---- reading files ------------------------------------------------------------------------

bool is_checkpoint_file(FileSystem& fs, const std::string& path) {
  std::unique_ptr<RandomAccessFile> file;
  char magic[sizeof kCkptMagic];
  return fs.open_for_read(path, &file).ok() && file->size() >= sizeof magic &&
         file->read(0, sizeof magic, reinterpret_cast<uint8_t*>(magic)).ok() &&
         std::memcmp(magic, kCkptMagic, sizeof magic) == 0;
}

Status read_checkpoint_file_info(FileSystem& fs, const std::string& path, CheckpointInfo* out) {
  return open_and(fs, path,
                  [&](const RandomAccessFile& f) { return read_checkpoint_info(f, out); });
}

Status verify_checkpoint_file(FileSystem& fs, const std::string& path, CheckpointInfo* out) {
  return open_and(fs, path, [&](const RandomAccessFile& f) { return verify_checkpoint(f, out); });
}

Status read_checkpoint_file(FileSystem& fs, const std::string& path, CheckpointInfo* info,
                            std::vector<Tensor>* tensors) {
  return open_and(fs, path,
                  [&](const RandomAccessFile& f) { return read_checkpoint(f, info, tensors); });
}

Status load_checkpoint_file(FileSystem& fs, const std::string& path, const TensorList& into,
                            CheckpointInfo* info, const LoadOptions& options) {
  return open_and(fs, path, [&](const RandomAccessFile& f) {
    CheckpointInfo got;
    Status s = read_checkpoint_info(f, &got);
    if (!s.ok()) return s;
    auto is_extra = [&](const std::string& name) {
      return options.extra && !options.extra_prefix.empty() &&
             name.rfind(options.extra_prefix, 0) == 0;
    };
    std::map<std::string, const TensorRef*> wanted;
    for (const TensorRef& t : into)
      if (!wanted.emplace(t.name, &t).second)
        return Status::invalid_argument("tensor '" + t.name + "' is listed twice in this run");
    for (const TensorRecord& rec : got.tensors)
      if (!wanted.count(rec.name) && !is_extra(rec.name))
        return Status::invalid_argument("the checkpoint has tensor '" + rec.name +
                                        "', which this run does not (the config differs from "
                                        "the checkpoint's)");
    std::map<std::string, const TensorRecord*> present;
    for (const TensorRecord& rec : got.tensors) present[rec.name] = &rec;
    std::vector<const TensorRef*> missing_optional;
    for (const TensorRef& t : into) {
      const auto it = present.find(t.name);
      const bool optional = std::find(options.optional.begin(), options.optional.end(), t.name) !=
                            options.optional.end();
      if (it == present.end() && optional) {
        missing_optional.push_back(&t);
        continue;
      }
      if (it == present.end())
        return Status::invalid_argument("the checkpoint has no tensor '" + t.name +
                                        "', which this run needs (the config differs from the "
                                        "checkpoint's)");
      const TensorRecord& rec = *it->second;
      if (rec.dtype != t.dtype || rec.shape != t.shape)
        return Status::invalid_argument("tensor '" + t.name + "' is " + dtype_name(rec.dtype) +
                                        " " + shape_string(rec.shape) + " in the checkpoint but " +
                                        dtype_name(t.dtype) + " " + shape_string(t.shape) +
                                        " in this run (the config differs from the checkpoint's)");
    }
    std::vector<Tensor> extra;
    for (const TensorRecord& rec : got.tensors) {
      if (is_extra(rec.name) && !wanted.count(rec.name)) {
        if (rec.raw_size > SIZE_MAX / 2)
          return Status::invalid_argument("tensor '" + rec.name +
                                          "': " + std::to_string(rec.raw_size) +
                                          " bytes are more than this host can hold in memory");
        Tensor t;
        t.name = rec.name;
        t.dtype = rec.dtype;
        t.shape = rec.shape;
        t.bytes.resize(static_cast<size_t>(rec.raw_size));
        s = read_tensor_data(f, rec, t.bytes.data());
        if (!s.ok()) return s;
        extra.push_back(std::move(t));
        continue;
      }
      s = read_tensor_data(f, rec, wanted[rec.name]->data);
      if (!s.ok()) return s;
    }
    if (options.missing) options.missing->clear();
    for (const TensorRef* t : missing_optional) {
      if (t->size_bytes()) std::memset(t->data, 0, t->size_bytes());
      if (options.missing) options.missing->push_back(t->name);
    }
    if (options.extra) *options.extra = std::move(extra);
    if (info) *info = std::move(got);
    return Status();
  });
}

// ---- listing ------------------------------------------------------------------------------

Status list_run(FileSystem& fs, const std::string& run_dir, RunListing* out) {
  std::vector<DirEntry> entries;
  Status s = fs.list_dir(run_dir, &entries);
  if (!s.ok()) return s;
  RunListing run;
  run.dir = run_dir;
  run.checkpoint_uid = base_name(run_dir);
  for (const DirEntry& e : entries) {
    if (!e.is_file) continue;
    const std::string path = join_path(run_dir, e.name);
    long pid = 0;
    int64_t step = 0;
    if (parse_temp_name(e.name, &pid)) {
      run.temp_files.push_back(path);
    } else if (parse_checkpoint_file_name(e.name, &step)) {
      CheckpointEntry entry;
      entry.path = path;
      entry.eval_step = step;
      std::unique_ptr<RandomAccessFile> file;
      entry.status = fs.open_for_read(path, &file);
      if (entry.status.ok()) {
        entry.size = file->size();
        CheckpointInfo info;
        entry.status = read_checkpoint_info(*file, &info).prefixed(path);
        if (entry.status.ok()) {
          entry.meta = std::move(info.meta);
          entry.eval_step = entry.meta.eval_step;
          entry.num_tensors = info.tensors.size();
        }
      }
      run.checkpoints.push_back(std::move(entry));
    }
  }
  std::stable_sort(
      run.checkpoints.begin(), run.checkpoints.end(),
      [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.eval_step < b.eval_step; });
  *out = std::move(run);
  return Status();
}

namespace {

Status collect_runs(FileSystem& fs, const std::string& dir, int depth,
                    std::vector<RunListing>* out) {
  RunListing run;
  Status s = list_run(fs, dir, &run);
  if (!s.ok()) return s;
  if (!run.checkpoints.empty() || !run.temp_files.empty()) out->push_back(std::move(run));
  if (depth == 0) return Status();
  std::vector<DirEntry> entries;
  s = fs.list_dir(dir, &entries);
  if (!s.ok()) return s;
  // A folder below it that cannot be read (another user's, /proc's) is passed over, as find
  // goes on past one: the listing is of the runs that can be read.
  for (const DirEntry& e : entries)
    if (e.is_dir) collect_runs(fs, join_path(dir, e.name), depth - 1, out);
  return Status();
}

}  // namespace

Status list_runs(FileSystem& fs, const std::string& dir, std::vector<RunListing>* out) {
  out->clear();
  Status s = collect_runs(fs, dir, 4, out);
  std::sort(out->begin(), out->end(),
            [](const RunListing& a, const RunListing& b) { return a.dir < b.dir; });
  return s;
}

// ---- the Checkpointer ---------------------------------------------------------------------

Status Checkpointer::open(const CheckpointConfig& cfg, const std::string& base_exp_path,
                          const std::string& model_name, const std::string& config_ini,
                          std::unique_ptr<Checkpointer>* out, CheckpointerHooks hooks) {
  const std::string key = "logger.checkpointing.";
  struct Named {
    std::string key, value;
    bool may_be_empty;
  };
  const Named names[] = {
      {"model_name", model_name, false},
      {"save_args.rel_dir", cfg.save_args.rel_dir, false},
      {"save_args.checkpoint_uid", cfg.save_args.checkpoint_uid, true},
      {"load_args.rel_dir", cfg.load_args.rel_dir, false},
      {"load_args.checkpoint_uid", cfg.load_args.checkpoint_uid, true},
  };
  for (const Named& n : names) {
    if (n.may_be_empty && n.value.empty()) continue;
    const std::string problem = folder_name_problem(n.value);
    if (!problem.empty()) return Status::invalid_argument(key + n.key + " " + problem);
  }
  Status s =
      check_range(key + "load_args.load_step", cfg.load_args.load_step, LoadArgs::kLoadStepRange);
  if (s.ok()) s = check_save_args(cfg.save_args);
  if (!s.ok()) return s;

  std::unique_ptr<Checkpointer> c(new Checkpointer());
  c->cfg_ = cfg;
  c->base_ = base_exp_path;
  c->model_name_ = model_name;
  c->config_ini_ = config_ini;
  c->hooks_ = std::move(hooks);
  c->fs_ = c->hooks_.fs ? c->hooks_.fs : &posix_fs();
  if (!c->hooks_.now_ms) c->hooks_.now_ms = system_now_ms;
  if (cfg.save_model) {
    c->model_dir_ = join_path(join_path(base_exp_path, cfg.save_args.rel_dir), model_name);
    s = create_dirs(*c->fs_, c->model_dir_);
    if (s.ok()) s = c->remove_stale_temps_under(c->model_dir_);
    if (s.ok() && (!cfg.save_args.checkpoint_uid.empty() || !cfg.load_model))
      s = c->start_run(cfg.save_args.checkpoint_uid);
    if (!s.ok()) return s;
  }
  if (cfg.load_model && (!cfg.save_model || cfg.load_args.rel_dir != cfg.save_args.rel_dir)) {
    const std::string load_model_dir =
        join_path(join_path(base_exp_path, cfg.load_args.rel_dir), model_name);
    s = c->remove_stale_temps_under(load_model_dir);
    if (!s.ok() && s.code() != Status::Code::not_found) return s;
  }
  *out = std::move(c);
  return Status();
}

Status create_timestamped_dir(FileSystem& fs, const std::string& parent, int64_t now_ms,
                              std::string* name) {
  // mkdir is atomic, so two runs started in the same second still get their own folders.
  const std::string stamp = utc_timestamp(now_ms);
  bool created = false;
  Status s;
  for (int n = 1; s.ok() && !created && n <= 1000; ++n) {
    *name = n == 1 ? stamp : stamp + "-" + std::to_string(n);
    s = fs.create_dir(join_path(parent, *name), &created);
  }
  if (s.ok() && !created)
    return Status::io_error(parent + ": no free run folder name for " + stamp);
  return s;
}

Status create_timestamped_dirs(FileSystem& fs, const std::vector<std::string>& parents,
                               int64_t now_ms, std::string* name) {
  const std::string stamp = utc_timestamp(now_ms);
  for (int n = 1; n <= 1000; ++n) {
    *name = n == 1 ? stamp : stamp + "-" + std::to_string(n);
    std::vector<std::string> made;
    bool free = true;
    for (const std::string& parent : parents) {
      bool created = false;
      const std::string dir = join_path(parent, *name);
      const Status s = fs.create_dir(dir, &created);
      if (!s.ok()) return s;
      if (!created) {
        free = false;
        break;
      }
      made.push_back(dir);
    }
    if (free) {
      for (const std::string& parent : parents) {
        const Status s = fs.sync_dir(parent);
        if (!s.ok()) return s;
      }
      return Status();
    }
    for (const std::string& dir : made) fs.remove_dir(dir);
  }
  return Status::io_error(parents.front() + ": no free run folder name for " + stamp);
}

Status Checkpointer::start_run(const std::string& uid) {
  Status s;
  bool created = false;
  if (!uid.empty()) {
    uid_ = uid;
    s = fs_->create_dir(join_path(model_dir_, uid_), &created);
  } else {
    s = create_timestamped_dir(*fs_, model_dir_, hooks_.now_ms(), &uid_);
    created = s.ok();
  }
  if (s.ok() && created) s = fs_->sync_dir(model_dir_);
  if (!s.ok()) return s;
  const std::string run_dir = join_path(model_dir_, uid_);
  RunListing run;
  s = list_run(*fs_, run_dir, &run);
  if (!s.ok()) return s;
  run_dir_ = run_dir;
  for (const CheckpointEntry& e : run.checkpoints) {
    if (e.status.ok())
      index_.push_back({e.eval_step, e.meta.episode_return, e.path});
    else
      log("checkpoint: ignoring unreadable " + e.status.message());
  }
  log("checkpoint: saving to " + run_dir_);
  return Status();
}

Status Checkpointer::remove_stale_temps_under(const std::string& model_dir) {
  std::vector<DirEntry> runs;
  Status s = fs_->list_dir(model_dir, &runs);
  if (!s.ok()) return s;
  for (const DirEntry& run : runs) {
    if (!run.is_dir) continue;
    std::vector<std::string> removed;
    s = remove_stale_temps(*fs_, join_path(model_dir, run.name), &removed);
    for (const std::string& path : removed) log("checkpoint: removed stale temporary file " + path);
    if (!s.ok()) return s;
  }
  return Status();
}

SaveResult Checkpointer::save(int64_t timestep, int64_t eval_step, const TensorList& state,
                              double episode_return, bool force, ChunkCache* chunks) {
  SaveResult r;
  const int64_t interval = cfg_.save_args.save_interval_steps;
  if (!cfg_.save_model || (!force && (eval_step + 1) % interval != 0)) {
    r.skipped = true;
    return r;
  }
  const auto start = std::chrono::steady_clock::now();
  if (eval_step < 0)
    return failed(r, Status::invalid_argument("eval_step " + std::to_string(eval_step) + " < 0"),
                  eval_step, timestep);
  if (run_dir_.empty()) {
    const Status s = start_run("");
    if (!s.ok()) return failed(r, s, eval_step, timestep);
  }

  CheckpointMeta meta;
  meta.timestep = timestep;
  meta.eval_step = eval_step;
  meta.episode_return = episode_return;
  meta.wall_time_ms = hooks_.now_ms();
  meta.model_name = model_name_;
  meta.checkpoint_uid = uid_;
  meta.edgerl_version = kVersion;
  meta.config_ini = config_ini_;
  Status s = encode_checkpoint(meta, state, static_cast<int>(cfg_.save_args.compression_level),
                               &buffer_, chunks);
  if (!s.ok()) return failed(r, s, eval_step, timestep);

  const uint64_t min_free = static_cast<uint64_t>(cfg_.save_args.min_free_bytes);
  uint64_t free_before = 0;
  s = fs_->free_bytes(run_dir_, &free_before);
  // The spare's blocks are written over: they count as free.
  std::unique_ptr<RandomAccessFile> spare;
  if (s.ok() && !spare_.empty() && fs_->open_for_read(spare_, &spare).ok())
    free_before += spare->size();
  if (s.ok() && (free_before < buffer_.size() || free_before - buffer_.size() < min_free))
    s = Status::no_space(run_dir_ + ": " + human_bytes(free_before) + " free, but the " +
                         human_bytes(buffer_.size()) +
                         " checkpoint must leave min_free_bytes = " + human_bytes(min_free));
  if (!s.ok()) return failed(r, s, eval_step, timestep);

  r.path = join_path(run_dir_, checkpoint_file_name(eval_step));
  bool renamed = false;
  s = write_file_atomic(*fs_, r.path, buffer_.data(), buffer_.size(), &renamed, spare_);
  spare_.clear();  // written over, or gone
  auto same_step = [&](const Kept& k) { return k.eval_step == eval_step; };
  if (renamed) {
    // The file is complete under its final name (even if its folder's fsync failed): index it
    // so that rotation removes it in time.
    index_.erase(std::remove_if(index_.begin(), index_.end(), same_step), index_.end());
    index_.push_back({eval_step, episode_return, r.path});
    std::sort(index_.begin(), index_.end(),
              [](const Kept& a, const Kept& b) { return a.eval_step < b.eval_step; });
  }
  if (!s.ok()) return failed(r, s, eval_step, timestep);

  r.saved = true;
  r.bytes = buffer_.size();
  rotate(&r);
  if (!fs_->free_bytes(run_dir_, &r.free_bytes).ok()) r.free_bytes = 0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f ms", r.seconds * 1e3);
  log("checkpoint: saved " + r.path + " (" + human_bytes(r.bytes) + " in " + ms + "; " +
      human_bytes(r.free_bytes) + " free)");
  return r;
}

Checkpointer::~Checkpointer() {
  if (!spare_.empty() && fs_ != nullptr) fs_->remove_file(spare_);
}

SaveResult Checkpointer::failed(SaveResult r, const Status& s, int64_t eval_step,
                                int64_t timestep) {
  r.status = s;
  r.abort = cfg_.save_args.on_save_error == "abort";
  log("checkpoint: eval step " + std::to_string(eval_step) + " (timestep " +
      std::to_string(timestep) + ") not saved: " + s.message() + "; earlier checkpoints kept; " +
      (r.abort ? "stopping (on_save_error = abort)" : "training continues (on_save_error = warn)"));
  return r;
}

// A checkpoint at a step save_interval_steps does not ask for (saved by a stop, inside its
// interval or after it, or as the run's last) is kept while it is the newest and goes once a
// later one is saved; it takes no place among the max_to_keep newest, the keep_best or the
// keep_period steps, so a run that was stopped and resumed keeps the same checkpoints as one
// that never stopped. (One saved inside an interval at a step that is due is replaced by that
// step's own when the interval ends.)
bool Checkpointer::unscheduled(const Kept& k) const {
  return (k.eval_step + 1) % cfg_.save_args.save_interval_steps != 0;
}

void Checkpointer::rotate(SaveResult* r) {
  const SaveArgs& a = cfg_.save_args;
  std::vector<bool> keep(index_.size(), false);
  std::vector<size_t> scheduled, by_return;
  for (size_t i = 0; i < index_.size(); ++i) {
    if (unscheduled(index_[i])) {
      keep[i] = i + 1 == index_.size();  // the newest (index_ is sorted by eval_step)
      continue;
    }
    scheduled.push_back(i);
    if (!std::isnan(index_[i].episode_return)) by_return.push_back(i);
    if (a.keep_period > 0 && (index_[i].eval_step + 1) % a.keep_period == 0) keep[i] = true;
  }
  const size_t newest = static_cast<size_t>(std::min<int64_t>(a.max_to_keep, scheduled.size()));
  for (size_t j = scheduled.size() - newest; j < scheduled.size(); ++j) keep[scheduled[j]] = true;
  // Best first; among equal returns the newer one.
  std::sort(by_return.begin(), by_return.end(), [&](size_t x, size_t y) {
    if (index_[x].episode_return != index_[y].episode_return)
      return index_[x].episode_return > index_[y].episode_return;
    return index_[x].eval_step > index_[y].eval_step;
  });
  for (size_t j = 0; j < by_return.size() && j < static_cast<size_t>(a.keep_best); ++j)
    keep[by_return[j]] = true;

  std::vector<Kept> kept;
  for (size_t i = 0; i < index_.size(); ++i) {
    if (keep[i]) {
      kept.push_back(index_[i]);
      continue;
    }
    // The first file to go becomes the next save's spare: renamed to a temporary's name, so
    // that it is no checkpoint any more (a crash leaves a temporary, removed at the next
    // start; a power loss before the folder's next fsync may bring the old checkpoint back,
    // as an undone removal would).
    if (spare_.empty()) {
      const std::string spare = temp_path_for(join_path(run_dir_, "spare"));
      if (fs_->rename_file(index_[i].path, spare).ok()) {
        spare_ = spare;
        r->removed.push_back(index_[i].path);
        continue;
      }
    }
    const Status s = fs_->remove_file(index_[i].path);
    if (s.ok() || s.code() == Status::Code::not_found) {
      r->removed.push_back(index_[i].path);
    } else {
      log("checkpoint: could not rotate away " + s.message() + "; will retry");
      kept.push_back(index_[i]);
    }
  }
  index_ = std::move(kept);
}

Status find_newest_run(FileSystem& fs, const std::string& model_dir, std::string* uid) {
  std::vector<DirEntry> entries;
  Status s = fs.list_dir(model_dir, &entries);
  if (!s.ok()) return Status::not_found("no checkpoints under " + model_dir + ": " + s.message());
  bool found = false;
  int64_t best_time = 0;
  for (const DirEntry& e : entries) {
    if (!e.is_dir) continue;
    RunListing run;
    if (!list_run(fs, join_path(model_dir, e.name), &run).ok()) continue;
    for (const CheckpointEntry& c : run.checkpoints) {
      if (!c.status.ok()) continue;
      // Entries come sorted by name, so on equal times the later name wins.
      if (!found || c.meta.wall_time_ms >= best_time) {
        found = true;
        best_time = c.meta.wall_time_ms;
        *uid = e.name;
      }
    }
  }
  if (!found) return Status::not_found(model_dir + ": no run has a readable checkpoint");
  return Status();
}

Status Checkpointer::find_newest_run(const std::string& model_dir, std::string* uid) {
  std::vector<DirEntry> entries;
  const Status listed = fs_->list_dir(model_dir, &entries);
  if (!listed.ok())
    return Status::not_found("no checkpoints of model '" + model_name_ + "': " + listed.message());
  const Status s = edgerl::find_newest_run(*fs_, model_dir, uid);
  if (s.code() == Status::Code::not_found)
    return Status::not_found(model_dir + ": no run of model '" + model_name_ +
                             "' has a readable checkpoint");
  return s;
}

Status Checkpointer::restore(const TensorList& into, RestoreInfo* info,
                             const LoadOptions& options) {
  const LoadArgs& a = cfg_.load_args;
  const std::string model_dir = join_path(join_path(base_, a.rel_dir), model_name_);
  std::string uid = a.checkpoint_uid;
  if (uid.empty()) {
    Status s = find_newest_run(model_dir, &uid);
    if (!s.ok()) return s;
  }
  RunListing run;
  Status s = list_run(*fs_, join_path(model_dir, uid), &run);
  if (!s.ok()) return s;
  if (run.checkpoints.empty()) return Status::not_found(run.dir + ": the run has no checkpoint");

  RestoreInfo out;
  out.checkpoint_uid = uid;
  CheckpointInfo got;
  if (a.load_step >= 0) {
    const auto it =
        std::find_if(run.checkpoints.begin(), run.checkpoints.end(),
                     [&](const CheckpointEntry& e) { return e.eval_step == a.load_step; });
    if (it == run.checkpoints.end())
      return Status::not_found(run.dir + ": no checkpoint of eval step " +
                               std::to_string(a.load_step) + " (steps: " + step_list(run) + ")");
    s = it->status.ok() ? load_checkpoint_file(*fs_, it->path, into, &got, options) : it->status;
    if (!s.ok()) return s;
    out.path = it->path;
  } else {
    for (auto it = run.checkpoints.rbegin(); it != run.checkpoints.rend(); ++it) {
      s = it->status.ok() ? load_checkpoint_file(*fs_, it->path, into, &got, options) : it->status;
      if (s.ok()) {
        out.path = it->path;
        break;
      }
      if (s.code() == Status::Code::invalid_argument) return s;
      log("checkpoint: " + s.message() + "; falling back to an older checkpoint");
      out.fell_back.push_back(s.message());
    }
    if (out.path.empty())
      return Status::corruption(run.dir +
                                ": no checkpoint verifies (newest: " + out.fell_back.front() + ")");
  }
  out.meta = std::move(got.meta);
  log("checkpoint: restored " + out.path + " (eval step " + std::to_string(out.meta.eval_step) +
      ", timestep " + std::to_string(out.meta.timestep) + ")");
  if (cfg_.save_model && run_dir_.empty()) {
    const int64_t restored = out.meta.eval_step;
    const bool newest = run.checkpoints.back().eval_step <= restored;
    if (!newest)
      log("checkpoint: " + run.dir + " has checkpoints after eval step " +
          std::to_string(restored) + "; this run continues in a new folder");
    s = start_run(newest ? uid : "");
    if (!s.ok()) return s;
  }
  if (info) *info = std::move(out);
  return Status();
}

void Checkpointer::log(const std::string& line) const {
  if (hooks_.log)
    hooks_.log(line);
  else
    std::fprintf(stderr, "edgerl: %s\n", line.c_str());
}

}  // namespace edgerl
