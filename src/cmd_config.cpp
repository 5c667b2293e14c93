// `edgerl config`: prints the resolved config as INI (reading it back gives the same config),
// the Markdown reference of every key, or the names of the built-in configs.
#include <cstdio>

#include "edgerl/cli.hpp"
#include "edgerl/commands.hpp"

namespace edgerl {

namespace {
const char* kHelp =
    "usage: edgerl config [--config FILE] [section.key=value ...]\n"
    "       edgerl config --doc | --list | --show NAME\n"
    "\n"
    "Prints the resolved config (the file, or the built-in default, with the overrides\n"
    "applied and validated) as INI. Feeding that output back with --config gives the same\n"
    "config.\n"
    "\n"
    "  --config FILE   INI file to start from (default: built-in ppo_cartpole.ini);\n"
    "                  builtin:NAME for a config compiled into the binary\n"
    "  --doc           print the reference of every section and key (Markdown)\n"
    "  --list          list the configs compiled into the binary\n"
    "  --show NAME     print a built-in config file as shipped\n";
}  // namespace

int cmd_config(const Args& args) {
  const ConfigArgs ca = split_config_args(args, {"--show"});
  bool doc = false, list = false;
  std::string show;
  for (size_t i = 0; i < ca.rest.size(); ++i) {
    const std::string& a = ca.rest[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--doc") {
      doc = true;
    } else if (a == "--list") {
      list = true;
    } else if (a == "--show") {
      show = ca.rest[++i];
    } else {
      throw UsageError("unexpected argument '" + a + "' (see edgerl config --help)");
    }
  }
  if (doc) {
    std::fputs(config_reference_markdown().c_str(), stdout);
  } else if (list) {
    for (const auto& n : builtin_config_names()) std::printf("%s\n", n.c_str());
  } else if (!show.empty()) {
    const std::string text = builtin_config_text(show);
    if (text.empty()) throw UsageError("no built-in config named '" + show + "' (see --list)");
    std::fputs(text.c_str(), stdout);
  } else {
    std::fputs(to_ini(load_config_args(ca)).c_str(), stdout);
  }
  return 0;
}

}  // namespace edgerl
