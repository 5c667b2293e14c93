// cli/args: the one argument parser every sub-command uses, and the CLI's own error.
//
// A command declares its options (flags, options with a value, positional operands, and
// whether it takes `--config FILE` plus `section.key=value` overrides); parse() then accepts
// `--name VALUE` and `--name=VALUE` alike, `--` ends the options, and anything undeclared is
// a UsageError naming it and pointing at the command's --help.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/io.hpp"

namespace edgerl::cli {

using Args = std::vector<std::string>;

// Bad usage of the command line: what() is printed after "edgerl <command>: " and the process
// exits with `status` (2 unless said otherwise).
struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& what, int status = 2)
      : std::runtime_error(what), status(status) {}
  int status;
};

class ArgParser {
 public:
  explicit ArgParser(std::string command) : command_(std::move(command)) {}

  // A flag: *out becomes true when `name` (or `alias`) is given.
  ArgParser& flag(const std::string& name, bool* out, const std::string& alias = "");
  // An option with a value; *out gets it and *given (if not null) becomes true. Given twice is
  // an error.
  ArgParser& option(const std::string& name, std::string* out, const std::string& alias = "",
                    bool* given = nullptr);
  // An option whose value may be left out (`--name`, `--name VALUE`, `--name=VALUE`): the next
  // argument is its value unless it starts with '-' or holds '='; without one, *out =
  // `fallback`.
  ArgParser& optional_value(const std::string& name, std::string* out, const std::string& fallback,
                            bool* given);
  // `--config FILE` (or -c) and `section.key=value` operands.
  ArgParser& config(std::string* path, std::vector<std::string>* overrides);
  // Operands (anything not starting with '-', or everything after "--").
  ArgParser& operands(std::vector<std::string>* out);

  // Parses `args`. Returns false when -h or --help was given (the caller prints its help).
  // Throws UsageError for an unknown option, a missing value or an unexpected operand.
  bool parse(const Args& args);

 private:
  struct Spec {
    std::string name, alias;
    bool* flag = nullptr;
    std::string* value = nullptr;
    bool* given = nullptr;
    bool seen = false;
    bool value_optional = false;
    std::string fallback;
  };
  Spec* find(const std::string& name);
  // `arg` names one of this parser's options (alone or as --name=value), or asks for help.
  bool is_option(const std::string& arg);
  std::string hint() const { return " (see edgerl " + command_ + " --help)"; }

  std::string command_;
  std::vector<Spec> specs_;
  std::string* config_path_ = nullptr;
  std::vector<std::string>* overrides_ = nullptr;
  std::vector<std::string>* operands_ = nullptr;
};

// Typed option values: "--name VALUE: expected ..." as a UsageError otherwise.
int64_t parse_int_option(const std::string& name, const std::string& value, int64_t lo, int64_t hi);
uint64_t parse_u64_option(const std::string& name, const std::string& value);

// Refuses (UsageError) an output path that is one of the inputs (the same file, by any name).
void refuse_input_as_output(const std::string& output, const std::vector<std::string>& inputs);

// Writes the file a user named with -o. A new or regular file is written atomically (a
// temporary renamed over it); through a symbolic link, its target is (the link stays). A
// device, FIFO or socket (-o /dev/stdout) is written straight into: a rename would replace it
// with a plain file, and as root that replaces /dev/null itself; *streamed (if given) then
// says so, and the command's own report goes to stderr. A folder is refused.
Status write_output_file(const std::string& path, const uint8_t* data, size_t n,
                         bool* streamed = nullptr);

// The config a `--config` path names (a file, builtin:NAME, or "" for the built-in default)
// with the overrides applied and validated. Throws ConfigError.
Config load_config_from(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace edgerl::cli
