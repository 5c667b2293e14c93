#include "edgerl/version.hpp"

#ifndef EDGERL_VERSION
#error "EDGERL_VERSION must be defined by the build (from the file VERSION)"
#endif

namespace edgerl {
const char* const kVersion = EDGERL_VERSION;
}  // namespace edgerl
