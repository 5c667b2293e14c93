// version: edgerl's release version, written into every checkpoint and printed by --version.
#pragma once

namespace edgerl {
constexpr const char* kVersion = "0.1.0";
}  // namespace edgerl
