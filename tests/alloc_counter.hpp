// A count of heap allocations for the whole test binary: tests/alloc_counter.cpp replaces the
// global operator new (every form), so a test can show that a code path does not allocate.
#pragma once

#include <cstdint>

namespace edgerl::testing {

// Allocations made through any global operator new since the program started, on any thread.
uint64_t allocation_count();

}  // namespace edgerl::testing
