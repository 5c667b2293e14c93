// Sweeps: the grid, the run ids, the manifest, run states and statistics across seeds.
#include "edgerl/sweep.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "core/text.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/train.hpp"

namespace edgerl {
namespace {

const char* kManifest = "sweep.ini";

// A value as it appears in a run id: a list's commas become 'x' ("64x64"), anything a folder
// name cannot hold becomes '_'.
std::string id_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ',')
      out += 'x';
    else if (c == ' ')
      continue;
    else
      out += is_name_char(c) ? c : '_';
  }
  return out.empty() ? "_" : out;
}

// The name of an axis in run ids: its key's last part, or the whole key when two axes share it.
std::string axis_name(const SweepSpec& spec, size_t i) {
  const std::string& key = spec.axes[i].key;
  const std::string last = key.substr(key.rfind('.') + 1);
  for (size_t j = 0; j < spec.axes.size(); ++j)
    if (j != i && spec.axes[j].key.substr(spec.axes[j].key.rfind('.') + 1) == last) return key;
  return last;
}

std::vector<std::string> split_top_level(const std::string& s) {
  // Splits at commas outside brackets.
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

std::string seeds_text(const std::vector<uint64_t>& seeds) {
  std::string s;
  for (uint64_t x : seeds) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

bool read_text(FileSystem& fs, const std::string& path, std::string* out) {
  return read_file_to_string(fs, path, out).ok();
}

// The value of `key = v` in an INI-like text, or "" .
std::string ini_value(const std::string& text, const std::string& key) {
  const std::string needle = "\n" + key + " = ";
  const size_t at = ("\n" + text).find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size() - 1;
  const size_t end = text.find('\n', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Why `text` is not a summary.ini as training writes it (a status it writes, whole numbers of
// steps, numbers where numbers go), or "" when it is one.
std::string summary_problem(const std::string& text) {
  const std::string status = ini_value(text, "status");
  if (status.empty()) return "no status line";
  if (status != "finished" && status != "stopped" && status != "save_failed")
    return "status = " + printable(status);
  const std::string steps = ini_value(text, "timesteps");
  if (steps.empty() || steps.size() > 18 ||
      steps.find_first_not_of("0123456789") != std::string::npos)
    return "timesteps = " + printable(steps);
  for (const char* key :
       {"episode_return_mean", "episode_return_std", "absolute_episode_return_mean",
        "absolute_episode_return_std", "wall_seconds"}) {
    const std::string v = ini_value(text, key);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    const bool is_seconds = std::string(key) == "wall_seconds";
    if (v.empty() || *end || (is_seconds && !(x >= 0 && std::isfinite(x))))
      return std::string(key) + " = " + printable(v);
  }
  return "";
}

// Whether another process holds the flock on `path` (read from /proc/locks, so that looking
// never takes a lock a starting run would then find taken).
bool locked_by_someone(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::FILE* in = std::fopen("/proc/locks", "r");
  if (!in) return false;
  const std::string inode = ":" + std::to_string(static_cast<unsigned long long>(st.st_ino));
  char text[512];
  bool held = false;
  while (!held && std::fgets(text, sizeof text, in)) {
    // "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"
    const std::vector<std::string> f = split_words(text);
    if (f.size() < 6) continue;
    const std::string &kind = f[1], &where = f[5];
    held = kind == "FLOCK" && where.size() > inode.size() &&
           where.compare(where.size() - inode.size(), inode.size(), inode) == 0;
  }
  std::fclose(in);
  return held;
}

// One seed: decimal digits only, at most 2^64 - 1 (*too_large, if given, says when that is why
// it is not).
bool parse_seed(const std::string& s, uint64_t* v, bool* too_large = nullptr) {
  if (too_large) *too_large = false;
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  *v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno != ERANGE) return true;
  if (too_large) *too_large = true;
  return false;
}

// The key of `section.key=value`, or "" without '='.
std::string override_key(const std::string& text) {
  const size_t eq = text.find('=');
  return eq == std::string::npos ? "" : trim(text.substr(0, eq));
}

// A grid value as the command line gave it (a list key's in its brackets).
std::string shown_value(const SweepSpec::Axis& axis, const std::string& value) {
  return printable(is_list_key(axis.key) ? "[" + value + "]" : value);
}

// Refuses what the sweep sets per run itself, a key given twice where an axis is involved, and
// an axis value given twice (or two that make the same run id): each would silently lose a
// value, or give two runs one id and one folder.
void check_sweep_spec(const SweepSpec& spec) {
  struct Reserved {
    const char* key;
    const char* why;
  };
  static const Reserved kReserved[] = {
      {"logger.base_exp_path", "the sweep sets it to --out DIR for every run"},
      {"logger.checkpointing.save_args.checkpoint_uid", "the sweep sets it to each run's id"},
      {"logger.checkpointing.load_model", "every run resumes its own checkpoints (--resume auto)"},
      {"logger.checkpointing.load_args.checkpoint_uid",
       "every run resumes its own checkpoints (--resume auto)"},
      {"logger.checkpointing.load_args.load_step",
       "every run resumes its own newest checkpoint (--resume auto)"},
      {"logger.loggers.console.progress",
       "the sweep sets it to never (each run's output goes to its log file)"},
  };
  std::vector<std::pair<std::string, bool>> keys;  // every key, and whether it is an axis
  for (const std::string& o : spec.overrides) keys.push_back({override_key(o), false});
  for (const SweepSpec::Axis& a : spec.axes) keys.push_back({a.key, true});
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i].first;
    if (key == "arch.seed" && (keys[i].second || !spec.seeds.empty()))
      throw ConfigError(std::string("arch.seed") +
                        (keys[i].second ? " as a grid axis" : " next to --seeds") +
                        ": the sweep sets it per run; use --seeds (--seeds 1-5 or 1,3,7)");
    for (const Reserved& r : kReserved)
      if (key == r.key)
        throw ConfigError(key + ": " + r.why + "; leave it out of the sweep's overrides");
    for (size_t j = i + 1; j < keys.size(); ++j)
      if (keys[j].first == key && (keys[i].second || keys[j].second))
        throw ConfigError(key + " is given twice: give it once (" + key +
                          "=v1,v2,... for a grid axis)");
  }
  for (const SweepSpec::Axis& a : spec.axes)
    for (size_t i = 0; i < a.values.size(); ++i)
      for (size_t j = 0; j < i; ++j) {
        if (trim(a.values[i]) == trim(a.values[j]))
          throw ConfigError(a.key + ": value " + shown_value(a, a.values[i]) +
                            " given twice: give each value once");
        if (id_value(a.values[i]) == id_value(a.values[j]))
          throw ConfigError(a.key + ": values " + shown_value(a, a.values[j]) + " and " +
                            shown_value(a, a.values[i]) + " make the same run id (" +
                            id_value(a.values[i]) + "): give each value once");
      }
}

}  // namespace

bool parse_grid_override(const std::string& text, SweepSpec::Axis* axis) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return false;
  const std::string key = trim(text.substr(0, eq)), value = trim(text.substr(eq + 1));
  if (!is_config_key(key)) return false;  // the loader says what is wrong with it
  std::vector<std::string> values;
  if (is_list_key(key)) {
    if (value.empty() || value[0] != '[') return false;  // one list: a plain override
    for (const std::string& v : split_top_level(value)) {
      if (v.size() < 2 || v.front() != '[' || v.back() != ']')
        throw ConfigError("grid " + key + "=" + value +
                          ": the values of a list key are written in brackets ([64,64],[128,128])");
      values.push_back(v.substr(1, v.size() - 2));
    }
  } else {
    values = split_top_level(value);
  }
  if (values.size() < 2) return false;
  for (const std::string& v : values)
    if (v.empty()) throw ConfigError("grid " + key + "=" + value + " has an empty value");
  axis->key = key;
  axis->values = values;
  return true;
}

std::vector<uint64_t> parse_seeds(const std::string& text) {
  std::vector<uint64_t> out;
  const std::string shown = printable(text);
  for (const std::string& part : split_top_level(text)) {
    const size_t dash = part.find('-');
    auto number = [&](const std::string& s) {
      uint64_t v = 0;
      bool too_large = false;
      if (parse_seed(s, &v, &too_large)) return v;
      throw ConfigError("--seeds " + shown + ": " +
                        (too_large ? "seed " + printable(s) + " is larger than 18446744073709551615"
                                   : std::string("expected seeds like 1-10 or 1,3,5")));
    };
    if (dash == std::string::npos) {
      out.push_back(number(part));
    } else {
      const uint64_t lo = number(part.substr(0, dash)), hi = number(part.substr(dash + 1));
      if (hi < lo || hi - lo >= kMaxSweepRuns)
        throw ConfigError("--seeds " + shown + ": the range " + printable(part) +
                          " is empty or too long");
      for (uint64_t s = lo;; ++s) {
        out.push_back(s);
        if (s == hi) break;  // hi may be the largest seed
      }
    }
    if (out.size() > kMaxSweepRuns)
      throw ConfigError("--seeds " + shown + ": more than " + std::to_string(kMaxSweepRuns) +
                        " seeds");
  }
  std::vector<uint64_t> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end())
    throw ConfigError("--seeds " + shown + ": seed " + std::to_string(*twice) + " twice");
  return out;
}

Config load_run_config(const SweepSpec& spec, const SweepRun& run) {
  std::vector<std::string> o = spec.overrides;
  o.insert(o.end(), run.overrides.begin(), run.overrides.end());
  return load_config_from(spec.config, o);
}

std::vector<SweepRun> expand_sweep(const SweepSpec& spec) {
  std::vector<SweepRun> runs;
  const std::vector<uint64_t> seeds = spec.seeds.empty() ? std::vector<uint64_t>{} : spec.seeds;
  const size_t per_point = seeds.empty() ? 1 : seeds.size();
  // The grid's points times the seeds, refused past kMaxSweepRuns before it can overflow.
  const ConfigError too_many("the sweep has more than " + std::to_string(kMaxSweepRuns) +
                             " runs (its grid times its seeds); split it");
  if (per_point > kMaxSweepRuns) throw too_many;
  check_sweep_spec(spec);
  size_t points = 1;
  for (const auto& a : spec.axes) {
    if (a.values.empty()) throw ConfigError("sweep axis " + a.key + " has no value");
    if (a.values.size() > kMaxSweepRuns / (points * per_point)) throw too_many;
    points *= a.values.size();
  }
  // Each axis value as the config holds it (from the first run that has it): two values that
  // read the same (1e-3 and 0.001) would be the same runs under two ids.
  std::vector<std::map<std::string, size_t>> loaded(spec.axes.size());
  std::set<std::string> ids;
  for (size_t p = 0; p < points; ++p) {
    std::vector<std::string> grid;
    std::string point;
    size_t rest = p;
    std::vector<size_t> choice(spec.axes.size());
    for (size_t i = spec.axes.size(); i-- > 0;) {
      choice[i] = rest % spec.axes[i].values.size();
      rest /= spec.axes[i].values.size();
    }
    for (size_t i = 0; i < spec.axes.size(); ++i) {
      const std::string& v = spec.axes[i].values[choice[i]];
      grid.push_back(spec.axes[i].key + "=" + v);
      point += (point.empty() ? "" : ",") + axis_name(spec, i) + "=" + id_value(v);
    }
    for (size_t s = 0; s < per_point; ++s) {
      SweepRun r;
      r.index = runs.size();
      r.point = point;
      r.overrides = grid;
      if (!seeds.empty()) {
        r.seed = seeds[s];
        r.overrides.push_back("arch.seed=" + std::to_string(r.seed));
        r.id = (point.empty() ? "" : point + ",") + "seed=" + std::to_string(r.seed);
      } else {
        r.id = point.empty() ? "run" : point;
      }
      const std::string problem = folder_name_problem(r.id);
      if (!problem.empty()) throw ConfigError("sweep run id " + problem);
      r.overrides.push_back("logger.base_exp_path=" + spec.out);
      r.overrides.push_back("logger.checkpointing.save_args.checkpoint_uid=" + r.id);
      if (!ids.insert(r.id).second)
        throw ConfigError("sweep run id " + r.id + " twice: give each grid value once");
      Config cfg;
      try {
        cfg = load_run_config(spec, r);
        if (seeds.empty()) r.seed = cfg.arch.seed;
      } catch (const ConfigError& e) {
        throw ConfigError("run '" + r.id + "': " + e.what());
      }
      if (s == 0)
        for (size_t i = 0; i < spec.axes.size(); ++i) {
          const SweepSpec::Axis& a = spec.axes[i];
          std::string value;
          try {
            value = config_value(cfg, a.key);
          } catch (const ConfigError&) {
            continue;  // a key of another learner than this run's
          }
          const auto [at, fresh] = loaded[i].insert({value, choice[i]});
          if (!fresh && at->second != choice[i])
            throw ConfigError(a.key + ": values " + shown_value(a, a.values[at->second]) + " and " +
                              shown_value(a, a.values[choice[i]]) +
                              " are the same value: give each value once");
        }
      runs.push_back(std::move(r));
    }
  }
  return runs;
}

std::string sweep_manifest_text(const SweepSpec& spec, const std::vector<SweepRun>& runs) {
  TextOut out;
  out << "; edgerl sweep manifest: `edgerl sweep status|report " << spec.out
      << "` read it; running\n; the same sweep command again skips finished runs and resumes the "
         "others.\n[sweep]\n";
  out << "config = " << spec.config << "\nout = " << spec.out
      << "\nseeds = " << seeds_text(spec.seeds) << "\n";
  for (const std::string& o : spec.overrides) out << "override = " << o << "\n";
  for (const auto& a : spec.axes) {
    out << "axis = " << a.key << "\n";
    for (const std::string& v : a.values) out << "value = " << v << "\n";
  }
  for (const SweepRun& r : runs) {
    out << "\n[run]\nid = " << r.id << "\npoint = " << r.point << "\nseed = " << r.seed << "\n";
    for (const std::string& o : r.overrides) out << "override = " << o << "\n";
  }
  return out.str();
}

void write_sweep_manifest(FileSystem& fs, const SweepSpec& spec,
                          const std::vector<SweepRun>& runs) {
  const std::string text = sweep_manifest_text(spec, runs);
  Status st = create_dirs(fs, spec.out);
  if (st.ok())
    st = write_file_atomic(fs, join_path(spec.out, kManifest),
                           reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!st.ok()) throw RunError("cannot write the sweep manifest: " + st.message());
}

SweepManifest read_sweep_manifest(FileSystem& fs, const std::string& dir) {
  const std::string path = join_path(dir, kManifest);
  std::string text;
  const Status st = read_file_to_string(fs, path, &text);
  if (!st.ok()) throw RunError(path + ": no sweep manifest here (" + st.message() + ")");
  SweepManifest m;
  SweepRun* run = nullptr;
  int n = 0;
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (const std::string& line : lines) {
    ++n;
    if (line.empty() || line[0] == ';') continue;
    if (line == "[sweep]") continue;
    if (line == "[run]") {
      m.runs.emplace_back();
      m.runs.back().index = m.runs.size() - 1;
      run = &m.runs.back();
      continue;
    }
    const size_t eq = line.find(" = ");
    if (eq == std::string::npos)
      throw RunError(path + ":" + std::to_string(n) + ": not a line of a sweep manifest");
    const std::string k = line.substr(0, eq), value = line.substr(eq + 3);
    if (run) {
      if (k == "id") {
        run->id = value;
      } else if (k == "point") {
        run->point = value;
      } else if (k == "seed") {
        if (!parse_seed(value, &run->seed))
          throw RunError(path + ":" + std::to_string(n) + ": seed = '" + printable(value) +
                         "' is not a seed");
      } else if (k == "override") {
        run->overrides.push_back(value);
      } else {
        throw RunError(path + ":" + std::to_string(n) + ": unknown run key '" + printable(k) + "'");
      }
    } else if (k == "config") {
      m.spec.config = value;
    } else if (k == "out") {
      m.spec.out = value;
    } else if (k == "seeds") {
      if (!value.empty()) m.spec.seeds = parse_seeds(value);
    } else if (k == "override") {
      m.spec.overrides.push_back(value);
    } else if (k == "axis") {
      m.spec.axes.push_back({value, {}});
    } else if (k == "value" && !m.spec.axes.empty()) {
      m.spec.axes.back().values.push_back(value);
    } else {
      throw RunError(path + ":" + std::to_string(n) + ": not a line of a sweep manifest");
    }
  }
  if (m.runs.empty()) throw RunError(path + ": the manifest lists no run");
  return m;
}

const char* state_name(SweepRunState::Kind kind) {
  switch (kind) {
    case SweepRunState::pending:
      return "pending";
    case SweepRunState::running:
      return "running";
    case SweepRunState::resumable:
      return "resumable";
    case SweepRunState::done:
      return "done";
    case SweepRunState::failed:
      return "failed";
    case SweepRunState::damaged:
      return "damaged";
  }
  return "?";
}

void write_run_exit_status(FileSystem& fs, const std::string& out, const std::string& id,
                           int status) {
  const std::string dir = join_path(out, "status");
  const std::string text = std::to_string(status) + "\n";
  Status st = create_dirs(fs, dir);
  if (st.ok())
    st = write_file_atomic(fs, join_path(dir, id), reinterpret_cast<const uint8_t*>(text.data()),
                           text.size());
  (void)st;  // a status file is a convenience for `sweep status`; the run's folders are the truth
}

SweepRunState read_run_state(FileSystem& fs, const SweepSpec& spec, const SweepRun& run) {
  SweepRunState s;
  const Config cfg = load_run_config(spec, run);
  s.run_dir = make_run_dir(spec.out, cfg.system.system_name, cfg.env.scenario_name, run.id);
  const std::string ckpt_dir = join_path(
      join_path(join_path(spec.out, cfg.checkpointing.save_args.rel_dir), model_name(cfg)), run.id);
  std::string text;
  if (read_text(fs, join_path(join_path(spec.out, "status"), run.id), &text))
    s.exit_status = std::atoi(text.c_str());
  RunListing listing;
  if (list_run(fs, ckpt_dir, &listing).ok())
    for (const CheckpointEntry& e : listing.checkpoints)
      if (e.status.ok()) s.timesteps = std::max(s.timesteps, e.meta.timestep);
  if (read_text(fs, join_path(s.run_dir, "eval.csv"), &text)) {
    // The last whole row's episode_return_mean.
    const size_t header_end = text.find('\n');
    if (header_end != std::string::npos) {
      const std::vector<std::string> columns = split(text.substr(0, header_end), ',');
      const auto col = std::find(columns.begin(), columns.end(), "episode_return_mean");
      size_t end = text.size();
      if (end > 0 && text[end - 1] == '\n') --end;
      const size_t start = text.rfind('\n', end - 1);
      if (col != columns.end() && start != std::string::npos && start >= header_end) {
        const std::vector<std::string> cells = split(text.substr(start + 1, end - start - 1), ',');
        const size_t i = static_cast<size_t>(col - columns.begin());
        if (cells.size() == columns.size() && !cells[i].empty()) {
          s.last_return = std::strtod(cells[i].c_str(), nullptr);
          s.has_return = true;
        }
      }
    }
  }
  const bool locked = locked_by_someone(join_path(s.run_dir, ".lock"));
  const std::string summary = join_path(s.run_dir, "summary.ini");
  const bool summarised = read_text(fs, summary, &text);
  const std::string problem = summarised ? summary_problem(text) : "";
  if (!problem.empty())
    s.problem = summary + " is not a run summary (" + problem + "): its numbers are not counted";
  if (summarised && problem.empty() && ini_value(text, "status") == "finished") {
    s.kind = SweepRunState::done;
    s.timesteps = std::atoll(ini_value(text, "timesteps").c_str());
    s.final_return = std::strtod(ini_value(text, "episode_return_mean").c_str(), nullptr);
    s.final_return_std = std::strtod(ini_value(text, "episode_return_std").c_str(), nullptr);
    s.absolute_return =
        std::strtod(ini_value(text, "absolute_episode_return_mean").c_str(), nullptr);
    s.absolute_return_std =
        std::strtod(ini_value(text, "absolute_episode_return_std").c_str(), nullptr);
    s.wall_seconds = std::strtod(ini_value(text, "wall_seconds").c_str(), nullptr);
  } else if (locked) {
    s.kind = SweepRunState::running;
  } else if (!s.problem.empty()) {
    s.kind = SweepRunState::damaged;
  } else if (s.exit_status > 0 && s.exit_status != 75 && s.exit_status < 128) {
    s.kind = SweepRunState::failed;
  } else if (!listing.checkpoints.empty()) {
    s.kind = SweepRunState::resumable;
  }
  return s;
}

SeedStats seed_stats(std::vector<double> v) {
  SeedStats s;
  s.n = v.size();
  if (v.empty()) {  // no finished run: no number to show
    s.mean = s.std = s.median = s.iqm = NAN;
    return s;
  }
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(v.size()));
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  const size_t cut = n / 4;  // scipy.stats.trim_mean(x, 0.25): int(0.25 * n) from each end
  double mid = 0;
  for (size_t i = cut; i < n - cut; ++i) mid += v[i];
  s.iqm = mid / static_cast<double>(n - 2 * cut);
  return s;
}

}  // namespace edgerl
