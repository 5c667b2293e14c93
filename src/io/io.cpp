// The POSIX file system and the durable-write protocol built on the FileSystem interface.
#include "edgerl/io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace edgerl {

Status Status::from_errno(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return no_space(std::move(msg));
  if (err == ENOENT) return not_found(std::move(msg));
  return io_error(std::move(msg));
}

Status Status::prefixed(const std::string& prefix) const {
  return with_message(prefix + ": " + message_);
}

Status Status::with_message(std::string msg) const {
  if (ok()) return *this;
  return Status(code_, std::move(msg));
}

Status MemoryFile::read(uint64_t offset, size_t n, uint8_t* dst) const {
  if (offset > size_ || n > size_ - offset)
    return Status::corruption("read of " + std::to_string(n) + " bytes at offset " +
                              std::to_string(offset) + " is past the end (" +
                              std::to_string(size_) + " bytes)");
  if (n) std::memcpy(dst, data_ + offset, n);
  return Status();
}

namespace {

class PosixWritableFile : public WritableFile {
 public:
  // cut_at_sync: the file was opened to be written over; sync() cuts it at the written end.
  PosixWritableFile(std::string path, int fd, bool cut_at_sync = false)
      : path_(std::move(path)), fd_(fd), cut_at_sync_(cut_at_sync) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(const uint8_t* data, size_t n) override {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::from_errno(errno, "write " + path_);
      }
      if (w == 0) return Status::io_error("write " + path_ + ": no progress");
      data += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
    return Status();
  }

  Status sync() override {
    if (cut_at_sync_ && ::ftruncate(fd_, static_cast<off_t>(written_)) != 0)
      return Status::from_errno(errno, "truncate " + path_);
    if (::fsync(fd_) != 0) return Status::from_errno(errno, "fsync " + path_);
    return Status();
  }

  Status close() override {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Status::from_errno(errno, "close " + path_);
    return Status();
  }

 private:
  std::string path_;
  int fd_;
  bool cut_at_sync_;
  uint64_t written_ = 0;
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  uint64_t size() const override { return size_; }

  Status read(uint64_t offset, size_t n, uint8_t* dst) const override {
    if (offset > size_ || n > size_ - offset)
      return Status::corruption(path_ + ": read past the end of the file");
    while (n > 0) {
      const ssize_t r = ::pread(fd_, dst, n, static_cast<off_t>(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::from_errno(errno, "read " + path_);
      }
      if (r == 0) return Status::corruption(path_ + ": file shrank while being read");
      dst += r;
      n -= static_cast<size_t>(r);
      offset += static_cast<uint64_t>(r);
    }
    return Status();
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixFileLock : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing releases the flock

 private:
  int fd_;
};

class PosixFileSystem : public FileSystem {
 public:
  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::from_errno(errno, "create " + path);
    out->reset(new PosixWritableFile(path, fd));
    return Status();
  }

  Status overwrite_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno(errno, "open " + path);
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      const int err = errno;
      ::close(fd);
      return err ? Status::from_errno(err, path) : Status::io_error(path + ": not a regular file");
    }
    out->reset(new PosixWritableFile(path, fd, true));
    return Status();
  }

  Status new_appendable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::from_errno(errno, "open " + path);
    out->reset(new PosixWritableFile(path, fd));
    return Status();
  }

  Status open_for_read(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return Status::from_errno(errno, path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::from_errno(err, path);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::invalid_argument(path + ": " +
                                      (S_ISDIR(st.st_mode) ? "is a folder" : "not a regular file"));
    }
    out->reset(new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
    return Status();
  }

  Status rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return Status::from_errno(errno, "rename " + from + " to " + to);
    return Status();
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::from_errno(errno, "remove " + path);
    return Status();
  }

  Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno(errno, "open folder " + dir);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::from_errno(err, "fsync folder " + dir);
    return Status();
  }

  Status create_dir(const std::string& path, bool* created) override {
    *created = false;
    if (::mkdir(path.c_str(), 0755) == 0) {
      *created = true;
      return Status();
    }
    if (errno != EEXIST) return Status::from_errno(errno, "create folder " + path);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::io_error("create folder " + path + ": exists and is not a folder");
    return Status();
  }

  Status list_dir(const std::string& dir, std::vector<DirEntry>* out) override {
    out->clear();
    DIR* d = ::opendir(dir.c_str());
    if (!d) return Status::from_errno(errno, "list " + dir);
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      DirEntry entry;
      entry.name = name;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::lstat(join_path(dir, name).c_str(), &st) == 0)
          type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      entry.is_dir = type == DT_DIR;
      entry.is_file = type == DT_REG;
      out->push_back(std::move(entry));
    }
    ::closedir(d);
    std::sort(out->begin(), out->end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return Status();
  }

  Status remove_dir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return Status::from_errno(errno, "remove folder " + path);
    return Status();
  }

  Status lock_file(const std::string& path, std::unique_ptr<FileLock>* out) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::from_errno(errno, "open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char buf[32] = {};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      if (err != EWOULDBLOCK) return Status::from_errno(err, "lock " + path);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      return Status::busy("locked by process " + (pid.empty() ? "(unknown)" : pid));
    }
    const std::string pid = std::to_string(static_cast<long>(::getpid())) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      const int err = errno;
      ::close(fd);
      return Status::from_errno(err, "write " + path);
    }
    out->reset(new PosixFileLock(fd));
    return Status();
  }

  Status free_bytes(const std::string& path, uint64_t* out) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return Status::from_errno(errno, "statvfs " + path);
    *out = static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
    return Status();
  }
};

bool process_running(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

FileSystem& posix_fs() {
  static PosixFileSystem fs;
  return fs;
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a == ".") return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string dir_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string temp_path_for(const std::string& path) {
  return path + "." + std::to_string(static_cast<long>(::getpid())) + ".tmp";
}

bool parse_temp_name(const std::string& name, long* pid) {
  const std::string suffix = ".tmp";
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  const std::string stem = name.substr(0, name.size() - suffix.size());
  const size_t dot = stem.find_last_of('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == stem.size() || stem.size() - dot > 10)
    return false;
  long value = 0;
  for (size_t i = dot + 1; i < stem.size(); ++i) {
    if (stem[i] < '0' || stem[i] > '9') return false;
    value = value * 10 + (stem[i] - '0');
  }
  *pid = value;
  return true;
}

Status write_file_atomic(FileSystem& fs, const std::string& path, const uint8_t* data, size_t n,
                         bool* renamed, const std::string& reuse) {
  if (renamed) *renamed = false;
  const std::string tmp = temp_path_for(path);
  std::unique_ptr<WritableFile> file;
  Status s;
  // A file to write over: under the temporary's name first, so that a crash leaves only a
  // temporary (removed at the next start), never a half-written file under a real name.
  if (!reuse.empty()) {
    if (fs.rename_file(reuse, tmp).ok()) {
      if (!fs.overwrite_file(tmp, &file).ok()) file.reset();
    } else {
      fs.remove_file(reuse);  // best effort: it was to be destroyed anyway
    }
  }
  if (!file) s = fs.new_writable_file(tmp, &file);
  if (s.ok()) {
    s = file->append(data, n);
    if (s.ok()) s = file->sync();
    const Status closed = file->close();
    if (s.ok()) s = closed;
    file.reset();
  }
  if (s.ok()) s = fs.rename_file(tmp, path);
  if (!s.ok()) {
    // The temporary may or may not exist (creation itself can fail half-way); try regardless.
    const Status removed = fs.remove_file(tmp);
    if (!removed.ok() && removed.code() != Status::Code::not_found)
      return s.with_message(s.message() + " (and the temporary file could not be removed: " +
                            removed.message() + ")");
    return s;
  }
  if (renamed) *renamed = true;
  return fs.sync_dir(dir_name(path));
}

Status read_file_to_string(FileSystem& fs, const std::string& path, std::string* out,
                           uint64_t max_bytes) {
  std::unique_ptr<RandomAccessFile> file;
  Status s = fs.open_for_read(path, &file);
  if (!s.ok()) return s;
  const uint64_t size = file->size();
  if (size > max_bytes)
    return Status::invalid_argument(path + ": " + std::to_string(size) + " bytes, more than the " +
                                    std::to_string(max_bytes) + " this file may have");
  out->resize(static_cast<size_t>(size));
  return file->read(0, static_cast<size_t>(size), reinterpret_cast<uint8_t*>(out->data()));
}

bool path_exists(FileSystem& fs, const std::string& path) {
  std::vector<DirEntry> entries;
  if (!fs.list_dir(dir_name(path), &entries).ok()) return false;
  const std::string name = base_name(path);
  for (const DirEntry& e : entries)
    if (e.name == name) return true;
  return false;
}

Status create_dirs(FileSystem& fs, const std::string& path) {
  std::string prefix = path.size() && path[0] == '/' ? "/" : "";
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    const std::string part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    const std::string parent = prefix.empty() ? "." : prefix;
    prefix = prefix.empty() ? part : join_path(prefix, part);
    bool created = false;
    Status s = fs.create_dir(prefix, &created);
    if (!s.ok()) return s;
    if (created) {
      s = fs.sync_dir(parent);
      if (!s.ok()) return s;
    }
  }
  return Status();
}

Status remove_stale_temps(FileSystem& fs, const std::string& dir,
                          std::vector<std::string>* removed) {
  std::vector<DirEntry> entries;
  Status s = fs.list_dir(dir, &entries);
  if (!s.ok()) return s;
  const long self = static_cast<long>(::getpid());
  for (const DirEntry& e : entries) {
    long pid = 0;
    if (!e.is_file || !parse_temp_name(e.name, &pid)) continue;
    if (pid != self && process_running(pid)) continue;
    const std::string path = join_path(dir, e.name);
    s = fs.remove_file(path);
    if (!s.ok() && s.code() != Status::Code::not_found) return s;
    if (s.ok() && removed) removed->push_back(path);
  }
  return Status();
}

}  // namespace edgerl
