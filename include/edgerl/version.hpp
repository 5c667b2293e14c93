// version: edgerl's release version, written into every checkpoint and printed by --version.
// The one place it is stated is the file VERSION at the top of the repository; both builds
// pass it to src/core/version.cpp.
#pragma once

namespace edgerl {
extern const char* const kVersion;
}  // namespace edgerl
