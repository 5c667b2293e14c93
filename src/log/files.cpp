#include "log/files.hpp"

#include "edgerl/logger.hpp"

namespace edgerl::logfiles {

bool read_file(FileSystem& fs, const std::string& path, std::string& contents) {
  const Status s = read_file_to_string(fs, path, &contents);
  if (s.code() == Status::Code::not_found) return false;
  if (!s.ok()) throw LoggerError(failure(path, "read", s));
  return true;
}

void replace_file(FileSystem& fs, const std::string& path, const std::string& contents) {
  const Status s = write_file_atomic(fs, path, reinterpret_cast<const uint8_t*>(contents.data()),
                                     contents.size());
  if (!s.ok()) throw LoggerError(path + ": cannot rewrite: " + s.message());
}

std::string failure(const std::string& path, const char* what, const Status& status) {
  // The reason is the system's words at the end of the message ("... : No space left on device").
  const std::string& m = status.message();
  const size_t colon = m.rfind(": ");
  return path + ": " + what + " failed: " + (colon == std::string::npos ? m : m.substr(colon + 2));
}

std::vector<std::string_view> split_csv_line(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

}  // namespace edgerl::logfiles
