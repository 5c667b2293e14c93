// tensor: the one currency between training state and files. Every part of a learner state
// (parameters, optimizer moments, RNG words, environment states, replay buffers, counters)
// lists itself as named, flat, contiguous tensors; the checkpoint writer and reader, `ckpt
// inspect` and the exporters only ever see such lists. A TensorRef is a non-owning view
// into memory the owner keeps alive; a Tensor owns its bytes (what a reader returns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgerl {

enum class DType : uint8_t { f32 = 0, f64 = 1, i32 = 2, i64 = 3, u8 = 4, u32 = 5, u64 = 6 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8:
      return 1;
    case DType::f32:
    case DType::i32:
    case DType::u32:
      return 4;
    case DType::f64:
    case DType::i64:
    case DType::u64:
      return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::u8:
      return "u8";
    case DType::u32:
      return "u32";
    case DType::u64:
      return "u64";
  }
  return "?";
}

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::u8;
}
template <>
constexpr DType dtype_of<uint32_t>() {
  return DType::u32;
}
template <>
constexpr DType dtype_of<uint64_t>() {
  return DType::u64;
}

inline uint64_t num_elements(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

// How a tensor's rows (its outermost dimension) change, for savers that copy only what
// changed: one whole row per write, in ring order. Each write fills row *next, then advances
// *next by one modulo the rows; *writes counts the writes ever made. (A replay buffer.)
struct RowRing {
  const uint64_t* writes = nullptr;
  const uint64_t* next = nullptr;
};

// A named view of contiguous memory owned elsewhere.
struct TensorRef {
  std::string name;
  DType dtype = DType::f32;
  std::vector<uint64_t> shape;
  void* data = nullptr;
  // Non-null when every change of the bytes is a RowRing write (restoring into the view aside).
  const RowRing* rows = nullptr;

  uint64_t size_bytes() const { return num_elements(shape) * dtype_size(dtype); }
};

template <class T>
TensorRef tensor_ref(std::string name, T* data, std::vector<uint64_t> shape) {
  return TensorRef{std::move(name), dtype_of<T>(), std::move(shape), data};
}

// A named tensor that owns its bytes (little-endian element layout, row-major).
struct Tensor {
  std::string name;
  DType dtype = DType::f32;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

using TensorList = std::vector<TensorRef>;

}  // namespace edgerl
