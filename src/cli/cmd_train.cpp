// `edgerl train`: loads the config and runs the training loop (src/train/).
#include <cstdio>

#include "cli/commands.hpp"
#include "edgerl/train.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl train [--config FILE] [section.key=value ...]\n"
    "\n"
    "Trains an agent: num_evaluation times learn, evaluate, log and checkpoint, then a final\n"
    "absolute-metric evaluation. Without --config the built-in default (PPO on CartPole-v1)\n"
    "is used. Logs go to <base_exp_path>/<system_name>/<scenario>/<uid>/, checkpoints to\n"
    "<base_exp_path>/checkpoints/<model_name>/<uid>/.\n"
    "\n"
    "  --config FILE   INI config (see edgerl config --doc, docs/config.md); builtin:NAME\n"
    "                  for a config compiled into the binary (edgerl config --list)\n"
    "\n"
    "Resume an interrupted run (the newest run of this model, or a given uid):\n"
    "  edgerl train logger.checkpointing.load_model=true\n"
    "  edgerl train logger.checkpointing.load_model=true "
    "logger.checkpointing.load_args.checkpoint_uid=UID\n"
    "\n";

}  // namespace

int cmd_train(const Args& args) {
  std::string path;
  std::vector<std::string> overrides;
  ArgParser p("train");
  p.config(&path, &overrides);
  if (!p.parse(args)) {
    std::fputs(kHelp, stdout);
    std::fputs(kExitStatusHelp, stdout);
    return kExitOk;
  }
  const TrainSummary summary = train(load_config_from(path, overrides));
  return summary.save_failed ? kExitSaveFailed : kExitOk;
}

}  // namespace edgerl::cli
