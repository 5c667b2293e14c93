// The checkpoint writer and reader. Every field is encoded byte by byte (never by copying a
// struct), and the reader checks each count, length, offset and shape against the file's size
// and against overflow before it allocates or reads anything that depends on it.
#include "edgerl/ckpt_format.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "core/text.hpp"

// Tensor data is copied as-is: the file is little-endian, and so must the host be.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the checkpoint format stores tensors little-endian; big-endian hosts need a "
              "byte-swapping path in ckpt_format.cpp");

namespace edgerl {

namespace {

constexpr char kTrailerMagic[8] = {'E', 'D', 'G', 'E', 'R', 'L', 'N', 'D'};
constexpr size_t kPreambleSize = 32;
constexpr size_t kTrailerSize = 24;
// Deflate cannot expand data more than 1032:1; a larger raw_size claim is a lie.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr size_t kChunk = 1 << 20;  // bytes read or inflated per step when streaming

uint64_t align_up(uint64_t x) {
  return (x + kCkptAlign - 1) / kCkptAlign * kCkptAlign;
}

uint32_t crc32_of(uint32_t crc, const uint8_t* p, size_t n) {
  return static_cast<uint32_t>(::crc32_z(crc, p, n));
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (unsigned char c : s) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  return out + "'";
}

// elements x dtype size, or false on overflow. A zero dimension makes the tensor empty even
// when the other dimensions' product would overflow.
bool checked_raw_size(const std::vector<uint64_t>& shape, DType dtype, uint64_t* out) {
  uint64_t n = 1;
  if (std::find(shape.begin(), shape.end(), 0u) != shape.end()) {
    *out = 0;
    return true;
  }
  for (uint64_t d : shape) {
    if (n > UINT64_MAX / d) return false;
    n *= d;
  }
  const uint64_t size = dtype_size(dtype);
  if (n > UINT64_MAX / size) return false;
  *out = n * size;
  return true;
}

bool valid_dtype(uint8_t d) {
  return d <= static_cast<uint8_t>(DType::u64);
}

// ---- encoding -----------------------------------------------------------------------------

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    le(bits, 8);
  }
  void bytes(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>* out_;
};

Status check_encodable(const CheckpointMeta& meta, const TensorList& tensors, int level) {
  if (level < 0 || level > 9)
    return Status::invalid_argument("compression level " + std::to_string(level) +
                                    " is outside 0..9");
  for (const std::string* label : {&meta.model_name, &meta.checkpoint_uid, &meta.edgerl_version})
    if (label->size() > kCkptMaxLabelBytes)
      return Status::invalid_argument("metadata field of " + std::to_string(label->size()) +
                                      " bytes is longer than " +
                                      std::to_string(kCkptMaxLabelBytes));
  if (meta.config_ini.size() > kCkptMaxHeaderBytes / 2)
    return Status::invalid_argument("config text of " + std::to_string(meta.config_ini.size()) +
                                    " bytes is too long");
  std::set<std::string> names;
  for (const TensorRef& t : tensors) {
    const std::string problem = tensor_name_problem(t.name);
    if (!problem.empty()) return Status::invalid_argument("tensor name " + problem);
    if (!names.insert(t.name).second)
      return Status::invalid_argument("tensor " + quoted(t.name) + " appears twice");
    if (!valid_dtype(static_cast<uint8_t>(t.dtype)))
      return Status::invalid_argument("tensor " + quoted(t.name) + " has an unknown dtype");
    if (t.shape.size() > kCkptMaxRank)
      return Status::invalid_argument("tensor " + quoted(t.name) + " has rank " +
                                      std::to_string(t.shape.size()) + ", more than " +
                                      std::to_string(kCkptMaxRank));
    uint64_t raw = 0;
    if (!checked_raw_size(t.shape, t.dtype, &raw) || raw > SIZE_MAX / 2)
      return Status::invalid_argument("tensor " + quoted(t.name) + " of shape " +
                                      shape_string(t.shape) + " is too large");
    if (raw > 0 && t.data == nullptr)
      return Status::invalid_argument("tensor " + quoted(t.name) + " has no data");
  }
  return Status();
}

// A deflate stream kept across uses: start() sets it up for (level, window_bits) the first
// time and after a change, else deflateReset()s it, which makes it start as a fresh one (the
// same output) without deflateInit's ~270 KB allocation and release (whose return to the
// kernel also flushes the other cores' TLBs, i.e. interrupts training).
class DeflateStream {
 public:
  DeflateStream() = default;
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;
  ~DeflateStream() {
    if (level_ >= 0) ::deflateEnd(&z_);
  }

  // The stream, ready for new input; nullptr when zlib cannot set it up.
  z_stream* start(int level, int window_bits) {
    if (level_ == level && window_bits_ == window_bits)
      return ::deflateReset(&z_) == Z_OK ? &z_ : nullptr;
    if (level_ >= 0) ::deflateEnd(&z_);
    level_ = -1;
    z_ = z_stream{};
    if (::deflateInit2(&z_, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return nullptr;
    level_ = level;
    window_bits_ = window_bits;
    return &z_;
  }

 private:
  z_stream z_{};
  int level_ = -1;  // the level z_ is set up for; -1: not set up
  int window_bits_ = 0;
};

// As compress2(out, len, in, n, level), whose stream parameters these are (zlib wrapper,
// 15-bit window, memLevel 8, so the same bytes), on a kept stream: true when it all fitted
// (*len = the bytes written).
bool compress(DeflateStream& d, uint8_t* out, uLongf* len, const uint8_t* in, uint64_t n,
              int level) {
  z_stream* z = d.start(level, 15);
  if (!z) return false;
  constexpr uint64_t kMax = std::numeric_limits<uInt>::max();
  uint64_t in_left = n, out_left = *len;
  z->next_in = const_cast<Bytef*>(in);
  z->avail_in = 0;
  z->next_out = out;
  z->avail_out = 0;
  int r = Z_OK;
  while (r == Z_OK) {
    if (z->avail_out == 0) {
      if (out_left == 0) break;
      z->avail_out = static_cast<uInt>(std::min(out_left, kMax));
      out_left -= z->avail_out;
    }
    if (z->avail_in == 0 && in_left > 0) {
      z->avail_in = static_cast<uInt>(std::min(in_left, kMax));
      in_left -= z->avail_in;
    }
    r = ::deflate(z, in_left > 0 ? Z_NO_FLUSH : Z_FINISH);
  }
  *len = static_cast<uLongf>(z->total_out);
  return r == Z_STREAM_END;
}

}  // namespace

struct ChunkCache::Impl {
  struct Chunk {
    bool valid = false;
    bool deflated = false;       // else one stored block: 5 header bytes, then the raw bytes
    std::vector<uint8_t> bytes;  // deflated: the chunk's blocks, up to its sync flush
    uint32_t crc = 0;            // CRC-32 of the raw bytes
    uint32_t adler = 1;          // Adler-32 of the raw bytes
    uint32_t stored_crc = 0;     // CRC-32 of the chunk's stored form
    uint64_t stored_size = 0;
  };
  struct Entry {
    uint64_t raw_size = 0;
    int level = -1;
    int probe = -1;         // the whole tensor's probe: 1 compress, 0 not, -1 to be done
    int chunks_probe = -1;  // the probe the chunks were built under
    std::vector<Chunk> chunks;
  };
  std::map<std::string, Entry> entries;
  // A whole chunk of zeros as last built (an unfilled buffer is mostly such chunks), with
  // the level and probe it was built under.
  Chunk zeros;
  int zeros_level = -1;
  bool zeros_deflatable = false;
  DeflateStream chunk_stream;  // raw deflate, for the chunks
  DeflateStream probes;        // compress(): the probes, and whole small tensors
};

namespace {

using Chunk = ChunkCache::Impl::Chunk;
using ChunkEntry = ChunkCache::Impl::Entry;

// The stored form of one tensor: compressed bytes (owned), chunks kept by a ChunkCache, or a
// pointer to the raw bytes.
struct StoredTensor {
  Compression compression = Compression::none;
  std::vector<uint8_t> compressed;
  const ChunkEntry* chunks = nullptr;  // zlib made of these chunks
  uint8_t zlib_head[2] = {0, 0};       // then, with chunks
  uint8_t zlib_tail[6] = {0, 0, 0, 0, 0, 0};
  uint64_t chunked_size = 0;
  uint64_t raw_size = 0;
  uint32_t crc = 0;
  uint32_t stored_crc = 0;
  uint64_t stored_size() const {
    if (chunks) return chunked_size;
    return compression == Compression::zlib ? compressed.size() : raw_size;
  }
};

// Whether compressing `n` raw bytes is likely to pay off: large tensors are judged by three
// slices (start, middle, end) first, so that incompressible state such as trained weights
// and optimizer moments costs a few slices of work instead of the whole tensor's.
// The probe's slices of an n-byte tensor: `slice` bytes at each of starts (n > kCkptProbeAbove).
uint64_t probe_slices(uint64_t n, uint64_t starts[3]) {
  const uint64_t slice = std::min(kCkptProbeSlice, n / 16);
  starts[0] = 0;
  starts[1] = n / 2 - slice / 2;
  starts[2] = n - slice;
  return slice;
}

bool probe_says_compress(DeflateStream& z, const uint8_t* raw, uint64_t n, int level) {
  if (n <= kCkptProbeAbove) return true;
  uint64_t starts[3];
  const uint64_t slice = probe_slices(n, starts);
  std::vector<uint8_t> buf(::compressBound(static_cast<uLong>(slice)));
  uint64_t in = 0, out = 0;
  for (uint64_t start : starts) {
    uLongf len = static_cast<uLongf>(buf.size());
    if (!compress(z, buf.data(), &len, raw + start, slice, level)) return false;
    in += slice;
    out += len;
  }
  return out <= in - in / 8;
}

StoredTensor store(const TensorRef& t, int level, DeflateStream& z) {
  StoredTensor s;
  checked_raw_size(t.shape, t.dtype, &s.raw_size);
  const uint8_t* raw = static_cast<const uint8_t*>(t.data);
  s.crc = crc32_of(0, raw, s.raw_size);
  s.stored_crc = s.crc;
  if (level == 0 || s.raw_size < kCkptMinCompressBytes ||
      !probe_says_compress(z, raw, s.raw_size, level))
    return s;
  uLongf n = ::compressBound(static_cast<uLong>(s.raw_size));
  s.compressed.resize(n);
  if (compress(z, s.compressed.data(), &n, raw, s.raw_size, level) &&
      n <= s.raw_size - s.raw_size / 8) {
    s.compressed.resize(n);
    s.compression = Compression::zlib;
    s.stored_crc = crc32_of(0, s.compressed.data(), n);
    return s;
  }
  s.compressed = {};
  return s;
}

// ---- tensors in chunks ----------------------------------------------------------------------
//
// A chunked tensor's zlib stream: the 2-byte zlib header, each chunk's deflate blocks (a chunk
// deflated without history and ended by a sync flush, or one stored block), an empty final
// block (fixed Huffman codes: 0x03 0x00) and the big-endian Adler-32 of the raw bytes. No
// block refers back past its chunk's start, so chunks can be deflated at different saves.

uint32_t crc32_join(uint32_t crc1, uint32_t crc2, uint64_t len2) {
  return static_cast<uint32_t>(::crc32_combine(crc1, crc2, static_cast<z_off_t>(len2)));
}

// The zlib header deflate writes at `level` (no preset dictionary).
void zlib_header(int level, uint8_t out[2]) {
  const unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
  unsigned h = (0x78u << 8) | (flevel << 6);
  h += 31 - h % 31;
  out[0] = static_cast<uint8_t>(h >> 8);
  out[1] = static_cast<uint8_t>(h);
}

// A stored block header for n <= 65535 bytes, not final, at a byte boundary.
void stored_block_header(uint64_t n, uint8_t out[5]) {
  out[0] = 0;
  out[1] = static_cast<uint8_t>(n);
  out[2] = static_cast<uint8_t>(n >> 8);
  out[3] = static_cast<uint8_t>(~n);
  out[4] = static_cast<uint8_t>(~n >> 8);
}

// Deflates n bytes without history into non-final blocks ending on a byte boundary.
bool deflate_piece(ChunkCache::Impl& c, const uint8_t* p, size_t n, int level,
                   std::vector<uint8_t>* out) {
  z_stream* z = c.chunk_stream.start(level, -15);
  if (!z) return false;
  out->resize(::deflateBound(z, static_cast<uLong>(n)) + 16);
  z->next_in = const_cast<Bytef*>(p);
  z->avail_in = static_cast<uInt>(n);
  size_t done = 0;
  for (;;) {
    z->next_out = out->data() + done;
    z->avail_out = static_cast<uInt>(out->size() - done);
    const int rc = ::deflate(z, Z_SYNC_FLUSH);
    done = out->size() - z->avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (z->avail_out != 0) break;
    out->resize(out->size() * 2);
  }
  out->resize(done);
  return z->avail_in == 0;
}

bool is_zero(const uint8_t* p, uint64_t n) {
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, static_cast<size_t>(n - 1)) == 0);
}

// A chunk's stored form and CRCs, from its n raw bytes: deflated when `try_deflate` and the
// tensor policy (probe, then an eighth saved) say so, else one stored block.
void build_chunk_from(ChunkCache::Impl& c, Chunk& k, const uint8_t* p, uint64_t n, int level,
                      bool try_deflate) {
  k.crc = crc32_of(0, p, n);
  k.adler = static_cast<uint32_t>(::adler32(1, p, static_cast<uInt>(n)));
  k.deflated = try_deflate && n >= kCkptMinCompressBytes &&
               probe_says_compress(c.probes, p, n, level) &&
               deflate_piece(c, p, n, level, &k.bytes) && k.bytes.size() <= n - n / 8;
  if (k.deflated) {
    k.stored_size = k.bytes.size();
    k.stored_crc = crc32_of(0, k.bytes.data(), k.bytes.size());
  } else {
    std::vector<uint8_t>().swap(k.bytes);
    uint8_t head[5];
    stored_block_header(n, head);
    k.stored_size = 5 + n;
    k.stored_crc = crc32_join(crc32_of(0, head, 5), k.crc, n);
  }
  k.valid = true;
}

// build_chunk_from, with whole chunks of zeros copied from the last one built.
void build_chunk(ChunkCache::Impl& c, Chunk& k, const uint8_t* p, uint64_t n, int level,
                 bool try_deflate) {
  if (n != kCkptChunkBytes || !is_zero(p, n))
    return build_chunk_from(c, k, p, n, level, try_deflate);
  if (!c.zeros.valid || c.zeros_level != level || c.zeros_deflatable != try_deflate) {
    build_chunk_from(c, c.zeros, p, n, level, try_deflate);
    c.zeros_level = level;
    c.zeros_deflatable = try_deflate;
  }
  k = c.zeros;
}

// A tracked tensor's stored form: its chunks brought up to date, then one zlib stream of them
// when that saves an eighth, else raw (with the CRC joined from the chunks'). As for a whole
// tensor, the probe of the whole tensor comes first: when it says no, no chunk is deflated
// (a full buffer of noise costs its CRCs, not a probe per chunk).
StoredTensor store_chunked(const TensorRef& t, int level, ChunkCache::Impl& c, ChunkEntry& e) {
  StoredTensor s;
  checked_raw_size(t.shape, t.dtype, &s.raw_size);
  const uint64_t count = (s.raw_size + kCkptChunkBytes - 1) / kCkptChunkBytes;
  if (e.raw_size != s.raw_size || e.level != level || e.chunks.size() != count) {
    e.chunks.assign(static_cast<size_t>(count), Chunk{});
    e.raw_size = s.raw_size;
    e.level = level;
    e.probe = e.chunks_probe = -1;
  }
  const uint8_t* raw = static_cast<const uint8_t*>(t.data);
  const bool may_compress = level > 0 && s.raw_size >= kCkptMinCompressBytes;
  if (may_compress && e.probe < 0)
    e.probe = probe_says_compress(c.probes, raw, s.raw_size, level) ? 1 : 0;
  const int probe = may_compress ? e.probe : 0;
  if (e.chunks_probe != probe)
    for (Chunk& k : e.chunks) k.valid = false;
  e.chunks_probe = probe;
  uint32_t crc = 0, adler = 1, body_crc = 0;
  uint64_t body = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Chunk& k = e.chunks[static_cast<size_t>(i)];
    const uint64_t n = std::min(kCkptChunkBytes, s.raw_size - i * kCkptChunkBytes);
    if (!k.valid) build_chunk(c, k, raw + i * kCkptChunkBytes, n, level, probe == 1);
    crc = crc32_join(crc, k.crc, n);
    adler = static_cast<uint32_t>(::adler32_combine(adler, k.adler, static_cast<z_off_t>(n)));
    body_crc = crc32_join(body_crc, k.stored_crc, k.stored_size);
    body += k.stored_size;
  }
  s.crc = s.stored_crc = crc;
  const uint64_t zlib_size = 2 + body + 6;
  if (probe != 1 || zlib_size > s.raw_size - s.raw_size / 8) return s;
  s.compression = Compression::zlib;
  s.chunks = &e;
  s.chunked_size = zlib_size;
  zlib_header(level, s.zlib_head);
  s.zlib_tail[0] = 0x03;
  s.zlib_tail[1] = 0x00;
  for (int b = 0; b < 4; ++b) s.zlib_tail[2 + b] = static_cast<uint8_t>(adler >> (24 - 8 * b));
  s.stored_crc = crc32_join(crc32_join(crc32_of(0, s.zlib_head, 2), body_crc, body),
                            crc32_of(0, s.zlib_tail, 6), 6);
  return s;
}

// Writes a chunked tensor's zlib stream (s.chunked_size bytes) to dst.
void write_chunked(const StoredTensor& s, const uint8_t* raw, uint8_t* dst) {
  std::memcpy(dst, s.zlib_head, 2);
  dst += 2;
  for (size_t i = 0; i < s.chunks->chunks.size(); ++i) {
    const Chunk& k = s.chunks->chunks[i];
    if (k.deflated) {
      std::memcpy(dst, k.bytes.data(), k.bytes.size());
    } else {
      stored_block_header(k.stored_size - 5, dst);
      std::memcpy(dst + 5, raw + i * kCkptChunkBytes, k.stored_size - 5);
    }
    dst += k.stored_size;
  }
  std::memcpy(dst, s.zlib_tail, 6);
}

}  // namespace

ChunkCache::ChunkCache() : impl_(new Impl()) {}
ChunkCache::~ChunkCache() = default;

void ChunkCache::track(const std::string& name) {
  impl_->entries[name] = Impl::Entry{};
}

void ChunkCache::forget(const std::string& name) {
  impl_->entries.erase(name);
}

void ChunkCache::changed(const std::string& name, uint64_t begin, uint64_t end) {
  const auto it = impl_->entries.find(name);
  if (it == impl_->entries.end() || begin >= end) return;
  Impl::Entry& e = it->second;
  const uint64_t last = std::min<uint64_t>((end - 1) / kCkptChunkBytes + 1, e.chunks.size());
  for (uint64_t i = begin / kCkptChunkBytes; i < last; ++i)
    e.chunks[static_cast<size_t>(i)].valid = false;
  if (e.raw_size <= kCkptProbeAbove) {
    e.probe = -1;
    return;
  }
  uint64_t starts[3];
  const uint64_t slice = probe_slices(e.raw_size, starts);
  for (uint64_t start : starts)
    if (begin < start + slice && start < end) e.probe = -1;
}

uint64_t ChunkCache::kept_bytes() const {
  uint64_t n = 0;
  for (const auto& e : impl_->entries)
    for (const Impl::Chunk& k : e.second.chunks) n += k.bytes.size();
  return n;
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::none:
      return "none";
    case Compression::zlib:
      return "zlib";
  }
  return "?";
}

std::string tensor_name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > kCkptMaxNameBytes)
    return quoted(name.substr(0, 40)) + "... is longer than " + std::to_string(kCkptMaxNameBytes) +
           " bytes";
  if (name == "__metadata__") return "'__metadata__' is reserved";
  for (char c : name)
    if (!is_name_char(c) && c != '/')
      return quoted(name) + " has a character other than letters, digits, _ - . /";
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    const std::string part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..")
      return quoted(name) + " has an empty, '.' or '..' path component";
    start = slash + 1;
  }
  return "";
}

Status encode_checkpoint(const CheckpointMeta& meta, const TensorList& tensors,
                         int compression_level, std::vector<uint8_t>* out, ChunkCache* cache) {
  Status s = check_encodable(meta, tensors, compression_level);
  if (!s.ok()) return s;

  std::vector<StoredTensor> stored;
  stored.reserve(tensors.size());
  std::unique_ptr<DeflateStream> own;  // without a cache, one stream for this file
  if (!cache) own = std::make_unique<DeflateStream>();
  DeflateStream& z = cache ? cache->impl_->probes : *own;
  for (const TensorRef& t : tensors) {
    ChunkEntry* tracked = nullptr;
    if (cache) {
      const auto it = cache->impl_->entries.find(t.name);
      if (it != cache->impl_->entries.end()) tracked = &it->second;
    }
    stored.push_back(tracked ? store_chunked(t, compression_level, *cache->impl_, *tracked)
                             : store(t, compression_level, z));
  }

  // The header's length does not depend on the offsets' values, so it comes first and the
  // offsets follow from it.
  uint64_t header_len = 8 * 4 + 4 * 4 + meta.model_name.size() + meta.checkpoint_uid.size() +
                        meta.edgerl_version.size() + meta.config_ini.size() + 4;
  for (const TensorRef& t : tensors) header_len += 4 + t.name.size() + 4 + 8 * t.shape.size() + 32;
  if (header_len > kCkptMaxHeaderBytes)
    return Status::invalid_argument("header of " + std::to_string(header_len) +
                                    " bytes is larger than " + std::to_string(kCkptMaxHeaderBytes));

  std::vector<uint64_t> offsets(tensors.size());
  uint64_t pos = align_up(kPreambleSize + header_len);
  for (size_t i = 0; i < tensors.size(); ++i) {
    offsets[i] = pos;
    pos = align_up(pos + stored[i].stored_size());
  }
  const uint64_t file_size = pos + kTrailerSize;

  std::vector<uint8_t> header;
  header.reserve(header_len);
  ByteWriter h(&header);
  h.i64(meta.timestep);
  h.i64(meta.eval_step);
  h.f64(meta.episode_return);
  h.i64(meta.wall_time_ms);
  h.str(meta.model_name);
  h.str(meta.checkpoint_uid);
  h.str(meta.edgerl_version);
  h.str(meta.config_ini);
  h.u32(static_cast<uint32_t>(tensors.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRef& t = tensors[i];
    h.str(t.name);
    h.u8(static_cast<uint8_t>(t.dtype));
    h.u8(static_cast<uint8_t>(stored[i].compression));
    h.u8(static_cast<uint8_t>(t.shape.size()));
    h.u8(0);
    for (uint64_t d : t.shape) h.u64(d);
    h.u64(offsets[i]);
    h.u64(stored[i].stored_size());
    h.u64(stored[i].raw_size);
    h.u32(stored[i].crc);
    h.u32(stored[i].stored_crc);
  }

  // Every byte is written below, tensors or zero padding: a reused buffer is not cleared
  // first (that would double the memory traffic of a large file).
  out->resize(file_size);
  std::vector<uint8_t> preamble;
  ByteWriter p(&preamble);
  p.bytes(kCkptMagic, 8);
  p.u16(kCkptMajor);
  p.u16(kCkptMinor);
  p.u32(0);
  p.u64(header_len);
  const uint32_t header_crc = crc32_of(crc32_of(0, preamble.data(), 24), header.data(), header_len);
  p.u32(header_crc);
  p.u32(0);
  std::memcpy(out->data(), preamble.data(), kPreambleSize);
  std::memcpy(out->data() + kPreambleSize, header.data(), header_len);
  uint64_t end = kPreambleSize + header_len;  // of what was written so far

  for (size_t i = 0; i < tensors.size(); ++i) {
    const StoredTensor& st = stored[i];
    std::memset(out->data() + end, 0, offsets[i] - end);
    end = offsets[i] + st.stored_size();
    if (st.chunks) {
      write_chunked(st, static_cast<const uint8_t*>(tensors[i].data), out->data() + offsets[i]);
      continue;
    }
    const void* src = st.compression == Compression::zlib
                          ? static_cast<const void*>(st.compressed.data())
                          : tensors[i].data;
    if (st.stored_size()) std::memcpy(out->data() + offsets[i], src, st.stored_size());
  }
  std::memset(out->data() + end, 0, file_size - kTrailerSize - end);

  std::vector<uint8_t> trailer;
  ByteWriter t(&trailer);
  t.bytes(kTrailerMagic, 8);
  t.u64(file_size);
  t.u32(header_crc);
  t.u32(crc32_of(0, trailer.data(), 20));
  std::memcpy(out->data() + file_size - kTrailerSize, trailer.data(), kTrailerSize);
  return Status();
}

// ---- decoding -----------------------------------------------------------------------------

namespace {

// Reads little-endian fields from a byte range; every read is bounds-checked and a failure
// sticks, so a parser can read a whole record and check once.
class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return n_ - pos_; }
  size_t pos() const { return pos_; }

  uint64_t le(int bytes) {
    if (!take(bytes)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p_[pos_ - bytes + i]) << (8 * i);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  int64_t i64() { return static_cast<int64_t>(le(8)); }
  double f64() {
    const uint64_t bits = le(8);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  // A u32-length string of at most `max` bytes.
  bool str(std::string* out, size_t max) {
    const uint32_t len = u32();
    if (!ok_ || len > max || len > remaining()) return ok_ = false;
    out->assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }

 private:
  bool take(size_t bytes) {
    if (!ok_ || bytes > remaining()) return ok_ = false;
    pos_ += bytes;
    return true;
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The smallest possible tensor record: empty name, rank 0.
constexpr size_t kMinRecordBytes = 4 + 4 + 8 * 3 + 4 + 4;

Status parse_record(ByteReader& r, size_t index, TensorRecord* rec) {
  const std::string where = "tensor " + std::to_string(index);
  if (!r.str(&rec->name, kCkptMaxNameBytes))
    return Status::corruption(where + ": name runs past the header or is too long");
  const std::string problem = tensor_name_problem(rec->name);
  if (!problem.empty()) return Status::corruption(where + ": name " + problem);
  const std::string who = "tensor " + quoted(rec->name);
  const uint8_t dtype = r.u8(), compression = r.u8(), rank = r.u8(), reserved = r.u8();
  if (!r.ok()) return Status::corruption(who + ": record runs past the header");
  if (!valid_dtype(dtype))
    return Status::corruption(who + ": unknown dtype " + std::to_string(dtype));
  if (compression > static_cast<uint8_t>(Compression::zlib))
    return Status::corruption(who + ": unknown compression " + std::to_string(compression));
  if (rank > kCkptMaxRank)
    return Status::corruption(who + ": rank " + std::to_string(rank) + " is more than " +
                              std::to_string(kCkptMaxRank));
  if (reserved != 0) return Status::corruption(who + ": reserved byte is not zero");
  if (static_cast<size_t>(rank) * 8 + 32 > r.remaining())
    return Status::corruption(who + ": record runs past the header");
  rec->dtype = static_cast<DType>(dtype);
  rec->compression = static_cast<Compression>(compression);
  rec->shape.resize(rank);
  for (uint64_t& d : rec->shape) d = r.u64();
  rec->offset = r.u64();
  rec->stored_size = r.u64();
  rec->raw_size = r.u64();
  rec->crc32 = r.u32();
  rec->stored_crc32 = r.u32();
  uint64_t raw = 0;
  if (!checked_raw_size(rec->shape, rec->dtype, &raw))
    return Status::corruption(who + ": shape " + shape_string(rec->shape) + " overflows");
  if (raw != rec->raw_size)
    return Status::corruption(who + ": shape " + shape_string(rec->shape) + " of " +
                              dtype_name(rec->dtype) + " is " + std::to_string(raw) +
                              " bytes but raw_size says " + std::to_string(rec->raw_size));
  return Status();
}

// Checks a record's place and sizes against the canonical layout and the file size.
Status check_layout(const TensorRecord& rec, uint64_t expected_offset, uint64_t file_size) {
  const std::string who = "tensor " + quoted(rec.name);
  if (rec.offset != expected_offset)
    return Status::corruption(who + ": offset " + std::to_string(rec.offset) + " should be " +
                              std::to_string(expected_offset));
  if (rec.stored_size > file_size || rec.offset > file_size - rec.stored_size)
    return Status::corruption(who + ": " + std::to_string(rec.stored_size) + " bytes at offset " +
                              std::to_string(rec.offset) + " run past the end of the " +
                              std::to_string(file_size) + "-byte file (truncated?)");
  if (rec.compression == Compression::none && rec.stored_size != rec.raw_size)
    return Status::corruption(who + ": stored raw but stored_size " +
                              std::to_string(rec.stored_size) + " differs from raw_size " +
                              std::to_string(rec.raw_size));
  if (rec.compression == Compression::none && rec.stored_crc32 != rec.crc32)
    return Status::corruption(who + ": stored raw but its two CRCs differ");
  if (rec.compression == Compression::zlib &&
      (rec.stored_size == 0 || rec.raw_size == 0 ||
       (rec.raw_size > 64 && (rec.raw_size - 65) / kMaxDeflateRatio >= rec.stored_size)))
    return Status::corruption(who + ": " + std::to_string(rec.stored_size) +
                              " compressed bytes cannot hold raw_size " +
                              std::to_string(rec.raw_size));
  return Status();
}

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

Status check_crc(const TensorRecord& rec, uint32_t crc) {
  if (crc == rec.crc32) return Status();
  return Status::corruption("tensor " + quoted(rec.name) + ": CRC mismatch (stored " +
                            hex32(rec.crc32) + ", data " + hex32(crc) + ")");
}

// Inflates the zlib stream of `rec`, read from the file in chunks, into dst (or into a
// scratch chunk when dst is null) and returns the CRC-32 of the output.
Status inflate_tensor(const RandomAccessFile& file, const TensorRecord& rec, uint8_t* dst,
                      uint32_t* crc) {
  const std::string who = "tensor " + quoted(rec.name);
  z_stream z{};
  if (::inflateInit(&z) != Z_OK) return Status::io_error(who + ": zlib failed to start");
  std::vector<uint8_t> in(static_cast<size_t>(std::min<uint64_t>(rec.stored_size, kChunk)));
  std::vector<uint8_t> scratch(dst ? 0
                                   : static_cast<size_t>(std::min<uint64_t>(rec.raw_size, kChunk)));
  uint64_t read = 0, produced = 0;
  uint32_t c = 0, stored_crc = 0;
  uint8_t extra = 0;  // output room past raw_size: anything written here is too much
  int rc = Z_OK;
  Status s;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0 && read < rec.stored_size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(rec.stored_size - read, in.size()));
      s = file.read(rec.offset + read, n, in.data());
      if (!s.ok()) break;
      stored_crc = crc32_of(stored_crc, in.data(), n);
      read += n;
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(n);
    }
    uint8_t* out = scratch.data();
    uint64_t room = scratch.size();
    if (dst) {
      out = dst + produced;
      room = rec.raw_size - produced;
    }
    if (room == 0) {
      out = &extra;
      room = 1;
    }
    z.next_out = out;
    z.avail_out = static_cast<uInt>(std::min<uint64_t>(room, UINT_MAX));
    rc = ::inflate(&z, Z_NO_FLUSH);
    const size_t got = static_cast<size_t>(z.next_out - out);
    produced += got;
    if (produced > rec.raw_size) {
      s = Status::corruption(who + ": decompresses to more than raw_size " +
                             std::to_string(rec.raw_size));
      break;
    }
    c = crc32_of(c, out, got);
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && read == rec.stored_size) {
      s = Status::corruption(who + ": compressed data ends early");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
      s = Status::corruption(who + ": bad compressed data (" + (z.msg ? z.msg : "zlib error") +
                             ")");
      break;
    }
  }
  const uInt left_in = z.avail_in;
  ::inflateEnd(&z);
  if (!s.ok()) return s;
  if (produced != rec.raw_size)
    return Status::corruption(who + ": decompresses to " + std::to_string(produced) +
                              " bytes, not raw_size " + std::to_string(rec.raw_size));
  if (left_in != 0 || read != rec.stored_size)
    return Status::corruption(who + ": bytes after the end of the compressed data");
  if (stored_crc != rec.stored_crc32)
    return Status::corruption(who + ": CRC mismatch of the compressed bytes (stored " +
                              hex32(rec.stored_crc32) + ", data " + hex32(stored_crc) + ")");
  *crc = c;
  return Status();
}

}  // namespace

Status read_checkpoint_info(const RandomAccessFile& file, CheckpointInfo* out) {
  const uint64_t size = file.size();
  if (size < kPreambleSize + kTrailerSize)
    return Status::corruption("not an edgerl checkpoint: only " + std::to_string(size) + " bytes");
  uint8_t pre[kPreambleSize];
  Status s = file.read(0, kPreambleSize, pre);
  if (!s.ok()) return s;
  if (std::memcmp(pre, kCkptMagic, 8) != 0)
    return Status::corruption("not an edgerl checkpoint (the file does not start with EDGERLCK)");
  ByteReader p(pre + 8, kPreambleSize - 8);
  const uint16_t major = p.u16(), minor = p.u16();
  const uint32_t flags = p.u32();
  const uint64_t header_len = p.u64();
  const uint32_t header_crc = p.u32(), reserved = p.u32();
  const std::string version = std::to_string(major) + "." + std::to_string(minor);
  if (major > kCkptMajor)
    return Status::unsupported("format version " + version + " is newer than this edgerl reads (" +
                               std::to_string(kCkptMajor) + ".x); use a newer edgerl");
  if (major < 1) return Status::corruption("unknown format version " + version);
  if (flags != 0 || reserved != 0)
    return Status::corruption("unknown flags " + hex32(flags) + " in a " + version + " file");

  uint8_t tail[kTrailerSize];
  s = file.read(size - kTrailerSize, kTrailerSize, tail);
  if (!s.ok()) return s;
  ByteReader t(tail + 8, kTrailerSize - 8);
  const uint64_t trailer_size = t.u64();
  const uint32_t trailer_header_crc = t.u32(), trailer_crc = t.u32();
  if (std::memcmp(tail, kTrailerMagic, 8) != 0 || trailer_crc != crc32_of(0, tail, 20))
    return Status::corruption("truncated or damaged: no valid trailer at the end of the " +
                              std::to_string(size) + "-byte file");
  if (trailer_size != size)
    return Status::corruption("truncated or extended: the file is " + std::to_string(size) +
                              " bytes but its trailer says " + std::to_string(trailer_size));
  if (trailer_header_crc != header_crc)
    return Status::corruption("the trailer does not belong to this header (header CRC " +
                              hex32(header_crc) + ", trailer says " + hex32(trailer_header_crc) +
                              ")");
  if (header_len > kCkptMaxHeaderBytes || header_len > size - kPreambleSize - kTrailerSize)
    return Status::corruption("header length " + std::to_string(header_len) + " does not fit the " +
                              std::to_string(size) + "-byte file");

  const uint64_t data_start = align_up(kPreambleSize + header_len);
  if (data_start > size - kTrailerSize)
    return Status::corruption("header padding runs past the end of the file");
  std::vector<uint8_t> header(static_cast<size_t>(data_start - kPreambleSize));
  s = file.read(kPreambleSize, header.size(), header.data());
  if (!s.ok()) return s;
  if (crc32_of(crc32_of(0, pre, 24), header.data(), header_len) != header_crc)
    return Status::corruption("header CRC mismatch (the header is damaged)");
  if (!all_zero(header.data() + header_len, header.size() - header_len))
    return Status::corruption("padding after the header is not zero");

  CheckpointInfo info;
  info.major = major;
  info.minor = minor;
  info.file_size = size;
  ByteReader r(header.data(), static_cast<size_t>(header_len));
  CheckpointMeta& m = info.meta;
  m.timestep = r.i64();
  m.eval_step = r.i64();
  m.episode_return = r.f64();
  m.wall_time_ms = r.i64();
  if (!r.str(&m.model_name, kCkptMaxLabelBytes) || !r.str(&m.checkpoint_uid, kCkptMaxLabelBytes) ||
      !r.str(&m.edgerl_version, kCkptMaxLabelBytes) || !r.str(&m.config_ini, header_len))
    return Status::corruption("metadata runs past the header or a field is too long");
  const uint32_t count = r.u32();
  if (!r.ok() || count > r.remaining() / kMinRecordBytes)
    return Status::corruption("tensor count " + std::to_string(count) + " does not fit the header");
  info.tensors.resize(count);
  std::set<std::string> names;
  uint64_t expected_offset = data_start;
  for (uint32_t i = 0; i < count; ++i) {
    TensorRecord& rec = info.tensors[i];
    s = parse_record(r, i, &rec);
    if (!s.ok()) return s;
    if (!names.insert(rec.name).second)
      return Status::corruption("tensor " + quoted(rec.name) + " appears twice");
    s = check_layout(rec, expected_offset, size);
    if (!s.ok()) return s;
    expected_offset = align_up(rec.offset + rec.stored_size);
  }
  if (r.remaining() != 0 && minor <= kCkptMinor)
    return Status::corruption(std::to_string(r.remaining()) +
                              " unexpected bytes after the tensor table");
  if (expected_offset + kTrailerSize != size)
    return Status::corruption("the tensors end at " + std::to_string(expected_offset) +
                              " but the trailer starts at " + std::to_string(size - kTrailerSize));
  *out = std::move(info);
  return Status();
}

Status read_tensor_data(const RandomAccessFile& file, const TensorRecord& rec, void* dst) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  uint32_t crc = 0;
  Status s;
  if (rec.compression == Compression::zlib) {
    s = inflate_tensor(file, rec, out, &crc);
  } else if (out) {
    s = file.read(rec.offset, static_cast<size_t>(rec.stored_size), out);
    crc = crc32_of(0, out, static_cast<size_t>(rec.stored_size));
  } else {
    std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(rec.stored_size, kChunk)));
    for (uint64_t done = 0; s.ok() && done < rec.stored_size;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(rec.stored_size - done, buf.size()));
      s = file.read(rec.offset + done, n, buf.data());
      crc = crc32_of(crc, buf.data(), n);
      done += n;
    }
  }
  if (!s.ok()) return s;
  s = check_crc(rec, crc);
  if (!s.ok()) return s;
  const uint64_t end = rec.offset + rec.stored_size;
  uint8_t pad[kCkptAlign];
  const size_t pad_len = static_cast<size_t>(align_up(end) - end);
  s = file.read(end, pad_len, pad);
  if (!s.ok()) return s;
  if (!all_zero(pad, pad_len))
    return Status::corruption("padding after tensor " + quoted(rec.name) + " is not zero");
  return Status();
}

Status verify_checkpoint(const RandomAccessFile& file, CheckpointInfo* out) {
  CheckpointInfo info;
  Status s = read_checkpoint_info(file, &info);
  for (size_t i = 0; s.ok() && i < info.tensors.size(); ++i)
    s = read_tensor_data(file, info.tensors[i], nullptr);
  if (s.ok() && out) *out = std::move(info);
  return s;
}

Status read_checkpoint(const RandomAccessFile& file, CheckpointInfo* info,
                       std::vector<Tensor>* tensors) {
  CheckpointInfo got;
  Status s = read_checkpoint_info(file, &got);
  if (!s.ok()) return s;
  std::vector<Tensor> out(got.tensors.size());
  for (size_t i = 0; i < got.tensors.size(); ++i) {
    const TensorRecord& rec = got.tensors[i];
    out[i].name = rec.name;
    out[i].dtype = rec.dtype;
    out[i].shape = rec.shape;
    // A 32-bit size_t cannot hold every raw_size the format allows: refuse rather than
    // truncate the buffer that read_tensor_data then fills with raw_size bytes.
    if (rec.raw_size > SIZE_MAX / 2)
      return Status::invalid_argument("tensor " + quoted(rec.name) + ": " +
                                      std::to_string(rec.raw_size) +
                                      " bytes are more than this host can hold in memory");
    out[i].bytes.resize(static_cast<size_t>(rec.raw_size));
    s = read_tensor_data(file, rec, out[i].bytes.data());
    if (!s.ok()) return s;
  }
  if (info) *info = std::move(got);
  *tensors = std::move(out);
  return Status();
}

TensorList tensor_refs(std::vector<Tensor>& tensors) {
  TensorList refs;
  refs.reserve(tensors.size());
  for (Tensor& t : tensors) refs.push_back(TensorRef{t.name, t.dtype, t.shape, t.bytes.data()});
  return refs;
}

}  // namespace edgerl
