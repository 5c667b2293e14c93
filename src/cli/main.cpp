// The edgerl binary: global options, then one sub-command (src/cli/cmd_*.cpp) through run().
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/text.hpp"
#include "edgerl/version.hpp"

namespace {

const char* kHelpTail =
    "\n"
    "Run 'edgerl <command> --help' for a command's options. Configs are INI files whose\n"
    "sections mirror Stoix's (see docs/config.md); any key can be overridden on the command\n"
    "line as section.key=value.\n\n";

// The help on `out`: stdout when asked for, stderr when no command was given (an error).
void print_help(std::FILE* out) {
  std::fprintf(out, "edgerl %s: train, evaluate, log and checkpoint RL agents on the CPU\n\n",
               edgerl::kVersion);
  std::fputs("usage: edgerl <command> [options]\n       edgerl --help | --version\n\ncommands:\n",
             out);
  for (const auto& c : edgerl::cli::commands()) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fputs(kHelpTail, out);
  std::fputs(edgerl::cli::kExitStatusHelp, out);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgerl::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help(stderr);
    return kExitUsage;
  }
  const std::string cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_help(stdout);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::printf("edgerl %s%s\n", edgerl::kVersion,
                edgerl::kFmaBuild ? " (FMA=1 build: fused multiply-adds, other bits than the "
                                    "default build's)"
                                  : "");
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    if (cmd == c.name) return run(cmd, Args(args.begin() + 1, args.end()));
    names.push_back(c.name);
  }
  std::fprintf(stderr, "edgerl: unknown %s '%s'%s; see edgerl --help\n",
               cmd.rfind("-", 0) == 0 ? "option" : "command", cmd.c_str(),
               edgerl::did_you_mean(cmd, names).c_str());
  return kExitUsage;
}
