// ckpt_format: edgerl's checkpoint file, version 1.0 — a list of named flat tensors plus the
// run's metadata, written deterministically and read without trusting a single byte.
// docs/checkpoint-format.md is the full specification; in short (little-endian throughout):
//
//   [0, 32)        preamble: "EDGERLCK", u16 major, u16 minor, u32 flags = 0,
//                  u64 header_len, u32 header_crc (CRC-32 of preamble[0,24) + header), u32 0
//   [32, +len)     header: i64 timestep, i64 eval_step, f64 episode_return, i64 wall_time_ms,
//                  str model_name, str checkpoint_uid, str edgerl_version, str config (INI),
//                  u32 count, then per tensor: str name, u8 dtype, u8 compression, u8 rank,
//                  u8 0, u64 shape[rank], u64 offset, u64 stored_size, u64 raw_size,
//                  u32 CRC-32 of the raw bytes, u32 CRC-32 of the stored bytes
//                                                        (str = u32 length + bytes)
//   zero padding to a multiple of 64, then each tensor's stored bytes at the next multiple of
//   64 after the previous one (zero padding between), then
//   [end-24, end)  trailer: "EDGERLND", u64 file_size, u32 header_crc, u32 CRC-32 of [0, 20)
//
// The layout is canonical: offsets are fully determined by the stored sizes, so equal input
// gives equal bytes, and every byte of a file is checked by some CRC or zero test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgerl/io.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

// The first 8 bytes of every checkpoint file.
constexpr char kCkptMagic[8] = {'E', 'D', 'G', 'E', 'R', 'L', 'C', 'K'};
constexpr uint16_t kCkptMajor = 1;
constexpr uint16_t kCkptMinor = 0;
constexpr uint64_t kCkptAlign = 64;
constexpr size_t kCkptMaxRank = 32;
constexpr size_t kCkptMaxNameBytes = 256;           // tensor names
constexpr size_t kCkptMaxLabelBytes = 1024;         // model_name, checkpoint_uid, version
constexpr uint64_t kCkptMaxHeaderBytes = 64 << 20;  // header, including the config text
// The writer's compression policy (not part of the format; readers take any choice):
// tensors under kCkptMinCompressBytes are stored raw; a tensor of n > kCkptProbeAbove bytes
// is first probed with three slices of min(kCkptProbeSlice, n / 16) bytes (start, middle,
// end) and stays raw unless they shrink by 1/8; compressed data is kept only when it is at
// least 1/8 smaller than the raw bytes.
constexpr uint64_t kCkptMinCompressBytes = 256;
constexpr uint64_t kCkptProbeAbove = 16 << 10;
constexpr uint64_t kCkptProbeSlice = 16 << 10;

enum class Compression : uint8_t { none = 0, zlib = 1 };
const char* compression_name(Compression c);

// What a checkpoint says about the run it came from.
struct CheckpointMeta {
  int64_t timestep = 0;
  int64_t eval_step = 0;
  double episode_return = 0.0;  // NaN when there was no evaluation
  int64_t wall_time_ms = 0;     // Unix time of the save, milliseconds, UTC
  std::string model_name;
  std::string checkpoint_uid;
  std::string edgerl_version;
  std::string config_ini;  // the resolved config, as `edgerl config` prints it
};

// One row of the tensor table.
struct TensorRecord {
  std::string name;
  DType dtype = DType::f32;
  std::vector<uint64_t> shape;
  Compression compression = Compression::none;
  uint64_t offset = 0;        // of the stored bytes, from the start of the file
  uint64_t stored_size = 0;   // bytes in the file
  uint64_t raw_size = 0;      // bytes of the tensor: elements x dtype size
  uint32_t crc32 = 0;         // CRC-32 of the raw bytes
  uint32_t stored_crc32 = 0;  // CRC-32 of the stored bytes (= crc32 when stored raw)
};

// Everything but the tensor data: what `ckpt inspect` shows.
struct CheckpointInfo {
  uint16_t major = 0;
  uint16_t minor = 0;
  CheckpointMeta meta;
  std::vector<TensorRecord> tensors;
  uint64_t file_size = 0;
};

// Why `name` cannot be a tensor name, or "" when it can: 1 to 256 bytes of letters, digits,
// '_', '-', '.', '/'; '/' separates non-empty components that are not "." or "..";
// "__metadata__" is reserved (safetensors uses it).
std::string tensor_name_problem(const std::string& name);

// Raw bytes per chunk of a tensor encoded in chunks (see ChunkCache): one deflate stored
// block holds a whole incompressible chunk.
constexpr uint64_t kCkptChunkBytes = 65535;

// What a writer keeps from one encode to the next so that a large tensor which changes in
// parts (a replay buffer) is not compressed whole at every save. A tracked tensor is encoded
// in chunks of kCkptChunkBytes raw bytes: when the whole tensor's probe (above) says
// compress, each chunk is judged by the same policy and deflated on its own, ending on a byte
// boundary, else kept as one stored block; the chunks in a row, between a zlib header and an
// empty final block with the Adler-32, are one zlib stream that any reader inflates, and the
// tensor is stored so when that saves an eighth, else raw. The cache keeps each chunk's
// deflated bytes and CRCs, and the probe's verdict, until a change reported touches them. A
// chunk's encoding depends on its bytes, the level and the probe's verdict alone, so a file's
// bytes do not depend on what the cache held. The caller must report every change of a
// tracked tensor's bytes since the previous encode; untracked tensors are encoded whole, as
// without a cache. One thread at a time.
class ChunkCache {
 public:
  ChunkCache();
  ~ChunkCache();
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  // Encodes tensor `name` in chunks from now on, every chunk to be done afresh.
  void track(const std::string& name);
  // Encodes `name` whole again and drops what was kept of it.
  void forget(const std::string& name);
  // Bytes [begin, end) of tracked tensor `name` changed since the last encode (an untracked
  // name: nothing to do).
  void changed(const std::string& name, uint64_t begin, uint64_t end);
  // Deflated bytes kept, over all tensors.
  uint64_t kept_bytes() const;

  struct Impl;

 private:
  friend Status encode_checkpoint(const CheckpointMeta&, const TensorList&, int,
                                  std::vector<uint8_t>*, ChunkCache*);
  std::unique_ptr<Impl> impl_;
};

// The checkpoint bytes for `tensors` (in list order) and `meta`, compressed at
// `compression_level` (0..9; 0 = all raw) by the policy above; the tensors `cache` tracks in
// chunks, through it. Same input, same bytes. Errors: invalid_argument.
Status encode_checkpoint(const CheckpointMeta& meta, const TensorList& tensors,
                         int compression_level, std::vector<uint8_t>* out,
                         ChunkCache* cache = nullptr);

// Reads and checks the preamble, header and trailer (not the tensor data). Messages do not
// name the file; callers prefix it.
Status read_checkpoint_info(const RandomAccessFile& file, CheckpointInfo* out);

// Reads one tensor of a file whose info was read by read_checkpoint_info: decompresses it
// into dst (raw_size bytes) or, with dst == nullptr, only checks it; verifies its CRC and the
// zero padding after it. Memory use is bounded whatever the tensor's size.
Status read_tensor_data(const RandomAccessFile& file, const TensorRecord& rec, void* dst);

// read_checkpoint_info plus read_tensor_data(nullptr) of every tensor: the whole file checked.
Status verify_checkpoint(const RandomAccessFile& file, CheckpointInfo* out);

// The whole file, checked, into owned tensors.
Status read_checkpoint(const RandomAccessFile& file, CheckpointInfo* info,
                       std::vector<Tensor>* tensors);

// Views of owned tensors (for encoding what was read).
TensorList tensor_refs(std::vector<Tensor>& tensors);

}  // namespace edgerl
