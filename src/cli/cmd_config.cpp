// `edgerl config`: prints the resolved config as INI (reading it back gives the same config),
// the Markdown reference of every key, or the names of the built-in configs.
#include <cstdio>

#include "cli/commands.hpp"

namespace edgerl::cli {

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
  std::string path, show;
  std::vector<std::string> overrides;
  bool doc = false, list = false;
  ArgParser p("config");
  p.config(&path, &overrides).flag("--doc", &doc).flag("--list", &list).option("--show", &show);
  if (!p.parse(args)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  // --doc, --list and --show print one fixed text: anything else given with them would be
  // ignored.
  if ((doc + list + !show.empty() > 1) ||
      ((doc || list || !show.empty()) && (!path.empty() || !overrides.empty())))
    throw UsageError("--doc, --list and --show take nothing else (see edgerl config --help)");
  if (doc) {
    std::fputs(config_reference_markdown().c_str(), stdout);
  } else if (list) {
    for (const auto& n : builtin_config_names()) std::printf("%s\n", n.c_str());
  } else if (!show.empty()) {
    const std::string text = builtin_config_text(show);
    if (text.empty()) throw UsageError("no built-in config named '" + show + "' (see --list)");
    std::fputs(text.c_str(), stdout);
  } else {
    std::fputs(to_ini(load_config_from(path, overrides)).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace edgerl::cli
