// The small binaries' (make static, make cross) std::terminate handler, linked in place of
// libstdc++'s __gnu_cxx::__verbose_terminate_handler: the same message without the C++
// demangler it pulls in (55 kB of a 1.5 MB budget). edgerl never reaches it by design: every
// exception is caught in cli::run and becomes an exit status; this is the last line if one
// escapes anyway (a thread's body, a destructor during unwinding).
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace __gnu_cxx {

void __verbose_terminate_handler() {
  std::fputs("edgerl: internal error: terminate called", stderr);
  if (const std::exception_ptr p = std::current_exception()) {
    try {
      std::rethrow_exception(p);
    } catch (const std::exception& e) {
      std::fprintf(stderr, " after an uncaught exception: %s", e.what());
    } catch (...) {
      std::fputs(" after an uncaught exception of an unknown type", stderr);
    }
  }
  std::fputs("\n", stderr);
  std::abort();
}

}  // namespace __gnu_cxx
