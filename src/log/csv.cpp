// The CSV sink: one file per event kind, stable columns, append-only except when resuming or
// widening the header (both rewrite the file atomically).
#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdlib>
#include <unordered_map>

#include "core/text.hpp"
#include "edgerl/logger.hpp"
#include "log/files.hpp"

namespace edgerl {
namespace {

constexpr const char* kSuffixes[] = {"_mean", "_std", "_min", "_max"};

// Metric columns sort by metric name, a described metric's four columns as mean, std, min, max.
std::pair<std::string_view, int> sort_key(std::string_view column) {
  for (int i = 0; i < 4; ++i) {
    const std::string_view suffix = kSuffixes[i];
    if (column.size() > suffix.size() &&
        column.compare(column.size() - suffix.size(), suffix.size(), suffix) == 0)
      return {column.substr(0, column.size() - suffix.size()), i + 1};
  }
  return {column, 0};
}

void sort_columns(std::vector<std::string>& columns) {
  std::sort(columns.begin(), columns.end(),
            [](const std::string& a, const std::string& b) { return sort_key(a) < sort_key(b); });
}

bool parse_int(std::string_view cell, int64_t& v) {
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  return ec == std::errc() && end == cell.data() + cell.size() && !cell.empty();
}

// Shortest text that reads back as the same double, so equal values give equal files.
void append_double(std::string& out, double v) {
  out += shortest_double(v);
}

std::string header_line(const std::vector<std::string>& columns) {
  std::string h = "timestep,eval_step";
  for (const auto& c : columns) h += "," + c;
  return h + ",wall_time\n";
}

}  // namespace

struct CsvSink::File {
  FileSystem* fs = nullptr;
  std::string path;
  std::unique_ptr<WritableFile> f;
  std::vector<std::string> columns;  // the metric columns, between eval_step and wall_time
  std::unordered_map<std::string, size_t> index;
  std::vector<std::string> cells;

  void set_columns(std::vector<std::string> c) {
    columns = std::move(c);
    index.clear();
    for (size_t i = 0; i < columns.size(); ++i) index[columns[i]] = i;
  }

  // At the end of the file, or (`fresh`) emptied first (over a header torn by a crash).
  void open(bool fresh) {
    const Status s = fresh ? fs->new_writable_file(path, &f) : fs->new_appendable_file(path, &f);
    if (!s.ok()) throw LoggerError(logfiles::failure(path, "open", s));
  }

  void append(const std::string& text) {
    const Status s = f->append(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    if (!s.ok()) throw LoggerError(logfiles::failure(path, "write", s));
  }

  // Keeps the header and the whole rows up to `max_timestep`; false if there is no header.
  bool load_and_cut(int64_t max_timestep) {
    std::string text;
    if (!logfiles::read_file(*fs, path, text)) return false;
    const std::string not_ours = path +
                                 ": not an edgerl log (its header is not timestep,eval_step,...," +
                                 "wall_time); move it out of the run folder";
    const size_t header_end = text.find('\n');
    if (header_end == std::string::npos) {
      // Torn before its first line ended, by a crash while this sink created it: its first row
      // was after the last checkpoint (the logs are synced before each), so there is nothing
      // to keep. Removed, so that only what the resumed run logs is left; text that could not
      // begin an edgerl header is someone else's file.
      const std::string_view start = "timestep,eval_step,";
      if (start.substr(0, text.size()) != std::string_view(text).substr(0, start.size()))
        throw LoggerError(not_ours);
      fs->remove_file(path);  // best effort: left behind, it is torn again at the next resume
      return false;
    }
    const auto header = logfiles::split_csv_line(std::string_view(text).substr(0, header_end));
    if (header.size() < 3 || header[0] != "timestep" || header[1] != "eval_step" ||
        header.back() != "wall_time")
      throw LoggerError(not_ours);
    set_columns({header.begin() + 2, header.end() - 1});
    size_t keep = header_end + 1;
    while (keep < text.size()) {
      const size_t end = text.find('\n', keep);
      if (end == std::string::npos) break;  // a torn last line
      const auto row = logfiles::split_csv_line(std::string_view(text).substr(keep, end - keep));
      int64_t t;
      if (row.size() != header.size() || !parse_int(row[0], t) || t > max_timestep) break;
      keep = end + 1;
    }
    if (keep != text.size()) {
      text.resize(keep);
      logfiles::replace_file(*fs, path, text);
    }
    return true;
  }

  // Rewrites the file with `wider` columns; earlier rows get empty cells in the new ones.
  void widen(std::vector<std::string> wider) {
    std::string text;
    const Status closed = f->close();
    f.reset();
    if (!closed.ok()) throw LoggerError(logfiles::failure(path, "write", closed));
    logfiles::read_file(*fs, path, text);
    std::vector<size_t> to_new(columns.size());
    for (size_t i = 0; i < columns.size(); ++i)
      to_new[i] =
          static_cast<size_t>(std::find(wider.begin(), wider.end(), columns[i]) - wider.begin());
    std::string out = header_line(wider);
    std::vector<std::string_view> moved(wider.size());
    size_t pos = text.find('\n') + 1;
    while (pos < text.size()) {
      const size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;  // never left by this sink: rows end with a newline
      const auto row = logfiles::split_csv_line(std::string_view(text).substr(pos, end - pos));
      pos = end + 1;
      std::fill(moved.begin(), moved.end(), std::string_view());
      for (size_t i = 0; i < columns.size() && i + 2 < row.size(); ++i)
        moved[to_new[i]] = row[i + 2];
      out.append(row[0]).append(",").append(row[1]);
      for (const auto& cell : moved) out.append(",").append(cell);
      out.append(",").append(row.back()).append("\n");
    }
    logfiles::replace_file(*fs, path, out);
    set_columns(std::move(wider));
    open(false);
  }
};

CsvSink::CsvSink(std::string dir, int64_t resume_from_timestep, FileSystem& fs)
    : fs_(fs), dir_(std::move(dir)) {
  for (int k = 0; k < kNumLogEvents; ++k) {
    auto file = std::make_unique<File>();
    file->fs = &fs_;
    file->path = dir_ + "/" + event_name(static_cast<LogEvent>(k)) + ".csv";
    if (resume_from_timestep < 0) {
      if (path_exists(fs_, file->path))
        throw LoggerError(file->path + ": exists, but this is a new run; resume it from its " +
                          "checkpoint or choose another uid");
    } else if (file->load_and_cut(
                   logfiles::last_kept_timestep(static_cast<LogEvent>(k), resume_from_timestep))) {
      file->open(false);
    }
    files_.push_back(std::move(file));
  }
}

CsvSink::~CsvSink() = default;

void CsvSink::write(const LogRecord& record) {
  if (!error().empty()) return;
  File& file = *files_[static_cast<size_t>(record.event)];
  try {
    std::vector<std::string> wider;
    for (const auto& s : record.scalars)
      if (!file.index.count(s.name)) wider.push_back(s.name);
    if (!file.f) {
      sort_columns(wider);
      file.set_columns(std::move(wider));
      file.open(true);
      created_file_ = true;
      file.append(header_line(file.columns));
    } else if (!wider.empty()) {
      wider.insert(wider.end(), file.columns.begin(), file.columns.end());
      sort_columns(wider);
      file.widen(std::move(wider));
    }
    file.cells.resize(file.columns.size());
    for (auto& cell : file.cells) cell.clear();
    for (const auto& s : record.scalars) append_double(file.cells[file.index[s.name]], s.value);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%" PRId64 ",%" PRId64, record.timestep, record.eval_step);
    row_.assign(buf);
    for (const auto& cell : file.cells) row_.append(",").append(cell);
    std::snprintf(buf, sizeof buf, ",%.3f\n", record.wall_time);
    row_ += buf;
    file.append(row_);
  } catch (const LoggerError& e) {
    fail(e.what());
  }
}

void CsvSink::sync() {
  if (!error().empty()) return;
  for (auto& file : files_) {
    if (!file->f) continue;
    const Status s = file->f->sync();
    if (!s.ok()) return fail(logfiles::failure(file->path, "sync", s));
  }
  if (created_file_) {
    const Status s = fs_.sync_dir(dir_);
    if (!s.ok()) return fail(logfiles::failure(dir_, "sync", s));
  }
  created_file_ = false;
}

}  // namespace edgerl
