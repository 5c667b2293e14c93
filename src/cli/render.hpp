// cli/render: classic-control environments drawn as text frames, for a terminal on a board
// with no screen (`edgerl eval FILE --render ascii`).
#pragma once

#include <string>

#include "edgerl/envs.hpp"

namespace edgerl::cli {

// One frame of `env` (its current state), `width` x `height` characters plus a status line.
// Environments without a drawing get their state as numbers.
std::string render_ascii(const Env& env, int width, int height, const std::string& status);

}  // namespace edgerl::cli
