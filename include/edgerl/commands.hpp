// commands: the sub-commands of the `edgerl` binary. src/main.cpp dispatches to these; each
// takes the arguments after its own name, prints errors as one line on stderr and returns the
// process exit status (0 ok, 2 bad usage or input, 3 a failed save with on_save_error=abort).
#pragma once

#include <string>
#include <vector>

namespace edgerl {

using Args = std::vector<std::string>;

int cmd_train(const Args& args);
int cmd_eval(const Args& args);
int cmd_config(const Args& args);
int cmd_ckpt(const Args& args);
int cmd_rollout(const Args& args);
int cmd_export(const Args& args);
int cmd_plot(const Args& args);

}  // namespace edgerl
