// log/files: the few file operations the log sinks share, all through the FileSystem (io.hpp),
// so that a test can make any of them fail. Errors throw LoggerError with one line naming the
// file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edgerl/io.hpp"
#include "edgerl/logger.hpp"

namespace edgerl::logfiles {

// The last timestep of `event` that a run resumed at `resume_from_timestep` keeps from its
// earlier files, and below which Logger::log writes nothing: the resume point itself, but for
// the absolute metric, which a run resumed at its very end writes again (the killed process
// may or may not have logged it). -1 and below when not resuming.
inline int64_t last_kept_timestep(LogEvent event, int64_t resume_from_timestep) {
  return event == LogEvent::ABSOLUTE ? resume_from_timestep - 1 : resume_from_timestep;
}

// The whole file; false if it does not exist. Anything but a regular file is an error.
bool read_file(FileSystem& fs, const std::string& path, std::string& contents);
// Replaces `path` by `contents` atomically (write_file_atomic): a crash leaves the old file or
// the new one.
void replace_file(FileSystem& fs, const std::string& path, const std::string& contents);
// "<path>: <what> failed: <reason>" for a failed operation on a log file.
std::string failure(const std::string& path, const char* what, const Status& status);
// The cells of one CSV line (no quoting: metric names and numbers never need it).
std::vector<std::string_view> split_csv_line(std::string_view line);

}  // namespace edgerl::logfiles
