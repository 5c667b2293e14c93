#include "cli/args.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "edgerl/checkpoint.hpp"
#include "edgerl/logger.hpp"

namespace edgerl::cli {

ArgParser& ArgParser::flag(const std::string& name, bool* out, const std::string& alias) {
  Spec s;
  s.name = name;
  s.alias = alias;
  s.flag = out;
  specs_.push_back(s);
  return *this;
}

ArgParser& ArgParser::option(const std::string& name, std::string* out, const std::string& alias,
                             bool* given) {
  Spec s;
  s.name = name;
  s.alias = alias;
  s.value = out;
  s.given = given;
  specs_.push_back(s);
  return *this;
}

ArgParser& ArgParser::optional_value(const std::string& name, std::string* out,
                                     const std::string& fallback, bool* given) {
  Spec s;
  s.name = name;
  s.value = out;
  s.given = given;
  s.value_optional = true;
  s.fallback = fallback;
  specs_.push_back(s);
  return *this;
}

ArgParser& ArgParser::config(std::string* path, std::vector<std::string>* overrides) {
  config_path_ = path;
  overrides_ = overrides;
  return option("--config", path, "-c");
}

ArgParser& ArgParser::operands(std::vector<std::string>* out) {
  operands_ = out;
  return *this;
}

ArgParser::Spec* ArgParser::find(const std::string& name) {
  for (Spec& s : specs_)
    if (name == s.name || (!s.alias.empty() && name == s.alias)) return &s;
  return nullptr;
}

bool ArgParser::is_option(const std::string& arg) {
  if (arg == "-h" || arg == "--help") return true;
  const size_t eq = arg.find('=');
  return find(arg.rfind("--", 0) == 0 && eq != std::string::npos ? arg.substr(0, eq) : arg) !=
         nullptr;
}

bool ArgParser::parse(const Args& args) {
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.empty() || a[0] != '-' || a == "-") {
      if (!options_done && overrides_ && a.find('=') != std::string::npos) {
        overrides_->push_back(a);
      } else if (operands_) {
        operands_->push_back(a);
      } else if (!options_done && overrides_ && a.find('.') != std::string::npos &&
                 a.find('/') == std::string::npos) {
        throw ConfigError("override '" + a + "': expected section.key=value");
      } else {
        throw UsageError("unexpected argument '" + a + "'" + hint());
      }
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") return false;
    const size_t eq = a.find('=');
    const bool inline_value = a.rfind("--", 0) == 0 && eq != std::string::npos;
    const std::string name = inline_value ? a.substr(0, eq) : a;
    Spec* s = find(name);
    if (!s) throw UsageError("unknown option '" + a + "'" + hint());
    if (s->seen) throw UsageError(name + " given twice");
    if (s->flag) {
      if (inline_value) throw UsageError(name + " takes no value" + hint());
      *s->flag = s->seen = true;
      continue;
    }
    std::string value;
    if (inline_value) {
      value = a.substr(eq + 1);
    } else if (s->value_optional) {
      const bool next_is_value = i + 1 < args.size() && !args[i + 1].empty() &&
                                 args[i + 1][0] != '-' &&
                                 args[i + 1].find('=') == std::string::npos;
      value = next_is_value ? args[++i] : s->fallback;
    } else {
      // The next argument is this option's value, unless it is another option of the command
      // (`--trace --best`: a forgotten value, not a file named --best).
      if (i + 1 >= args.size() || is_option(args[i + 1]))
        throw UsageError(name + (s->name == "--config" ? " needs a file name" : " needs a value"));
      value = args[++i];
    }
    if (s->name == "--config" && value.empty()) throw UsageError(name + " needs a file name");
    s->seen = true;
    s->used = name;
    *s->value = value;
    if (s->given) *s->given = true;
  }
  return true;
}

std::string ArgParser::spelling(const std::string& name) const {
  for (const Spec& s : specs_)
    if (s.name == name) return s.seen ? s.used : s.alias.empty() ? s.name : s.alias;
  return name;
}

int64_t parse_int_option(const std::string& name, const std::string& value, int64_t lo,
                         int64_t hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end || errno == ERANGE || v < lo || v > hi)
    throw UsageError(name + " " + value + ": expected an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi));
  return v;
}

uint64_t parse_u64_option(const std::string& name, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end || value[0] == '-' || value[0] == '+' || errno == ERANGE)
    throw UsageError(name + " " + value + ": expected a non-negative integer");
  return v;
}

namespace {

// The files a training run keeps in its folders: the logger's <event>.csv and TensorBoard event
// file (src/log/), the trainer's summary.ini and lock (src/train/trainer.cpp).
bool is_run_file_name(const std::string& name) {
  if (name == "summary.ini" || name == ".lock" || name.rfind("events.out.tfevents.", 0) == 0)
    return true;
  for (int k = 0; k < kNumLogEvents; ++k)
    if (name == std::string(event_name(static_cast<LogEvent>(k))) + ".csv") return true;
  return false;
}

// Whether `dir` holds a run's file or a checkpoint besides the file `name`: a run folder (or a
// checkpoint folder), not a folder where a user keeps a file that happens to be named eval.csv.
bool holds_other_run_files(const std::string& dir, const std::string& name) {
  std::vector<DirEntry> entries;
  if (!posix_fs().list_dir(dir, &entries).ok()) return false;
  int64_t step = 0;
  for (const DirEntry& e : entries)
    if (e.name != name && (is_run_file_name(e.name) || parse_checkpoint_file_name(e.name, &step)))
      return true;
  return false;
}

// A failed write's status with the message "cannot write <path>: <reason>", where the
// message named `written` (the link's target) or its temporary.
Status naming_output(const Status& s, const std::string& path, const std::string& written) {
  if (s.ok()) return s;
  const std::string& m = s.message();
  std::string reason = m;
  for (const std::string& name : {temp_path_for(written), written}) {
    const size_t at = m.find(name + ": ");
    if (at != std::string::npos) {
      reason = m.substr(at + name.size() + 2);
      break;
    }
  }
  return s.with_message("cannot write " + path + ": " + reason);
}

}  // namespace

void check_output_file(const std::string& option, const std::string& path,
                       const std::vector<std::string>& inputs) {
  const std::string kept = ": it would be overwritten; choose another output file";
  struct stat out {};
  if (::stat(path.c_str(), &out) != 0) {  // a new file: its folder must exist
    const std::string dir = dir_name(path);
    struct stat d {};
    if (::stat(dir.c_str(), &d) != 0) {
      const int err = errno;
      throw UsageError(
          "cannot write " + path + ": " +
          (err == ENOENT ? "folder " + dir + " does not exist" : dir + ": " + std::strerror(err)));
    }
    if (!S_ISDIR(d.st_mode))
      throw UsageError("cannot write " + path + ": " + dir + " is not a folder");
    return;
  }
  for (const std::string& in : inputs) {
    struct stat st {};
    if (::stat(in.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
      throw UsageError(option + " " + path + " is " +
                       (in == path ? "the input" : "the input " + in) + kept);
  }
  if (S_ISDIR(out.st_mode)) throw UsageError(option + " " + path + " is a folder; name a file");
  if (!S_ISREG(out.st_mode)) return;  // a device, FIFO or socket: written into, not replaced
  if (is_checkpoint_file(posix_fs(), path))
    throw UsageError(option + " " + path + " is an edgerl checkpoint" + kept);
  std::string real = path;
  if (char* resolved = ::realpath(path.c_str(), nullptr)) {
    real = resolved;
    std::free(resolved);
  }
  const std::string name = base_name(real), dir = dir_name(real);
  if (is_run_file_name(name) && holds_other_run_files(dir, name))
    throw UsageError(option + " " + path + " is a file of the run folder " + dir + kept);
}

Status write_output_file(const std::string& path, const uint8_t* data, size_t n, bool* streamed) {
  if (streamed) *streamed = false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) {  // new, or a regular file
    std::string target = path;
    struct stat link {};
    if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      if (char* resolved = ::realpath(path.c_str(), nullptr)) {
        target = resolved;
        std::free(resolved);
      }
    }
    return naming_output(write_file_atomic(posix_fs(), target, data, n), path, target);
  }
  if (S_ISDIR(st.st_mode)) return Status::invalid_argument("cannot write " + path + ": a folder");
  if (streamed) *streamed = true;
  std::unique_ptr<WritableFile> f;  // it exists: neither created nor truncated
  Status s = posix_fs().new_appendable_file(path, &f);
  if (s.ok()) s = f->append(data, n);
  if (s.ok()) s = f->close();
  return naming_output(s, path, path);
}

}  // namespace edgerl::cli
