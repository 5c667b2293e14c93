// core/memory: how much memory this process can still get, so that a size that cannot fit
// (a replay buffer of a billion transitions) is refused with its number of bytes before it is
// allocated, instead of failing half-way with "out of memory".
#pragma once

#include <cstdint>
#include <string>

namespace edgerl {

// The smallest of what the kernel reports as available (MemAvailable), what this process's
// cgroup still allows (memory.max - memory.current) and its address-space and data limits.
// 0 when none of them can be read.
uint64_t available_memory_bytes();

// "8.8 GB"-style sizes for people (decimal units, as memory is sold).
std::string memory_size(uint64_t bytes);

}  // namespace edgerl
