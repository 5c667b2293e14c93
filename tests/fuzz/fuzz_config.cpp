// libFuzzer target for the config loader (tests/fuzz/run.sh builds and runs it).
//
// An input is INI text, then up to 8 `section.key=value` overrides, separated by NUL bytes.
// For every input the loader must either refuse it with a ConfigError of one non-empty line or
// give a config that
//  - validate() accepts or refuses with a ConfigError of one line;
//  - to_ini() writes as text that loads back to the same config (no key differs, and writing
//    it again gives the same text), which validate() judges the same way.
// Anything else (another exception, a crash, a memory error or undefined behaviour under ASan
// and UBSan) is a bug. `base =` resolves against a folder that does not exist, so only the
// built-in configs can be bases (and absolute paths, which the corpus does not hold).
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/config.hpp"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool one_line(const std::string& m) {
  return !m.empty() && m.find('\n') == std::string::npos;
}

// Whether validate() accepts cfg (a refusal must be one line).
bool valid(const edgerl::Config& cfg) {
  try {
    edgerl::validate(cfg);
    return true;
  } catch (const edgerl::ConfigError& e) {
    require(one_line(e.what()));
    return false;
  }
}

const char* const kNoDir = "/nonexistent-edgerl-fuzz-dir";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgerl;
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      if (parts.size() == 9) break;
      parts.emplace_back();
    } else {
      parts.back().push_back(static_cast<char>(data[i]));
    }
  }
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  Config cfg;
  try {
    cfg = load_config_text(parts[0], "fuzz.ini", overrides, kNoDir);
  } catch (const ConfigError& e) {
    require(one_line(e.what()));
    return 0;
  }
  const bool ok = valid(cfg);
  const std::string text = to_ini(cfg);
  Config again;
  try {
    again = load_config_text(text, "again.ini", {}, kNoDir);
  } catch (const ConfigError&) {
    require(false);  // what to_ini wrote must load
  }
  require(config_differences(cfg, again).empty());
  require(to_ini(again) == text);
  require(valid(again) == ok);
  return 0;
}
