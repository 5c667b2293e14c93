// version: edgerl's release version, written into every checkpoint and printed by --version.
// The one place it is stated is the file VERSION at the top of the repository; both builds
// pass it to src/core/version.cpp.
#pragma once

namespace edgerl {
extern const char* const kVersion;
// True in an FMA=1 build (fused multiply-adds in the networks and learners: other bits than
// the default build's, docs/benchmarks.md).
extern const bool kFmaBuild;
}  // namespace edgerl
