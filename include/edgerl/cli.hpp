// cli: small helpers shared by the sub-commands in src/cmd_*.cpp.
#pragma once

#include <string>
#include <vector>

#include "edgerl/config.hpp"

namespace edgerl {

// Thrown by a sub-command for bad usage or input: what() is printed as one line after
// "edgerl <command>: " and the process exits with `status`.
struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& what, int status = 2)
      : std::runtime_error(what), status(status) {}
  int status;
};

// Splits `[--config FILE] [section.key=value ...]` from args; other options starting with
// "--" are returned in `rest` (with their values when listed in `valued`) for the caller.
struct ConfigArgs {
  std::string config_path;  // empty = the built-in default
  std::vector<std::string> overrides;
  std::vector<std::string> rest;
};
ConfigArgs split_config_args(const std::vector<std::string>& args,
                             const std::vector<std::string>& valued_options = {});

// Loads the config named by `ca` (file or built-in default) with its overrides.
Config load_config_args(const ConfigArgs& ca);

}  // namespace edgerl
