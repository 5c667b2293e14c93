#include "edgerl/version.hpp"

#ifndef EDGERL_VERSION
#error "EDGERL_VERSION must be defined by the build (from the file VERSION)"
#endif

namespace edgerl {
const char* const kVersion = EDGERL_VERSION;
#if defined(EDGERL_FMA) && EDGERL_FMA
const bool kFmaBuild = true;
#else
const bool kFmaBuild = false;
#endif
}  // namespace edgerl
