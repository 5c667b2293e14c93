// FaultFs: a FileSystem over the real one that fails on purpose, for the crash and disk-error
// tests. It can
//   - fail the n-th operation (of any kind, or of one kind) with an errno, a write optionally
//     "short" (half the bytes reach the file before the error);
//   - crash: from the n-th mutating operation on, every operation fails without effect, as if
//     the process had died there;
//   - lose power: file data not fsynced is dropped, and creations, renames and removals whose
//     folder was not fsynced afterwards are undone (removed and replaced files come back, kept
//     alive through hard links until their folder is synced).
// It also records every operation, so tests can check the order of the durable-write protocol.
// It is safe to share between threads (the training loop saves on a thread of its own).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edgerl/io.hpp"

namespace edgerl::test {

class FaultFs : public FileSystem {
 public:
  enum class Op { create, write, sync, close, rename, remove, sync_dir, mkdir, list, free, open };

  explicit FaultFs(FileSystem& base = posix_fs()) : base_(base) {}

  // Fails the n-th operation from now (1-based; of kind `op`, or of any kind when nullopt; and
  // only among operations whose trace line contains `path_part`, when it is not empty).
  void fail_at(int n, int err, std::optional<Op> op = std::nullopt, bool short_write = false,
               std::string path_part = "") {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    fail_path_ = std::move(path_part);
    fail_n_ = n;
    fail_err_ = err;
    fail_op_ = op;
    short_write_ = short_write;
    counted_ = 0;
    fired_ = false;
  }
  // The process dies at the n-th mutating operation from now.
  void crash_at(int n) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    crash_n_ = n;
    mutations_ = 0;
  }
  bool crashed() const { return crashed_; }
  bool fault_fired() const { return fired_; }
  void clear_faults() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    fail_n_ = 0;
    crash_n_ = 0;
    crashed_ = false;
  }
  // Free space reported by free_bytes (nullopt: the real value).
  std::optional<uint64_t> free_space;
  // Makes fsync a no-op, for tests of logic rather than durability (much faster).
  bool skip_syncs = false;
  // "create a/b" "write a/b 10" "sync a/b" "close a/b" "rename a/b a/c" "sync_dir a" ...
  std::vector<std::string> trace;
  int operations() const { return static_cast<int>(trace.size()); }

  void power_loss() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    for (auto& [path, st] : files_)
      if (st.synced < st.size) ::truncate(path.c_str(), static_cast<off_t>(st.synced));
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
      switch (it->kind) {
        case Pending::create:
          ::unlink(it->path.c_str());
          break;
        case Pending::rename:
          ::rename(it->to.c_str(), it->path.c_str());
          if (!it->backup.empty()) ::rename(it->backup.c_str(), it->to.c_str());
          break;
        case Pending::remove:
          ::rename(it->backup.c_str(), it->path.c_str());
          break;
      }
    }
    pending_.clear();
    files_.clear();
  }

  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    return open_written("create ", path, out, true);
  }

  // Its old bytes are not this run's: a power loss may leave any of them (a temporary's content
  // does not matter; only a rename gives it a real name, after its fsync).
  Status overwrite_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    return open_written("overwrite ", path, out, false);
  }

  Status new_appendable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::create, "append " + path, true);
    if (!s.ok()) return s;
    const bool existed = ::access(path.c_str(), F_OK) == 0;
    std::unique_ptr<WritableFile> f;
    s = base_.new_appendable_file(path, &f);
    if (!s.ok()) return s;
    if (!existed) {
      files_[path] = {};
      pending_.push_back({Pending::create, path, "", ""});
    } else if (!files_.count(path)) {
      struct stat st {};
      ::stat(path.c_str(), &st);
      files_[path] = {static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_size)};
    }
    out->reset(new File(this, path, std::move(f)));
    return Status();
  }

  Status open_for_read(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::open, "open " + path, false);
    return s.ok() ? base_.open_for_read(path, out) : s;
  }

  Status rename_file(const std::string& from, const std::string& to) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::rename, "rename " + from + " " + to, true);
    if (!s.ok()) return s;
    const std::string backup = keep_alive(to);
    s = base_.rename_file(from, to);
    if (!s.ok()) return s;
    pending_.push_back({Pending::rename, from, to, backup});
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
      files_.erase(from);
    }
    return Status();
  }

  Status remove_file(const std::string& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::remove, "remove " + path, true);
    if (!s.ok()) return s;
    const std::string backup = keep_alive(path);
    s = base_.remove_file(path);
    if (!s.ok()) return s;
    if (!backup.empty()) pending_.push_back({Pending::remove, path, "", backup});
    files_.erase(path);
    return Status();
  }

  Status sync_dir(const std::string& dir) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::sync_dir, "sync_dir " + dir, true);
    if (!s.ok()) return s;
    if (!skip_syncs) s = base_.sync_dir(dir);
    if (!s.ok()) return s;
    std::vector<Pending> still;
    for (const Pending& p : pending_) {
      const std::string& where = p.kind == Pending::rename ? p.to : p.path;
      if (dir_name(where) != dir) {
        still.push_back(p);
      } else if (!p.backup.empty()) {
        ::unlink(p.backup.c_str());
      }
    }
    pending_ = std::move(still);
    return Status();
  }

  Status create_dir(const std::string& path, bool* created) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::mkdir, "mkdir " + path, true);
    return s.ok() ? base_.create_dir(path, created) : s;
  }

  Status list_dir(const std::string& dir, std::vector<DirEntry>* out) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::list, "list " + dir, false);
    if (!s.ok()) return s;
    s = base_.list_dir(dir, out);
    // Hide the hard links that keep replaced and removed files alive.
    std::vector<DirEntry> visible;
    for (DirEntry& e : *out)
      if (e.name.find(".faultfs-") == std::string::npos) visible.push_back(std::move(e));
    *out = std::move(visible);
    return s;
  }

  Status remove_dir(const std::string& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::remove, "rmdir " + path, true);
    return s.ok() ? base_.remove_dir(path) : s;
  }

  Status lock_file(const std::string& path, std::unique_ptr<FileLock>* out) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::create, "lock " + path, false);
    return s.ok() ? base_.lock_file(path, out) : s;
  }

  Status free_bytes(const std::string& path, uint64_t* out) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::free, "free " + path, false);
    if (!s.ok()) return s;
    if (free_space) {
      *out = *free_space;
      return Status();
    }
    return base_.free_bytes(path, out);
  }

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  struct Pending {
    enum Kind { create, rename, remove } kind;
    std::string path;    // created, renamed from, or removed
    std::string to;      // renamed to
    std::string backup;  // hard link to the replaced or removed file ("" if none)
  };

  class File : public WritableFile {
   public:
    File(FaultFs* fs, std::string path, std::unique_ptr<WritableFile> base)
        : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}
    Status append(const uint8_t* data, size_t n) override {
      std::lock_guard<std::recursive_mutex> lock(fs_->mu_);
      bool short_write = false;
      Status s =
          fs_->before(Op::write, "write " + path_ + " " + std::to_string(n), true, &short_write);
      if (!s.ok() && short_write && base_->append(data, n / 2).ok())
        fs_->files_[path_].size += n / 2;
      if (!s.ok()) return s;
      s = base_->append(data, n);
      if (s.ok()) fs_->files_[path_].size += n;
      return s;
    }
    Status sync() override {
      std::lock_guard<std::recursive_mutex> lock(fs_->mu_);
      Status s = fs_->before(Op::sync, "sync " + path_, true);
      if (!s.ok()) return s;
      if (!fs_->skip_syncs) s = base_->sync();
      if (s.ok()) fs_->files_[path_].synced = fs_->files_[path_].size;
      return s;
    }
    Status close() override {
      std::lock_guard<std::recursive_mutex> lock(fs_->mu_);
      Status s = fs_->before(Op::close, "close " + path_, true);
      // A file is closed even when close() reports an error.
      const Status c = base_->close();
      return s.ok() ? c : s;
    }

   private:
    FaultFs* fs_;
    std::string path_;
    std::unique_ptr<WritableFile> base_;
  };

  // Records the operation and decides whether it fails.
  Status before(Op op, const std::string& what, bool mutating, bool* short_write = nullptr) {
    trace.push_back(what);
    if (crashed_ || (mutating && crash_n_ > 0 && ++mutations_ >= crash_n_)) {
      crashed_ = true;
      return Status::io_error(what + ": simulated crash");
    }
    if (fail_n_ > 0 && (!fail_op_ || *fail_op_ == op) &&
        (fail_path_.empty() || what.find(fail_path_) != std::string::npos) &&
        ++counted_ == fail_n_) {
      fired_ = true;
      if (short_write) *short_write = short_write_;
      return Status::from_errno(fail_err_, what + " (injected)");
    }
    return Status();
  }

  // A file written from its start: a new one (`creates`, undone by a power loss before its
  // folder's fsync) or an existing one written over.
  Status open_written(const char* verb, const std::string& path, std::unique_ptr<WritableFile>* out,
                      bool creates) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    Status s = before(Op::create, verb + path, true);
    if (!s.ok()) return s;
    std::unique_ptr<WritableFile> f;
    s = creates ? base_.new_writable_file(path, &f) : base_.overwrite_file(path, &f);
    if (!s.ok()) return s;
    files_[path] = {};
    if (creates) pending_.push_back({Pending::create, path, "", ""});
    out->reset(new File(this, path, std::move(f)));
    return Status();
  }

  // A hard link that keeps `path`'s current file alive until its folder is synced.
  std::string keep_alive(const std::string& path) {
    const std::string backup = path + ".faultfs-" + std::to_string(++backups_);
    return ::link(path.c_str(), backup.c_str()) == 0 ? backup : "";
  }

  FileSystem& base_;
  std::recursive_mutex mu_;
  std::string fail_path_;
  std::map<std::string, FileState> files_;
  std::vector<Pending> pending_;
  int fail_n_ = 0, fail_err_ = 0, counted_ = 0;
  std::optional<Op> fail_op_;
  bool short_write_ = false, fired_ = false;
  int crash_n_ = 0, mutations_ = 0;
  bool crashed_ = false;
  int backups_ = 0;
};

}  // namespace edgerl::test
