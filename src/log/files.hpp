// The few file operations the log sinks share (implemented in logger.cpp). Errors throw
// LoggerError with one line naming the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgerl::logfiles {

// The whole file; false if it does not exist. Anything but a regular file is an error.
bool read_file(const std::string& path, std::string& contents);
// Replaces `path` by `contents` atomically through the I/O layer (io.hpp's
// write_file_atomic). A crash leaves the old file or the new one.
void replace_file(const std::string& path, const std::string& contents);
// fsync of a folder, so that files created in it survive a power cut; false on failure.
bool sync_dir(const std::string& dir);
// The cells of one CSV line (no quoting: metric names and numbers never need it).
std::vector<std::string_view> split_csv_line(std::string_view line);
// strerror(errno) for the calling thread's errno.
std::string last_error();

}  // namespace edgerl::logfiles
