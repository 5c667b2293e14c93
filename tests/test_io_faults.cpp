// The durable-write protocol under failure: whatever step fails (or wherever the process dies,
// followed by a power loss), the old file or the complete new one is there, never a torn one,
// and no temporary file survives the next start-up.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "ckpt_test_util.hpp"
#include "edgerl/io.hpp"
#include "fault_fs.hpp"

using namespace edgerl;
using namespace edgerl::test;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Status write_text_atomic(FileSystem& fs, const std::string& path, const std::string& text,
                         bool* renamed = nullptr, const std::string& reuse = "") {
  return write_file_atomic(fs, path, reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                           renamed, reuse);
}

std::vector<std::string> names_in(const std::string& dir, FileSystem& fs = posix_fs()) {
  std::vector<DirEntry> entries;
  REQUIRE(fs.list_dir(dir, &entries).ok());
  std::vector<std::string> names;
  for (const DirEntry& e : entries) names.push_back(e.name);
  return names;
}

// A process id that certainly belongs to no running process: a child that has been reaped.
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

}  // namespace

TEST_CASE(
    "ckpt io: write_file_atomic writes and fsyncs a temporary, renames it, fsyncs the folder") {
  TempDir dir;
  FaultFs fs;
  const std::string path = dir / "f.bin";
  const std::string tmp = temp_path_for(path);
  REQUIRE(write_text_atomic(fs, path, "hello").ok());
  CHECK(read_text(path) == "hello");
  const std::vector<std::string> want = {
      "create " + tmp, "write " + tmp + " 5",        "sync " + tmp,
      "close " + tmp,  "rename " + tmp + " " + path, "sync_dir " + dir.path()};
  CHECK(fs.trace == want);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"f.bin"});
}

TEST_CASE("ckpt io: a failure at any step keeps the old file and leaves no temporary") {
  for (int err : {EIO, ENOSPC}) {
    for (int k = 1;; ++k) {
      TempDir dir;
      const std::string path = dir / "f.bin";
      write_text(path, "old");
      FaultFs fs;
      fs.fail_at(k, err);
      bool renamed = false;
      const Status s = write_text_atomic(fs, path, "new content", &renamed);
      if (!fs.fault_fired()) {
        CHECK(s.ok());
        CHECK(k == 7);  // create, write, sync, close, rename, sync_dir: six steps
        break;
      }
      CAPTURE(k);
      CAPTURE(err);
      REQUIRE(!s.ok());
      CHECK(s.code() == (err == ENOSPC ? Status::Code::no_space : Status::Code::io_error));
      CHECK(s.message().find("(injected)") != std::string::npos);
      // Only the folder's fsync comes after the rename; then the new file is complete.
      CHECK(renamed == (k == 6));
      CHECK(read_text(path) == (renamed ? "new content" : "old"));
      CHECK(names_in(dir.path(), fs) == std::vector<std::string>{"f.bin"});
    }
  }
}

TEST_CASE("ckpt io: a file to reuse is written over as the temporary and cut to the new length") {
  TempDir dir;
  FaultFs fs;
  const std::string path = dir / "f.bin", spare = dir / "spare.bin";
  const std::string tmp = temp_path_for(path);
  write_text(path, "old");
  write_text(spare, std::string(100000, 'x'));  // longer than the new content
  REQUIRE(write_text_atomic(fs, path, "new content", nullptr, spare).ok());
  CHECK(read_text(path) == "new content");
  const std::vector<std::string> want = {"rename " + spare + " " + tmp,
                                         "overwrite " + tmp,
                                         "write " + tmp + " 11",
                                         "sync " + tmp,
                                         "close " + tmp,
                                         "rename " + tmp + " " + path,
                                         "sync_dir " + dir.path()};
  CHECK(fs.trace == want);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"f.bin"});
  // A file to reuse that is gone already: a new temporary, as without one.
  REQUIRE(write_text_atomic(fs, path, "newer", nullptr, dir / "missing").ok());
  CHECK(read_text(path) == "newer");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"f.bin"});
}

TEST_CASE(
    "ckpt io: with a file to reuse, a failure at any step keeps the old file and leaves no "
    "temporary") {
  for (int k = 1;; ++k) {
    TempDir dir;
    const std::string path = dir / "f.bin", spare = dir / "spare.bin";
    write_text(path, "old");
    write_text(spare, std::string(1000, 'x'));
    FaultFs fs;
    fs.fail_at(k, EIO);
    bool renamed = false;
    const Status s = write_text_atomic(fs, path, "new content", &renamed, spare);
    CAPTURE(k);
    if (!fs.fault_fired()) {
      CHECK(s.ok());
      CHECK(k == 8);  // rename, overwrite, write, sync, close, rename, sync_dir
      break;
    }
    // A failed rename or overwrite of the spare falls back to a new temporary.
    if (k <= 2) CHECK(s.ok());
    CHECK(read_text(path) == (s.ok() || renamed ? "new content" : "old"));
    CHECK(names_in(dir.path(), fs) == std::vector<std::string>{"f.bin"});
  }
}

TEST_CASE("ckpt io: a short write on a full disk keeps the old file and leaves no temporary") {
  TempDir dir;
  const std::string path = dir / "f.bin";
  write_text(path, "old");
  FaultFs fs;
  fs.fail_at(1, ENOSPC, FaultFs::Op::write, /*short_write=*/true);
  const Status s = write_text_atomic(fs, path, std::string(1000, 'x'));
  CHECK(s.code() == Status::Code::no_space);
  CHECK(read_text(path) == "old");
  CHECK(names_in(dir.path(), fs) == std::vector<std::string>{"f.bin"});
}

TEST_CASE("ckpt io: a crash at any step, then a power loss, leaves the old or the new file whole") {
  for (int k = 1;; ++k) {
    TempDir dir;
    const std::string path = dir / "f.bin";
    write_text(path, "old");
    FaultFs fs;
    fs.crash_at(k);
    const Status s = write_text_atomic(fs, path, "new content");
    const bool crashed = fs.crashed();
    fs.power_loss();
    CAPTURE(k);
    const std::string now = read_text(path);
    CHECK((now == "old" || now == "new content"));
    // Once write_file_atomic has returned ok, the new content survives the power loss.
    if (s.ok()) CHECK(now == "new content");
    std::vector<std::string> removed;
    REQUIRE(remove_stale_temps(posix_fs(), dir.path(), &removed).ok());
    CHECK(names_in(dir.path()) == std::vector<std::string>{"f.bin"});
    if (!crashed) break;
  }
}

TEST_CASE("ckpt io: power loss after a successful write keeps it; without fsync it would not") {
  TempDir dir;
  const std::string path = dir / "f.bin";
  FaultFs fs;
  REQUIRE(write_text_atomic(fs, path, "durable").ok());
  fs.power_loss();
  CHECK(read_text(path) == "durable");

  // The simulation is not a no-op: data written without the protocol is lost.
  std::unique_ptr<WritableFile> f;
  REQUIRE(fs.new_writable_file(dir / "g.bin", &f).ok());
  REQUIRE(f->append(reinterpret_cast<const uint8_t*>("lost"), 4).ok());
  REQUIRE(f->close().ok());
  REQUIRE(fs.rename_file(dir / "g.bin", dir / "h.bin").ok());
  fs.power_loss();
  CHECK(names_in(dir.path()) == std::vector<std::string>{"f.bin"});
}

TEST_CASE("ckpt io: create_dirs makes nested folders durable and accepts existing ones") {
  TempDir dir;
  FaultFs fs;
  const std::string deep = dir / "a/b/c";
  REQUIRE(create_dirs(fs, deep).ok());
  struct stat st;
  CHECK((::stat(deep.c_str(), &st) == 0 && S_ISDIR(st.st_mode)));
  const std::vector<std::string> want = {"sync_dir " + dir.path(), "sync_dir " + (dir / "a"),
                                         "sync_dir " + (dir / "a/b")};
  std::vector<std::string> syncs;
  for (const std::string& t : fs.trace)
    if (t.rfind("sync_dir", 0) == 0) syncs.push_back(t);
  CHECK(syncs == want);
  CHECK(create_dirs(fs, deep).ok());
  write_text(dir / "file", "x");
  const Status s = create_dirs(fs, dir / "file/sub");
  CHECK(s.code() == Status::Code::io_error);
  CHECK(s.message().find("exists and is not a folder") != std::string::npos);
}

TEST_CASE("ckpt io: temporary names carry the writer's process id") {
  long pid = 0;
  CHECK(parse_temp_name(base_name(temp_path_for("/x/step_000001.ckpt")), &pid));
  CHECK(pid == static_cast<long>(::getpid()));
  CHECK(parse_temp_name("a.123.tmp", &pid));
  CHECK(pid == 123);
  for (const char* not_temp :
       {"a.tmp", ".123.tmp", "a.12x.tmp", "a.123.tmpx", "step_000001.ckpt", "a.12345678901.tmp"})
    CHECK_FALSE(parse_temp_name(not_temp, &pid));
}

TEST_CASE("ckpt io: stale temporaries are removed, a live writer's are kept") {
  TempDir dir;
  const std::string dead = dir / ("a.ckpt." + std::to_string(dead_pid()) + ".tmp");
  const std::string mine = temp_path_for(dir / "b.ckpt");
  const std::string live = dir / "c.ckpt.1.tmp";  // pid 1 is always running
  for (const std::string& p : {dead, mine, live}) write_text(p, "partial");
  write_text(dir / "d.ckpt", "keep");
  std::vector<std::string> removed;
  REQUIRE(remove_stale_temps(posix_fs(), dir.path(), &removed).ok());
  CHECK(removed.size() == 2);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"c.ckpt.1.tmp", "d.ckpt"});
}

TEST_CASE("ckpt io: reading refuses folders and FIFOs without hanging") {
  TempDir dir;
  std::unique_ptr<RandomAccessFile> f;
  CHECK(posix_fs().open_for_read(dir.path(), &f).message() == dir.path() + ": is a folder");
  const std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(posix_fs().open_for_read(fifo, &f).message() == fifo + ": not a regular file");
  const Status missing = posix_fs().open_for_read(dir / "nope", &f);
  CHECK(missing.code() == Status::Code::not_found);
  CHECK(missing.message() == (dir / "nope") + ": No such file or directory");

  write_text(dir / "f", "abc");
  REQUIRE(posix_fs().open_for_read(dir / "f", &f).ok());
  uint8_t buf[4];
  CHECK(f->size() == 3);
  CHECK(f->read(1, 2, buf).ok());
  CHECK(buf[0] == 'b');
  CHECK(!f->read(2, 2, buf).ok());
  MemoryFile m(buf, 2);
  CHECK(!m.read(1, 2, buf).ok());
  CHECK(m.read(2, 0, buf).ok());
}

TEST_CASE("ckpt io: free space, listing and error kinds") {
  TempDir dir;
  uint64_t free = 0;
  REQUIRE(posix_fs().free_bytes(dir.path(), &free).ok());
  CHECK(free > 0);
  ::mkdir((dir / "sub").c_str(), 0755);
  write_text(dir / "file", "x");
  REQUIRE(::symlink("file", (dir / "link").c_str()) == 0);
  std::vector<DirEntry> entries;
  REQUIRE(posix_fs().list_dir(dir.path(), &entries).ok());
  REQUIRE(entries.size() == 3);
  CHECK((entries[0].name == "file" && entries[0].is_file && !entries[0].is_dir));
  CHECK((entries[1].name == "link" && !entries[1].is_file && !entries[1].is_dir));
  CHECK((entries[2].name == "sub" && entries[2].is_dir));
  CHECK(Status::from_errno(ENOSPC, "w").code() == Status::Code::no_space);
  CHECK(Status::from_errno(EDQUOT, "w").code() == Status::Code::no_space);
  CHECK(Status::from_errno(EIO, "w").message() == "w: Input/output error");
  CHECK(Status::io_error("x").prefixed("f").message() == "f: x");
  CHECK(Status().prefixed("f").ok());
  CHECK(dir_name("a/b/c") == "a/b");
  CHECK(dir_name("c") == ".");
  CHECK(dir_name("/c") == "/");
  CHECK(join_path("a", "b") == "a/b");
  CHECK(join_path("a/", "b") == "a/b");
  CHECK(join_path("", "b") == "b");
}
