// The benchmark registry: each bench/bench_*.cpp registers named benchmarks that
// `edgerl_bench [name...]` runs (all of them by default) and prints as text.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace edgerl::bench {

struct Benchmark {
  std::string name;
  std::function<void()> run;
};

std::vector<Benchmark>& registry();

struct Register {
  Register(const char* name, std::function<void()> fn) {
    registry().push_back({name, std::move(fn)});
  }
};

// Seconds since an arbitrary start (steady clock).
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Keeps the optimiser from discarding a computed value.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

}  // namespace edgerl::bench

#define EDGERL_BENCH_CAT2(a, b) a##b
#define EDGERL_BENCH_CAT(a, b) EDGERL_BENCH_CAT2(a, b)
#define EDGERL_BENCHMARK(name, fn) \
  static ::edgerl::bench::Register EDGERL_BENCH_CAT(edgerl_bench_reg_, __LINE__)(name, fn)
