// cli/commands: the sub-commands of the `edgerl` binary, one file each (src/cli/cmd_*.cpp), and
// the exit statuses. Only the CLI turns errors into statuses: a command throws UsageError (bad
// command line) or lets the library's errors through; run() prints every error as one line,
// "edgerl <command>: <what>", on stderr and returns the status.
#pragma once

#include <string>
#include <vector>

#include "cli/args.hpp"

namespace edgerl::cli {

// Exit statuses, as `edgerl --help` documents them.
enum ExitStatus : int {
  kExitOk = 0,
  kExitInternal = 1,    // a bug in edgerl (an unexpected exception): please report it
  kExitUsage = 2,       // bad command line, config or input file; nothing was lost
  kExitSaveFailed = 3,  // a checkpoint could not be saved and on_save_error = abort
  kExitNoMemory = 4,    // the run needs more memory than the machine gives
  kExitRunsFailed = 5,  // a sweep: some of its runs failed
  kExitStopped = 75,    // training stopped early by a signal; resumable (EX_TEMPFAIL)
};

// The "Exit status:" paragraph of `edgerl --help`.
extern const char* const kExitStatusHelp;

struct Command {
  const char* name;
  int (*run)(const Args& args);  // returns the exit status; may throw
  const char* summary;
};
const std::vector<Command>& commands();

// Runs sub-command `name` (already known to exist) with its arguments: its status, or the
// status of the error it threw, after printing that error as one line.
int run(const std::string& name, const Args& args);

int cmd_train(const Args& args);
int cmd_eval(const Args& args);
int cmd_config(const Args& args);
int cmd_ckpt(const Args& args);
int cmd_rollout(const Args& args);
int cmd_export(const Args& args);
int cmd_plot(const Args& args);
int cmd_sweep(const Args& args);

}  // namespace edgerl::cli
