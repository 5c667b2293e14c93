// The small static binaries' (make static, make cross) replacements for entry points of glibc
// 2.36's static libc.a that pull in code edgerl never runs (about 140 kB on x86-64):
//
// - __dcgettext, dcgettext and gettext: message translation. assert, strerror and the printf
//   family's %m ask for a translation of their English text, and libstdc++'s exception
//   messages call gettext; that links the catalogue loader (dcigettext, loadmsgcat,
//   finddomain, localealias, plural expressions), setlocale and its code-set conversion.
//   edgerl never calls setlocale, so it runs in the "C" locale, where glibc returns the
//   English text unchanged; these return it too.
// - __assert_fail: glibc's prints through fxprintf, which brings the wide-character printf.
//   This one prints glibc's message ("prog: file:line: function: Assertion `expr' failed.").
// - __gconv_find_shlib, __gconv_release_shlib: loading a character-set converter from
//   gconv/*.so, which links the whole static dlopen (dl-open, dl-close, dl-deps, dlsym, ...).
//   The conversions the "C" locale uses are built in and do not load a module; with these, a
//   request for another character set fails as if no module were installed.
// - __libc_resp: the thread's resolver state pointer, which pthread_create sets for each new
//   thread. glibc defines it in res_libc.o next to res_init, and so every program with a thread
//   links the DNS resolver's set-up: /etc/resolv.conf and /etc/host.conf parsing, netlink
//   interface queries, and through host.conf's warnings the wide-character printf (86 kB on
//   x86-64). edgerl resolves no names. This definition starts, as glibc's does, at a zeroed
//   state (glibc's _res) for the main thread, so resolver code would run the same if it were
//   linked; anything that needs the rest of res_libc.o (res_init, _res) fails the link with a
//   duplicate definition.
//
// __gconv_find_shlib, __gconv_release_shlib and __libc_resp are glibc's internal names, so
// everything here is defined only for glibc 2.36 (Debian 12, every target of make cross); with
// another glibc this file is empty and the binary links glibc's own code. A glibc that defined them
// next to a symbol edgerl needs would fail the link (a duplicate definition), never run
// differently.
#include <assert.h>   // the declarations these definitions must match
#include <errno.h>    // program_invocation_short_name
#include <libintl.h>  // gettext, dcgettext
#include <resolv.h>   // struct __res_state

#include <cstdio>
#include <cstdlib>

#if defined(__GLIBC__) && __GLIBC__ == 2 && __GLIBC_MINOR__ == 36

extern "C" {

char* __dcgettext(const char* /*domain*/, const char* msgid, int /*category*/) noexcept {
  return const_cast<char*>(msgid);
}

char* dcgettext(const char* /*domain*/, const char* msgid, int /*category*/) noexcept {
  return const_cast<char*>(msgid);
}

char* gettext(const char* msgid) noexcept {
  return const_cast<char*>(msgid);
}

void __assert_fail(const char* assertion, const char* file, unsigned int line,
                   const char* function) noexcept {
  std::fprintf(stderr, "%s: %s:%u: %s%sAssertion `%s' failed.\n", program_invocation_short_name,
               file, line, function ? function : "", function ? ": " : "", assertion);
  std::fflush(stderr);
  std::abort();
}

void* __gconv_find_shlib(const char* /*name*/) {
  return nullptr;
}

void __gconv_release_shlib(void* /*handle*/) {}

}  // extern "C"

namespace {
struct __res_state main_thread_resolver_state;  // zeroed, like glibc's _res
}  // namespace

extern "C" {
__thread struct __res_state* __libc_resp = &main_thread_resolver_state;
}  // extern "C"

#endif
