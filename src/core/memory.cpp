#include "core/memory.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace edgerl {
namespace {

// The first line of a small text file (procfs, cgroupfs) without its line break; "" when
// it cannot be read.
std::string first_line(const char* path, const char* starting_with = "") {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return "";
  char line[256];
  std::string out;
  const size_t n = std::strlen(starting_with);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, starting_with, n) == 0) {
      out = line;
      break;
    }
  std::fclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

uint64_t meminfo_available() {
  // "MemAvailable:   12345678 kB"
  const std::string line = first_line("/proc/meminfo", "MemAvailable:");
  if (line.empty()) return 0;
  return std::strtoull(line.c_str() + std::strlen("MemAvailable:"), nullptr, 10) * 1024;
}

uint64_t cgroup_left() {
  const std::string max_text = first_line("/sys/fs/cgroup/memory.max");
  const std::string cur_text = first_line("/sys/fs/cgroup/memory.current");
  if (max_text.empty() || max_text == "max" || cur_text.empty()) return 0;
  const uint64_t max = std::strtoull(max_text.c_str(), nullptr, 10);
  const uint64_t current = std::strtoull(cur_text.c_str(), nullptr, 10);
  return max > current ? max - current : 1;
}

uint64_t rlimit_of(int resource) {
  rlimit r{};
  if (getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<uint64_t>(r.rlim_cur);
}

}  // namespace

uint64_t available_memory_bytes() {
  uint64_t best = 0;
  for (uint64_t v :
       {meminfo_available(), cgroup_left(), rlimit_of(RLIMIT_AS), rlimit_of(RLIMIT_DATA)})
    if (v > 0) best = best == 0 ? v : std::min(best, v);
  return best;
}

std::string memory_size(uint64_t bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

uint64_t peak_resident_bytes() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0 || u.ru_maxrss <= 0) return 0;
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace edgerl
