// edgerl_bench [name...]: runs the registered benchmarks (all, or those whose name starts with
// one of the arguments) and prints their figures. `make bench` runs it; see docs/benchmarks.md.
#include <cstdio>
#include <cstring>

#include "bench.hpp"
#include "machine.hpp"

namespace edgerl::bench {
std::vector<Benchmark>& registry() {
  static std::vector<Benchmark> r;
  return r;
}
}  // namespace edgerl::bench

int main(int argc, char** argv) {
  using edgerl::bench::registry;
  if (argc > 1 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "--list"))) {
    std::printf("usage: edgerl_bench [name-prefix...]\nbenchmarks:\n");
    for (const auto& b : registry()) std::printf("  %s\n", b.name.c_str());
    return 0;
  }
  std::printf("machine: %s\n", edgerl::bench::describe(edgerl::bench::machine()).c_str());
  int ran = 0;
  for (const auto& b : registry()) {
    bool selected = argc == 1;
    for (int i = 1; i < argc; ++i)
      if (b.name.rfind(argv[i], 0) == 0) selected = true;
    if (!selected) continue;
    std::printf("== %s\n", b.name.c_str());
    std::fflush(stdout);
    b.run();
    ++ran;
  }
  if (ran == 0) {
    std::fprintf(stderr, "edgerl_bench: no benchmark matches\n");
    return 2;
  }
  return 0;
}
