// error: the one exception type of edgerl's library API. Every user-facing failure that is not
// a storage Status (io.hpp) is an edgerl::Error whose what() is one line naming the file, key or
// value, what is wrong with it and what to do. Modules derive their own kinds from it
// (ConfigError, EnvError, LoggerError, PlotError, RunError), so a program can catch one type.
// Anything else that escapes the library (std::bad_alloc, std::logic_error) is not the user's
// mistake.
#pragma once

#include <stdexcept>
#include <string>

namespace edgerl {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace edgerl
