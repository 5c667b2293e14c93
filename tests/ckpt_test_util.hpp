// Helpers shared by the checkpoint tests: a temporary folder that cleans up, random tensor
// sets of every dtype and rank, and byte-level access to an encoded checkpoint so tests can
// damage one field and keep every CRC valid (to reach the checks behind the CRCs).
#pragma once

#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/io.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"
#include "test_util.hpp"

namespace edgerl::test {

using edgerl::testing::TempDir;

// Random owned tensors: every dtype, ranks 0..4, some dimensions 0 (empty tensors), and some
// tensors of repetitive data so that compression has something to do.
inline std::vector<Tensor> random_tensors(uint64_t seed, size_t count) {
  Pcg64 rng(seed);
  std::vector<Tensor> out;
  for (size_t i = 0; i < count; ++i) {
    Tensor t;
    t.name = "group" + std::to_string(i % 3) + "/t" + std::to_string(i);
    t.dtype = static_cast<DType>(i % 7);
    const size_t rank = rng.below(5);
    for (size_t r = 0; r < rank; ++r) t.shape.push_back(rng.below(i % 5 == 4 ? 3 : 9));
    t.bytes.resize(num_elements(t.shape) * dtype_size(t.dtype));
    const bool repetitive = rng.below(2) == 0;
    for (size_t b = 0; b < t.bytes.size(); ++b)
      t.bytes[b] =
          repetitive ? static_cast<uint8_t>((b / 16) % 3) : static_cast<uint8_t>(rng.next_u64());
    out.push_back(std::move(t));
  }
  return out;
}

inline CheckpointMeta sample_meta() {
  CheckpointMeta m;
  m.timestep = 51200;
  m.eval_step = 3;
  m.episode_return = 187.25;
  m.wall_time_ms = 1767225600000;  // fixed, so bytes compare
  m.model_name = "ff_ppo";
  m.checkpoint_uid = "20260101000000";
  m.edgerl_version = "0.1.0";
  m.config_ini = "[system]\nsystem_name = ff_ppo\n\n[arch]\nseed = 42\n";
  return m;
}

inline std::vector<uint8_t> encode(const CheckpointMeta& meta, std::vector<Tensor>& tensors,
                                   int level) {
  std::vector<uint8_t> out;
  const Status s = encode_checkpoint(meta, tensor_refs(tensors), level, &out);
  if (!s.ok()) throw std::runtime_error(s.message());
  return out;
}

inline Status decode(const std::vector<uint8_t>& bytes, CheckpointInfo* info,
                     std::vector<Tensor>* tensors) {
  MemoryFile f(bytes.data(), bytes.size());
  return read_checkpoint(f, info, tensors);
}

inline Status verify_bytes(const std::vector<uint8_t>& bytes) {
  MemoryFile f(bytes.data(), bytes.size());
  return verify_checkpoint(f, nullptr);
}

inline uint64_t get_le(const std::vector<uint8_t>& f, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(f.at(pos + i)) << (8 * i);
  return v;
}

inline void put_le(std::vector<uint8_t>& f, size_t pos, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) f.at(pos + i) = static_cast<uint8_t>(v >> (8 * i));
}

// Recomputes the header CRC (in the preamble and the trailer) and the trailer's own CRC, as a
// forger would after changing header fields.
inline void refresh_crcs(std::vector<uint8_t>& f) {
  const uint64_t header_len = get_le(f, 16, 8);
  const uint32_t crc = static_cast<uint32_t>(
      ::crc32(::crc32(0, f.data(), 24), f.data() + 32, static_cast<uInt>(header_len)));
  put_le(f, 24, crc, 4);
  const size_t t = f.size() - 24;
  put_le(f, t + 8, f.size(), 8);
  put_le(f, t + 16, crc, 4);
  put_le(f, t + 20, ::crc32(0, f.data() + t, 20), 4);
}

// Byte positions of tensor record `index`'s fields in an encoded file.
struct RecordPos {
  size_t name_len, name, dtype, compression, rank, shape, offset, stored_size, raw_size, crc,
      stored_crc;
};

inline RecordPos record_pos(const std::vector<uint8_t>& f, size_t index) {
  size_t pos = 32 + 32;
  for (int s = 0; s < 4; ++s) pos += 4 + get_le(f, pos, 4);
  pos += 4;  // tensor count
  for (size_t i = 0;; ++i) {
    RecordPos r;
    r.name_len = pos;
    r.name = pos + 4;
    r.dtype = r.name + get_le(f, pos, 4);
    r.compression = r.dtype + 1;
    r.rank = r.dtype + 2;
    r.shape = r.dtype + 4;
    r.offset = r.shape + 8 * f.at(r.rank);
    r.stored_size = r.offset + 8;
    r.raw_size = r.offset + 16;
    r.crc = r.offset + 24;
    r.stored_crc = r.offset + 28;
    if (i == index) return r;
    pos = r.stored_crc + 4;
  }
}

}  // namespace edgerl::test
