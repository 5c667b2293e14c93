// The TensorBoard sink: one event file per process run, in the run folder, written through the
// FileSystem. On resume the earlier files are cut back to the resume point (an ABSOLUTE
// record at the resume point itself included, as in the CSV sink).
#include <unistd.h>

#include <algorithm>

#include "edgerl/logger.hpp"
#include "log/files.hpp"
#include "log/tfevents.hpp"

namespace edgerl {
namespace {

constexpr const char* kEventFilePrefix = "events.out.tfevents.";

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf);
  for (char& c : host)
    if (c == '/' || static_cast<unsigned char>(c) <= ' ') c = '_';
  return host;
}

// The kind of a record's row, from its first tag ("<kind>/<column>"; a record holds one row).
LogEvent event_of(const tfevents::Event& e) {
  for (int k = 0; k < kNumLogEvents; ++k) {
    const std::string prefix = std::string(event_name(static_cast<LogEvent>(k))) + "/";
    if (!e.values.empty() && e.values[0].tag.rfind(prefix, 0) == 0) return static_cast<LogEvent>(k);
  }
  return LogEvent::MISC;
}

// Cuts an earlier run's event file after its last record that a resume keeps, as the CSV sink
// cuts its files (logfiles::last_kept_timestep). Rewritten atomically, so a crash leaves the
// whole old file or the cut one.
void truncate_event_file(FileSystem& fs, const std::string& path, int64_t resume_from_timestep) {
  std::string bytes;
  if (!logfiles::read_file(fs, path, bytes)) return;
  const size_t keep = tfevents::prefix_while(bytes, [&](const tfevents::Event& e) {
    return e.step <= logfiles::last_kept_timestep(event_of(e), resume_from_timestep);
  });
  if (keep == bytes.size()) return;
  bytes.resize(keep);
  logfiles::replace_file(fs, path, bytes);
}

}  // namespace

TensorBoardSink::TensorBoardSink(std::string dir, int64_t resume_from_timestep, FileSystem& fs)
    : fs_(fs), dir_(std::move(dir)) {
  if (resume_from_timestep < 0) return;
  std::vector<DirEntry> entries;
  const Status s = fs_.list_dir(dir_, &entries);
  if (!s.ok()) throw LoggerError(dir_ + ": cannot list the run folder: " + s.message());
  for (const DirEntry& e : entries)
    if (e.is_file && e.name.rfind(kEventFilePrefix, 0) == 0)
      truncate_event_file(fs_, join_path(dir_, e.name), resume_from_timestep);
}

TensorBoardSink::~TensorBoardSink() = default;

void TensorBoardSink::write(const LogRecord& record) {
  if (!error().empty()) return;
  if (!file_) {
    // The name carries the creation time, so a resumed run's file sorts after the earlier ones.
    const double now = record.wall_time;
    const std::string stem = dir_ + "/" + kEventFilePrefix +
                             std::to_string(static_cast<int64_t>(now)) + "." + host_name();
    path_ = stem;
    for (int n = 1; n < 1000 && path_exists(fs_, path_); ++n)
      path_ = stem + "." + std::to_string(n);
    const Status s = fs_.new_writable_file(path_, &file_);
    if (!s.ok()) {
      file_.reset();
      return fail(logfiles::failure(path_, "create", s));
    }
    created_file_ = true;
    buffer_.clear();
    tfevents::append_record(buffer_, tfevents::encode_file_version_event(now));
  }
  std::vector<tfevents::TagValue> values;
  values.reserve(record.scalars.size());
  const std::string prefix = std::string(event_name(record.event)) + "/";
  for (const auto& s : record.scalars)
    values.push_back({prefix + s.name, static_cast<float>(s.value)});
  // By tag: a row's metrics come in the order this process first met them (a process that
  // began in a learner's warm-up met its learning rates before its losses), and the same run
  // must give the same records however often it was stopped and resumed.
  std::sort(values.begin(), values.end(),
            [](const tfevents::TagValue& a, const tfevents::TagValue& b) { return a.tag < b.tag; });
  tfevents::append_record(buffer_,
                          tfevents::encode_scalar_event(record.wall_time, record.timestep, values));
  const Status s = file_->append(reinterpret_cast<const uint8_t*>(buffer_.data()), buffer_.size());
  buffer_.clear();
  if (!s.ok()) fail(logfiles::failure(path_, "write", s));
}

void TensorBoardSink::sync() {
  if (!file_ || !error().empty()) return;
  Status s = file_->sync();
  if (!s.ok()) return fail(logfiles::failure(path_, "sync", s));
  if (created_file_) {
    s = fs_.sync_dir(dir_);
    if (!s.ok()) return fail(logfiles::failure(dir_, "sync", s));
  }
  created_file_ = false;
}

}  // namespace edgerl
