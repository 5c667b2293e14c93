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
  // How option `name` was spelled on the command line ("-o" or "--output"); its alias, or
  // `name`, when it was not given.
  std::string spelling(const std::string& name) const;

 private:
  struct Spec {
    std::string name, alias;
    bool* flag = nullptr;
    std::string* value = nullptr;
    bool* given = nullptr;
    bool seen = false;
    std::string used;  // the spelling given
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

// The one guard of every file a user names for a command to write (eval --trace, plot -o,
// export -o), called before the file is opened: refuses with one line (UsageError, naming
// `option` as spelled and `path`)
//   - one of the command's `inputs` (the same file by any name, links included),
//   - an edgerl checkpoint, known by its first bytes (is_checkpoint_file), not by its name,
//   - a file of a run folder: the logger's <event>.csv and events.out.tfevents.*, summary.ini
//     and .lock, in a folder that also holds another of them or a step_*.ckpt (a new file
//     such as curve.svg in a run folder is fine),
//   - a folder, and a new file whose folder does not exist.
// A device, FIFO or socket (--trace /dev/stdout) passes: nothing is overwritten there.
void check_output_file(const std::string& option, const std::string& path,
                       const std::vector<std::string>& inputs);

// Writes the file a user named with -o. A new or regular file is written atomically (a
// temporary renamed over it); through a symbolic link, its target is (the link stays). A
// device, FIFO or socket (-o /dev/stdout) is written straight into: a rename would replace it
// with a plain file, and as root that replaces /dev/null itself; *streamed (if given) then
// says so, and the command's own report goes to stderr. A folder is refused. A failure's
// message is "cannot write <path>: <the system's reason>" (it never names the temporary).
Status write_output_file(const std::string& path, const uint8_t* data, size_t n,
                         bool* streamed = nullptr);

}  // namespace edgerl::cli
