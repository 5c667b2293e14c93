// aligned: std::vector with its buffer on a 64-byte boundary (a cache line; one AVX-512
// register). The kernels load whole vectors from weight rows and activations; a load that
// straddles two cache lines costs two, which halved the row-sparse products' speed on
// AVX-512 (docs/benchmarks.md). Weight rows of the usual widths (multiples of 16 floats) then
// start on a line as well.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace edgerl {

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::size_t kAlign = 64;

  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kAlign)));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kAlign)); }

  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept {
    return false;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace edgerl
