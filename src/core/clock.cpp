#include "edgerl/clock.hpp"

#include <chrono>

namespace edgerl {

double system_wall_clock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double system_monotonic_clock() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace edgerl
