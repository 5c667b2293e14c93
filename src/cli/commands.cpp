// The sub-command table and the one place where errors become exit statuses.
#include "cli/commands.hpp"

#include <cstdio>
#include <exception>
#include <new>

#include "edgerl/error.hpp"

namespace edgerl::cli {

const char* const kExitStatusHelp =
    "Exit status: 0 done; 1 internal error (a bug: please report it); 2 bad command line,\n"
    "config or input file, or a run folder in use; 3 a checkpoint could not be saved\n"
    "(on_save_error = abort); 4 not enough memory; 5 some runs of a sweep failed; 75 stopped\n"
    "early by a signal (resumable: run it again with --resume, or the sweep again); 128+N\n"
    "ended by signal N before its handlers were set or by a third stop signal (130 SIGINT,\n"
    "143 SIGTERM, 138 SIGUSR1; 137: SIGKILL, from outside). Earlier checkpoints stay valid.\n";

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"train", cmd_train, "train an agent (--config FILE, section.key=value overrides)"},
      {"eval", cmd_eval, "evaluate the policy stored in a checkpoint"},
      {"config", cmd_config, "print the resolved config as INI (--doc: key reference)"},
      {"ckpt", cmd_ckpt, "list, inspect, verify checkpoints; print their config"},
      {"rollout", cmd_rollout, "step an environment with given actions, print CSV"},
      {"export", cmd_export, "export tensors as .npz or .safetensors, or the policy as a C header"},
      {"plot", cmd_plot, "draw episode return against timestep as SVG"},
      {"sweep", cmd_sweep, "run a grid x seeds of trainings here or on Slurm; status, report"},
  };
  return kCommands;
}

int run(const std::string& name, const Args& args) {
  const Command* command = nullptr;
  for (const Command& c : commands())
    if (name == c.name) command = &c;
  auto report = [&](const char* what, int status) {
    std::fflush(stdout);
    std::fprintf(stderr, "edgerl %s: %s\n", name.c_str(), what);
    return status;
  };
  if (!command) return report("no such command", kExitUsage);
  try {
    return command->run(args);
  } catch (const UsageError& e) {
    return report(e.what(), e.status);
  } catch (const Error& e) {
    return report(e.what(), kExitUsage);
  } catch (const std::bad_alloc&) {
    return report("out of memory", kExitNoMemory);
  } catch (const std::exception& e) {
    return report((std::string("internal error: ") + e.what()).c_str(), kExitInternal);
  }
}

}  // namespace edgerl::cli
