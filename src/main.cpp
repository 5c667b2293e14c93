// The edgerl command line: dispatches to the sub-commands in src/cmd_*.cpp and turns every
// user-facing error into one line on stderr and a non-zero exit status.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "edgerl/cli.hpp"
#include "edgerl/commands.hpp"
#include "edgerl/text.hpp"
#include "edgerl/version.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(const edgerl::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"train", edgerl::cmd_train, "train an agent (--config FILE, section.key=value overrides)"},
    {"eval", edgerl::cmd_eval, "evaluate the policy stored in a checkpoint"},
    {"config", edgerl::cmd_config, "print the resolved config as INI (--doc: key reference)"},
    {"ckpt", edgerl::cmd_ckpt, "list, inspect, verify checkpoints; print their config"},
    {"rollout", edgerl::cmd_rollout, "step an environment with given actions, print CSV"},
    {"export", edgerl::cmd_export, "export checkpoint tensors as .npz or .safetensors"},
    {"plot", edgerl::cmd_plot, "draw episode return against timestep as SVG"},
};

const char* kHelpTail =
    "\n"
    "Run 'edgerl <command> --help' for a command's options. Configs are INI files whose\n"
    "sections mirror Stoix's (see docs/config.md); any key can be overridden on the command\n"
    "line as section.key=value.\n";

void print_help() {
  std::printf("edgerl %s: train, evaluate, log and checkpoint RL agents on the CPU\n\n",
              edgerl::kVersion);
  std::printf("usage: edgerl <command> [options]\n       edgerl --help | --version\n\ncommands:\n");
  for (const auto& c : kCommands) std::printf("  %-8s %s\n", c.name, c.summary);
  std::fputs(kHelpTail, stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help();
    return 2;
  }
  const std::string cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_help();
    return 0;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::printf("edgerl %s\n", edgerl::kVersion);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (cmd != c.name) continue;
    try {
      return c.run(edgerl::Args(args.begin() + 1, args.end()));
    } catch (const edgerl::ConfigError& e) {
      std::fprintf(stderr, "edgerl %s: %s\n", c.name, e.what());
      return 2;
    } catch (const edgerl::UsageError& e) {
      std::fprintf(stderr, "edgerl %s: %s\n", c.name, e.what());
      return e.status;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "edgerl %s: out of memory\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "edgerl %s: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::vector<std::string> names;
  for (const auto& c : kCommands) names.push_back(c.name);
  std::fprintf(stderr, "edgerl: unknown %s '%s'%s; see edgerl --help\n",
               cmd.rfind("-", 0) == 0 ? "option" : "command", cmd.c_str(),
               edgerl::did_you_mean(cmd, names).c_str());
  return 2;
}
