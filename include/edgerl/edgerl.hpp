// edgerl: the whole public API in one include. Each header is one module's contract
// (docs/architecture.md); include only what you use if you prefer.
#pragma once

#include "edgerl/checkpoint.hpp"
#include "edgerl/ckpt_export.hpp"
#include "edgerl/ckpt_format.hpp"
#include "edgerl/clock.hpp"
#include "edgerl/config.hpp"
#include "edgerl/envs.hpp"
#include "edgerl/error.hpp"
#include "edgerl/evaluator.hpp"
#include "edgerl/io.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"
#include "edgerl/plot.hpp"
#include "edgerl/policy.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/sweep.hpp"
#include "edgerl/system.hpp"
#include "edgerl/tensor.hpp"
#include "edgerl/train.hpp"
#include "edgerl/version.hpp"
