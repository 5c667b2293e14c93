// io: the one door to the file system for everything edgerl writes: checkpoints, logs and
// summaries. Durable writes go
// through write_file_atomic (temporary file in the same folder, write, fsync, rename, fsync the
// folder), so a crash leaves either the old file or the complete new one, never a torn one.
//
// FileSystem is an interface: posix_fs() is the real one, and tests substitute an
// implementation that fails on purpose (disk full, I/O error, short write, a crash between any
// two steps). Errors travel as Status values that name what failed; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgerl {

// The outcome of an operation: ok, or a kind and a one-line message (which names the file).
class Status {
 public:
  enum class Code : uint8_t {
    ok,
    not_found,         // no such file, run or step
    corruption,        // a file exists but its bytes are wrong (truncated, bad CRC, bad field)
    invalid_argument,  // the caller asked for something impossible (bad name, shape mismatch)
    unsupported,       // a file from a newer edgerl (newer major format version)
    io_error,          // the operating system refused (EIO, permissions, ...)
    no_space,          // ENOSPC/EDQUOT, or less free space than min_free_bytes
    busy,              // held by another process (a run folder's lock)
  };

  Status() = default;
  static Status not_found(std::string msg) { return {Code::not_found, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::corruption, std::move(msg)}; }
  static Status invalid_argument(std::string msg) {
    return {Code::invalid_argument, std::move(msg)};
  }
  static Status unsupported(std::string msg) { return {Code::unsupported, std::move(msg)}; }
  static Status io_error(std::string msg) { return {Code::io_error, std::move(msg)}; }
  static Status no_space(std::string msg) { return {Code::no_space, std::move(msg)}; }
  static Status busy(std::string msg) { return {Code::busy, std::move(msg)}; }
  // The Status for a failed system call: ENOSPC/EDQUOT -> no_space, ENOENT -> not_found, else
  // io_error; the message is "<what>: <strerror>".
  static Status from_errno(int err, const std::string& what);

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The same status with "<prefix>: " in front of the message (ok stays ok).
  Status prefixed(const std::string& prefix) const;
  // The same kind with another message (ok stays ok).
  Status with_message(std::string msg) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::ok;
  std::string message_;
};

// A file being written. append() writes everything or fails (short writes are retried).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status append(const uint8_t* data, size_t n) = 0;
  virtual Status sync() = 0;  // data and size on stable storage (fsync)
  virtual Status close() = 0;
};

// A file opened for reading at arbitrary offsets.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset into dst; a range past the end is an error.
  virtual Status read(uint64_t offset, size_t n, uint8_t* dst) const = 0;
};

// Bytes in memory seen as a file (the fuzzer and the format tests read through this).
class MemoryFile : public RandomAccessFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, size_t n, uint8_t* dst) const override;

 private:
  const uint8_t* data_;
  size_t size_;
};

// An exclusive lock on a file, held until the object is destroyed (or the process dies: the
// kernel releases it, so a killed process never leaves a stale lock).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;   // a directory (symbolic links are never followed)
  bool is_file = false;  // a regular file
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Creates or truncates `path` for writing.
  virtual Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;
  // Opens the existing regular file `path` to be written again from its start, keeping its
  // blocks and cached pages (not truncated first); sync() cuts it where the writes ended. The
  // checkpointer rewrites a rotated-out checkpoint so (three to five times less kernel work
  // for a large file than a new one). not_found when it does not exist.
  virtual Status overwrite_file(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;
  // Opens `path` for writing at its end, creating it if missing (LevelDB's NewAppendableFile):
  // the files that grow a record at a time, such as the logs.
  virtual Status new_appendable_file(const std::string& path,
                                     std::unique_ptr<WritableFile>* out) = 0;
  // Opens a regular file for reading (anything else, e.g. a FIFO or a directory, is refused).
  virtual Status open_for_read(const std::string& path, std::unique_ptr<RandomAccessFile>* out) = 0;
  // Atomically replaces `to` (if it exists) with `from`.
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Makes the folder's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // Creates one folder; *created is false when it already existed as a folder.
  virtual Status create_dir(const std::string& path, bool* created) = 0;
  // Entries of a folder, sorted by name, without "." and "..".
  virtual Status list_dir(const std::string& dir, std::vector<DirEntry>* out) = 0;
  // Bytes available to this (unprivileged) process on the file system holding `path`.
  virtual Status free_bytes(const std::string& path, uint64_t* out) = 0;
  // Removes an empty folder.
  virtual Status remove_dir(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing) without waiting and writes this
  // process's id into it. busy ("locked by process N") when another process holds it.
  virtual Status lock_file(const std::string& path, std::unique_ptr<FileLock>* out) = 0;
};

// The real file system (POSIX calls). One instance for the process.
FileSystem& posix_fs();

// Writes `path` so that a crash at any moment leaves either its old content or all of the
// new: write <path>.<pid>.tmp, fsync it, rename it over `path`, fsync the folder. On a failure
// before the rename the temporary file is removed and `path` is untouched. *renamed (if given)
// tells whether the rename happened: a failure after it (the folder's fsync) leaves the
// complete new file in place, but whether it survives a power loss is then unknown.
// `reuse`, when not empty, names a file this process may destroy (a rotated-out checkpoint):
// it is renamed to the temporary and written over instead of a new file (if that fails, a new
// one is made). It is gone afterwards either way.
Status write_file_atomic(FileSystem& fs, const std::string& path, const uint8_t* data, size_t n,
                         bool* renamed = nullptr, const std::string& reuse = "");

// The whole of a regular file into *out. not_found when it does not exist; a file larger than
// max_bytes is refused (invalid_argument) before anything is read.
Status read_file_to_string(FileSystem& fs, const std::string& path, std::string* out,
                           uint64_t max_bytes = uint64_t{1} << 32);

// Whether something (a file or a folder) exists at `path`.
bool path_exists(FileSystem& fs, const std::string& path);

// Creates `path` and any missing parents (like mkdir -p), fsyncing each parent that gained a
// folder so the new folders survive a power loss.
Status create_dirs(FileSystem& fs, const std::string& path);

// The temporary name write_file_atomic uses for `path` in this process.
std::string temp_path_for(const std::string& path);
// Whether a file name is one of write_file_atomic's temporaries; *pid gets its writer's id.
bool parse_temp_name(const std::string& name, long* pid);
// Removes the temporaries in `dir` left behind by a process that is no longer running (or by
// this process: it never has a write in flight when it calls this). Returns the removed paths.
Status remove_stale_temps(FileSystem& fs, const std::string& dir,
                          std::vector<std::string>* removed);

// Path helpers: "a" + "b" -> "a/b"; the folder part of "a/b" -> "a" ("." for a bare name).
std::string join_path(const std::string& a, const std::string& b);
std::string dir_name(const std::string& path);
std::string base_name(const std::string& path);

}  // namespace edgerl
