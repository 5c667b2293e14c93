// The small static binaries' (make static, make cross) replacements for entry points of glibc
// 2.36's static libc.a that pull in code edgerl never runs (about 225 kB on x86-64):
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
// - On x86-64, the string functions (strlen, strcmp, memchr, ...; not memcpy, memmove and
//   memset): glibc's strlen is an IFUNC that picks one of its SSE2, SSE4.2, AVX2, AVX2+RTM,
//   EVEX and AVX-512 versions when the program starts, and a static binary links all of them
//   (82 kB). Here each name is a jump to glibc's own baseline version (SSE2, or its generic C
//   code for strspn, strcspn and wcsnlen), the one glibc selects on an x86-64 with nothing
//   beyond SSE2 and fast unaligned loads. Same results, and edgerl's hot loops call none of them
//   (the networks, the optimiser and the environments work on numbers); memcpy, memmove and memset,
//   which the training code does call, keep glibc's choice.
//
// __gconv_find_shlib, __gconv_release_shlib, __libc_resp and the __*_sse2 versions are
// glibc's internal names, so everything here is defined only for glibc 2.36 (Debian 12, every
// target of make cross); with another glibc this file is empty and the binary links glibc's own
// code. A glibc that defined them next to a symbol edgerl needs would fail the link (a
// duplicate definition), never run differently.
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

#if defined(__x86_64__)
// NAME: jmp TARGET, in its own section (dropped by --gc-sections when nothing calls NAME).
// Both names of each of glibc's IFUNC objects (strchr and index, ...) are defined, so that no
// reference can pull in the IFUNC next to this definition.
#define EDGERL_SSE2_VERSION(name, target)                                             \
  asm(".pushsection .text." #name ",\"ax\",@progbits\n.globl " #name "\n.type " #name \
      ",@function\n" #name ":\n\tjmp " #target "\n.size " #name ",.-" #name "\n.popsection")
EDGERL_SSE2_VERSION(memchr, __memchr_sse2);
EDGERL_SSE2_VERSION(__memchr, __memchr_sse2);
EDGERL_SSE2_VERSION(memcmp, __memcmp_sse2);
EDGERL_SSE2_VERSION(bcmp, __memcmp_sse2);
EDGERL_SSE2_VERSION(rawmemchr, __rawmemchr_sse2);
EDGERL_SSE2_VERSION(__rawmemchr, __rawmemchr_sse2);
EDGERL_SSE2_VERSION(stpcpy, __stpcpy_sse2_unaligned);
EDGERL_SSE2_VERSION(__stpcpy, __stpcpy_sse2_unaligned);
EDGERL_SSE2_VERSION(strcasecmp_l, __strcasecmp_l_sse2);
EDGERL_SSE2_VERSION(__strcasecmp_l, __strcasecmp_l_sse2);
EDGERL_SSE2_VERSION(strchr, __strchr_sse2);
EDGERL_SSE2_VERSION(index, __strchr_sse2);
EDGERL_SSE2_VERSION(strchrnul, __strchrnul_sse2);
EDGERL_SSE2_VERSION(__strchrnul, __strchrnul_sse2);
EDGERL_SSE2_VERSION(strcmp, __strcmp_sse2_unaligned);
EDGERL_SSE2_VERSION(strcpy, __strcpy_sse2_unaligned);
EDGERL_SSE2_VERSION(strcspn, __strcspn_generic);
EDGERL_SSE2_VERSION(strspn, __strspn_generic);
EDGERL_SSE2_VERSION(strlen, __strlen_sse2);
EDGERL_SSE2_VERSION(strncasecmp_l, __strncasecmp_l_sse2);
EDGERL_SSE2_VERSION(__strncasecmp_l, __strncasecmp_l_sse2);
EDGERL_SSE2_VERSION(strncmp, __strncmp_sse2);
EDGERL_SSE2_VERSION(strnlen, __strnlen_sse2);
EDGERL_SSE2_VERSION(__strnlen, __strnlen_sse2);
EDGERL_SSE2_VERSION(strrchr, __strrchr_sse2);
EDGERL_SSE2_VERSION(rindex, __strrchr_sse2);
EDGERL_SSE2_VERSION(wcslen, __wcslen_sse2);
EDGERL_SSE2_VERSION(__wcslen, __wcslen_sse2);
EDGERL_SSE2_VERSION(wcsnlen, __wcsnlen_generic);
EDGERL_SSE2_VERSION(__wcsnlen, __wcsnlen_generic);
EDGERL_SSE2_VERSION(wmemchr, __wmemchr_sse2);
EDGERL_SSE2_VERSION(__wmemchr, __wmemchr_sse2);
#undef EDGERL_SSE2_VERSION
#endif  // __x86_64__

#endif
