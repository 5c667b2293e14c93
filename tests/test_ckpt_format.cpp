// The checkpoint format: exact round trips, deterministic bytes, the layout the spec promises,
// and a reader that refuses every kind of damage with one clear message and no crash.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "ckpt_test_util.hpp"
#include "edgerl/ckpt_format.hpp"

using namespace edgerl;
using namespace edgerl::test;

namespace {

bool same_tensors(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].dtype != b[i].dtype || a[i].shape != b[i].shape ||
        a[i].bytes != b[i].bytes)
      return false;
  return true;
}

bool same_meta(const CheckpointMeta& a, const CheckpointMeta& b) {
  return a.timestep == b.timestep && a.eval_step == b.eval_step &&
         std::memcmp(&a.episode_return, &b.episode_return, 8) == 0 &&
         a.wall_time_ms == b.wall_time_ms && a.model_name == b.model_name &&
         a.checkpoint_uid == b.checkpoint_uid && a.edgerl_version == b.edgerl_version &&
         a.config_ini == b.config_ini;
}

// A file of two small raw tensors and one compressible one, used by the damage tests.
std::vector<uint8_t> small_file(int level = 6) {
  std::vector<Tensor> ts(3);
  ts[0] = {"actor/params", DType::f32, {2, 3}, std::vector<uint8_t>(24)};
  for (size_t i = 0; i < 24; ++i) ts[0].bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  ts[1] = {"rng/state", DType::u64, {6}, std::vector<uint8_t>(48, 0xab)};
  ts[2] = {"buffer/obs", DType::f64, {64}, std::vector<uint8_t>(512, 0)};
  return encode(sample_meta(), ts, level);
}

}  // namespace

TEST_CASE("ckpt format: round trip of random tensor sets of every dtype and rank") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<Tensor> ts = random_tensors(seed, 3 + seed % 11);
    for (int level : {0, 1, 6, 9}) {
      CAPTURE(seed);
      CAPTURE(level);
      const std::vector<uint8_t> bytes = encode(sample_meta(), ts, level);
      CHECK(bytes.size() % 8 == 0);
      CheckpointInfo info;
      std::vector<Tensor> back;
      REQUIRE(decode(bytes, &info, &back).ok());
      CHECK(same_tensors(ts, back));
      CHECK(same_meta(sample_meta(), info.meta));
      CHECK(info.major == kCkptMajor);
      CHECK(info.minor == kCkptMinor);
      CHECK(info.file_size == bytes.size());
      for (const TensorRecord& r : info.tensors) CHECK(r.offset % kCkptAlign == 0);
      // Re-saving what was read gives the same bytes.
      CHECK(encode(info.meta, back, level) == bytes);
    }
  }
}

TEST_CASE("ckpt format: equal input gives equal bytes, and the metadata is part of them") {
  std::vector<Tensor> ts = random_tensors(7, 9);
  CHECK(encode(sample_meta(), ts, 6) == encode(sample_meta(), ts, 6));
  CheckpointMeta later = sample_meta();
  later.wall_time_ms += 1;
  CHECK(encode(later, ts, 6) != encode(sample_meta(), ts, 6));
  // Into a reused buffer holding other bytes (a writer's, save after save): the same bytes.
  std::vector<uint8_t> reused(1 << 20, 0xaa);
  REQUIRE(encode_checkpoint(sample_meta(), tensor_refs(ts), 6, &reused).ok());
  CHECK(reused == encode(sample_meta(), ts, 6));
}

TEST_CASE("ckpt format: empty lists, empty tensors and scalars") {
  std::vector<Tensor> none;
  CheckpointInfo info;
  std::vector<Tensor> back;
  REQUIRE(decode(encode(sample_meta(), none, 6), &info, &back).ok());
  CHECK(back.empty());

  std::vector<Tensor> ts = {{"empty", DType::f32, {0}, {}},
                            {"empty3", DType::i64, {4, 0, 2}, {}},
                            {"scalar", DType::f64, {}, std::vector<uint8_t>(8, 0x40)}};
  REQUIRE(decode(encode(sample_meta(), ts, 9), &info, &back).ok());
  CHECK(same_tensors(ts, back));
  CHECK(info.tensors[0].stored_size == 0);
  CHECK(info.tensors[2].raw_size == 8);
}

TEST_CASE("ckpt format: compressible tensors are compressed, noise and small ones stay raw") {
  std::vector<Tensor> ts(3);
  ts[0] = {"zeros", DType::f32, {1024}, std::vector<uint8_t>(4096, 0)};
  ts[1] = {"noise", DType::u8, {4096}, std::vector<uint8_t>(4096)};
  Pcg64 rng(3);
  for (uint8_t& b : ts[1].bytes) b = static_cast<uint8_t>(rng.next_u64());
  ts[2] = {"small", DType::u8, {255}, std::vector<uint8_t>(255, 0)};
  CheckpointInfo info;
  std::vector<Tensor> back;
  REQUIRE(decode(encode(sample_meta(), ts, 6), &info, &back).ok());
  CHECK(info.tensors[0].compression == Compression::zlib);
  CHECK(info.tensors[0].stored_size < 100);
  CHECK(info.tensors[1].compression == Compression::none);
  CHECK(info.tensors[2].compression == Compression::none);
  REQUIRE(decode(encode(sample_meta(), ts, 0), &info, &back).ok());
  CHECK(info.tensors[0].compression == Compression::none);
  CHECK(same_tensors(ts, back));
}

TEST_CASE("ckpt format: only tensors that shrink by an eighth are compressed; large ones probed") {
  Pcg64 rng(11);
  auto floats = [&](size_t n) {
    std::vector<uint8_t> b(n * 4);
    for (size_t i = 0; i < n; ++i) {
      const float f = static_cast<float>(rng.normal() * 0.1);
      std::memcpy(&b[4 * i], &f, 4);
    }
    return b;
  };
  std::vector<Tensor> ts(5);
  ts[0] = {"weights_small", DType::f32, {4096}, floats(4096)};  // about 7% smaller: raw
  ts[1] = {"weights_large", DType::f32, {1 << 18}, floats(1 << 18)};
  // Half noise, half zeros (a replay buffer being filled): the probe sees the zeros.
  ts[2] = {"half_filled", DType::f32, {1 << 18}, floats(1 << 18)};
  std::fill(ts[2].bytes.begin() + (1 << 19), ts[2].bytes.end(), 0);
  ts[3] = {"counts", DType::i64, {1 << 15}, std::vector<uint8_t>(1 << 18)};
  for (size_t i = 0; i < ts[3].bytes.size(); i += 8) ts[3].bytes[i] = static_cast<uint8_t>(i >> 3);
  // Zeros only where the probe does not look: judged by the probe alone, it stays raw.
  ts[4] = {"zeros_unprobed", DType::f32, {1 << 18}, floats(1 << 18)};
  std::fill(ts[4].bytes.begin() + (1 << 17), ts[4].bytes.begin() + (7 << 16), 0);
  std::fill(ts[4].bytes.begin() + (9 << 16), ts[4].bytes.begin() + (7 << 17), 0);
  CheckpointInfo info;
  std::vector<Tensor> back;
  REQUIRE(decode(encode(sample_meta(), ts, 6), &info, &back).ok());
  CHECK(same_tensors(ts, back));
  CHECK(info.tensors[0].compression == Compression::none);
  CHECK(info.tensors[1].compression == Compression::none);
  CHECK(info.tensors[2].compression == Compression::zlib);
  CHECK(info.tensors[2].stored_size < info.tensors[2].raw_size * 6 / 10);
  CHECK(info.tensors[3].compression == Compression::zlib);
  CHECK(info.tensors[3].stored_size < info.tensors[3].raw_size / 20);
  CHECK(info.tensors[4].compression == Compression::none);
}

namespace {

std::vector<uint8_t> encode_with(const CheckpointMeta& meta, std::vector<Tensor>& tensors,
                                 int level, ChunkCache* cache) {
  std::vector<uint8_t> out;
  const Status s = encode_checkpoint(meta, tensor_refs(tensors), level, &out, cache);
  if (!s.ok()) throw std::runtime_error(s.message());
  return out;
}

// A replay buffer's obs: rows of noise floats up to `filled`, zeros after.
Tensor ring_rows(const std::string& name, uint64_t rows, uint64_t filled, uint64_t seed) {
  Tensor t{name, DType::f32, {rows, 3}, std::vector<uint8_t>(rows * 12, 0)};
  Pcg64 rng(seed);
  for (uint64_t i = 0; i < filled * 3; ++i) {
    const float f = static_cast<float>(rng.normal());
    std::memcpy(&t.bytes[4 * i], &f, 4);
  }
  return t;
}

}  // namespace

TEST_CASE("ckpt format: tensors kept in chunks read back whole, as one zlib stream, any reader") {
  std::vector<Tensor> ts;
  ts.push_back(ring_rows("buffer/obs", 60000, 20000, 1));   // 11 chunks, a third noise
  ts.push_back(ring_rows("buffer/full", 30000, 30000, 2));  // noise only: stays raw
  ts.push_back({"buffer/terminated", DType::u8, {70000}, std::vector<uint8_t>(70000, 0)});
  ts.back().bytes[65534] = 1;  // at a chunk's last byte
  ts.push_back({"buffer/small", DType::u8, {100}, std::vector<uint8_t>(100, 0)});
  ts.push_back({"buffer/empty", DType::f32, {0, 3}, {}});
  ts.push_back(ring_rows("untracked", 30000, 0, 3));
  for (int level : {6, 1, 9, 0}) {
    CAPTURE(level);
    ChunkCache cache;
    for (size_t i = 0; i + 1 < ts.size(); ++i) cache.track(ts[i].name);
    const std::vector<uint8_t> file = encode_with(sample_meta(), ts, level, &cache);
    CheckpointInfo info;
    std::vector<Tensor> back;
    REQUIRE(decode(file, &info, &back).ok());
    CHECK(same_tensors(ts, back));
    const bool z = level > 0;
    CHECK((info.tensors[0].compression == Compression::zlib) == z);
    CHECK(info.tensors[1].compression == Compression::none);
    CHECK((info.tensors[2].compression == Compression::zlib) == z);
    CHECK(info.tensors[3].compression == Compression::none);
    CHECK(info.tensors[4].compression == Compression::none);
    for (size_t i = 0; i < ts.size(); ++i) {
      const TensorRecord& rec = info.tensors[i];
      CHECK(rec.crc32 == ::crc32(0, ts[i].bytes.data(), static_cast<uInt>(ts[i].bytes.size())));
      CHECK(rec.stored_crc32 == ::crc32(0, file.data() + rec.offset, rec.stored_size));
      if (rec.compression != Compression::zlib) continue;
      // zlib's own one-shot inflate, as a reader of format 1.0 that knows nothing of chunks.
      std::vector<uint8_t> raw(rec.raw_size);
      uLongf n = static_cast<uLongf>(raw.size());
      REQUIRE(::uncompress(raw.data(), &n, file.data() + rec.offset,
                           static_cast<uLong>(rec.stored_size)) == Z_OK);
      CHECK(n == rec.raw_size);
      CHECK(raw == ts[i].bytes);
    }
    if (!z) continue;
    CHECK(info.tensors[0].stored_size < info.tensors[0].raw_size / 2);
    CHECK(info.tensors[2].stored_size < 1000);
    CHECK(cache.kept_bytes() > 0);
  }
}

TEST_CASE(
    "ckpt format: only chunks reported changed are deflated again; the bytes do not depend "
    "on the cache") {
  std::vector<Tensor> ts;
  ts.push_back(ring_rows("buffer/obs", 50000, 0, 4));
  ts.push_back({"counters/step", DType::i64, {}, std::vector<uint8_t>(8, 0)});
  ChunkCache cache;
  cache.track("buffer/obs");
  encode_with(sample_meta(), ts, 6, &cache);
  Pcg64 rng(5), noise(6);
  uint64_t pos = 0;
  for (int round = 0; round < 12; ++round) {
    CAPTURE(round);
    // Rows written in ring order, sometimes wrapping, once more than the whole ring.
    const uint64_t rows = round == 7 ? 60000 : rng.below(9000);
    for (uint64_t r = 0; r < rows; ++r, pos = (pos + 1) % 50000)
      for (int d = 0; d < 3; ++d) {
        const float f = static_cast<float>(noise.normal());
        std::memcpy(&ts[0].bytes[pos * 12 + 4 * d], &f, 4);
      }
    const uint64_t first = (pos + 50000 - std::min<uint64_t>(rows, 50000)) % 50000;
    const uint64_t count = std::min<uint64_t>(rows, 50000);
    cache.changed("buffer/obs", first * 12, std::min<uint64_t>(first + count, 50000) * 12);
    if (first + count > 50000) cache.changed("buffer/obs", 0, (first + count - 50000) * 12);
    ts[1].bytes[0] = static_cast<uint8_t>(round);
    ChunkCache fresh;
    fresh.track("buffer/obs");
    const std::vector<uint8_t> file = encode_with(sample_meta(), ts, 6, &cache);
    CHECK(file == encode_with(sample_meta(), ts, 6, &fresh));
    std::vector<Tensor> back;
    REQUIRE(decode(file, nullptr, &back).ok());
    CHECK(same_tensors(ts, back));
  }
  // A change not reported is not seen: a deflated chunk's kept bytes and CRCs are used as
  // they are (this is the work the cache saves).
  std::fill(ts[0].bytes.begin(), ts[0].bytes.begin() + 3 * kCkptChunkBytes, 0);
  cache.changed("buffer/obs", 0, 3 * kCkptChunkBytes);
  const std::vector<uint8_t> before = encode_with(sample_meta(), ts, 6, &cache);
  ts[0].bytes[kCkptChunkBytes + 100] = 1;
  CHECK(encode_with(sample_meta(), ts, 6, &cache) == before);
  cache.changed("buffer/obs", kCkptChunkBytes + 100, kCkptChunkBytes + 101);
  const std::vector<uint8_t> after = encode_with(sample_meta(), ts, 6, &cache);
  CHECK(after != before);
  std::vector<Tensor> back;
  REQUIRE(decode(after, nullptr, &back).ok());
  CHECK(same_tensors(ts, back));
  // Forgotten, the tensor is encoded whole again.
  cache.forget("buffer/obs");
  CHECK(encode_with(sample_meta(), ts, 6, &cache) == encode(sample_meta(), ts, 6));
  CHECK(cache.kept_bytes() == 0);
}

TEST_CASE("ckpt format: NaN and infinite returns keep their exact bits") {
  std::vector<Tensor> none;
  for (double r :
       {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::infinity(), -0.0}) {
    CheckpointMeta m = sample_meta();
    m.episode_return = r;
    CheckpointInfo info;
    std::vector<Tensor> back;
    REQUIRE(decode(encode(m, none, 0), &info, &back).ok());
    CHECK(std::memcmp(&info.meta.episode_return, &r, 8) == 0);
  }
}

// An independent writer of the bytes docs/checkpoint-format.md describes, for one raw tensor:
// if the encoder and this disagree, either the code or the spec changed.
TEST_CASE("ckpt format: bytes follow the documented layout exactly") {
  std::vector<Tensor> ts = {{"w", DType::i32, {2}, {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}}};
  CheckpointMeta m;
  m.timestep = 7;
  m.eval_step = -1;
  m.episode_return = 1.5;
  m.wall_time_ms = 258;
  m.model_name = "m";
  m.checkpoint_uid = "u1";
  m.edgerl_version = "v";
  m.config_ini = "a=1\n";

  std::vector<uint8_t> hdr;
  auto le = [](std::vector<uint8_t>& v, uint64_t x, int n) {
    for (int i = 0; i < n; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
  };
  auto str = [&](std::vector<uint8_t>& v, const std::string& s) {
    le(v, s.size(), 4);
    v.insert(v.end(), s.begin(), s.end());
  };
  le(hdr, 7, 8);
  le(hdr, static_cast<uint64_t>(-1), 8);
  le(hdr, 0x3ff8000000000000ull, 8);  // 1.5
  le(hdr, 258, 8);
  str(hdr, "m");
  str(hdr, "u1");
  str(hdr, "v");
  str(hdr, "a=1\n");
  le(hdr, 1, 4);
  str(hdr, "w");
  hdr.insert(hdr.end(), {2 /*i32*/, 0 /*raw*/, 1 /*rank*/, 0});
  le(hdr, 2, 8);
  le(hdr, 192, 8);  // 32 + 109 header bytes, rounded up to 64
  le(hdr, 8, 8);
  le(hdr, 8, 8);
  le(hdr, ::crc32(0, ts[0].bytes.data(), 8), 4);  // raw and stored bytes: the same
  le(hdr, ::crc32(0, ts[0].bytes.data(), 8), 4);
  REQUIRE(hdr.size() == 109);

  std::vector<uint8_t> want = {'E', 'D', 'G', 'E', 'R', 'L', 'C', 'K', 1, 0, 0, 0, 0, 0, 0, 0};
  le(want, hdr.size(), 8);
  const uint32_t hcrc = static_cast<uint32_t>(
      ::crc32(::crc32(0, want.data(), 24), hdr.data(), static_cast<uInt>(hdr.size())));
  le(want, hcrc, 4);
  le(want, 0, 4);
  want.insert(want.end(), hdr.begin(), hdr.end());
  want.resize(192, 0);
  want.insert(want.end(), ts[0].bytes.begin(), ts[0].bytes.end());
  want.resize(256, 0);
  const std::vector<uint8_t> magic = {'E', 'D', 'G', 'E', 'R', 'L', 'N', 'D'};
  want.insert(want.end(), magic.begin(), magic.end());
  le(want, 280, 8);
  le(want, hcrc, 4);
  le(want, ::crc32(0, want.data() + 256, 20), 4);

  CHECK(encode(m, ts, 6) == want);
}

TEST_CASE("ckpt format: the writer refuses bad names, duplicates, ranks and levels") {
  for (const char* bad : {"", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a b", "a\\b", "a\"b",
                          "__metadata__", "caf\xc3\xa9"}) {
    CAPTURE(bad);
    CHECK(!tensor_name_problem(bad).empty());
    std::vector<uint8_t> out;
    float x = 1;
    CHECK(encode_checkpoint(sample_meta(), {tensor_ref(bad, &x, {1})}, 0, &out).code() ==
          Status::Code::invalid_argument);
  }
  CHECK(!tensor_name_problem(std::string(257, 'a')).empty());
  for (const char* good : {"a", "actor/params", "opt/actor/m", "env.0/state_x-1", "..a/b.."})
    CHECK(tensor_name_problem(good).empty());

  float x[2] = {1, 2};
  std::vector<uint8_t> out;
  CHECK(encode_checkpoint(sample_meta(), {tensor_ref("a", x, {1}), tensor_ref("a", x + 1, {1})}, 0,
                          &out)
            .message() == "tensor 'a' appears twice");
  CHECK(
      !encode_checkpoint(sample_meta(), {tensor_ref("a", x, std::vector<uint64_t>(33, 1))}, 0, &out)
           .ok());
  CHECK(!encode_checkpoint(sample_meta(), {tensor_ref("a", x, {1ull << 62, 8})}, 0, &out).ok());
  CHECK(!encode_checkpoint(sample_meta(), {tensor_ref<float>("a", nullptr, {2})}, 0, &out).ok());
  CHECK(!encode_checkpoint(sample_meta(), {}, 10, &out).ok());
  CHECK(!encode_checkpoint(sample_meta(), {}, -1, &out).ok());
}

TEST_CASE("ckpt format: truncation at every length is detected") {
  const std::vector<uint8_t> full = small_file();
  REQUIRE(verify_bytes(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
    const Status s = verify_bytes(cut);
    CAPTURE(n);
    REQUIRE(!s.ok());
    CHECK(s.code() == Status::Code::corruption);
  }
  std::vector<uint8_t> longer = full;
  longer.push_back(0);
  CHECK(!verify_bytes(longer).ok());
}

TEST_CASE("ckpt format: every single flipped bit is detected") {
  for (int level : {0, 6}) {
    const std::vector<uint8_t> full = small_file(level);
    for (size_t byte = 0; byte < full.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<uint8_t> bad = full;
        bad[byte] ^= static_cast<uint8_t>(1u << bit);
        CAPTURE(level);
        CAPTURE(byte);
        CAPTURE(bit);
        REQUIRE(!verify_bytes(bad).ok());
      }
    }
  }
}

TEST_CASE("ckpt format: a newer major version is refused with a clear message") {
  std::vector<uint8_t> f = small_file();
  put_le(f, 8, 2, 2);
  refresh_crcs(f);
  const Status s = verify_bytes(f);
  CHECK(s.code() == Status::Code::unsupported);
  CHECK(s.message() ==
        "format version 2.0 is newer than this edgerl reads (1.x); use a newer edgerl");
  put_le(f, 8, 0, 2);
  refresh_crcs(f);
  CHECK(verify_bytes(f).message() == "unknown format version 0.0");
}

TEST_CASE("ckpt format: a newer minor version is read, skipping fields it appends") {
  std::vector<Tensor> none;
  std::vector<uint8_t> f = encode(sample_meta(), none, 0);
  const uint64_t header_len = get_le(f, 16, 8);
  // Rebuild the file with minor 1 and four more header bytes, as a 1.1 writer might.
  std::vector<uint8_t> g(f.begin(), f.begin() + 32 + static_cast<long>(header_len));
  g.insert(g.end(), {9, 9, 9, 9});
  put_le(g, 10, 1, 2);
  put_le(g, 16, header_len + 4, 8);
  g.resize((g.size() + 63) / 64 * 64, 0);
  g.resize(g.size() + 24, 0);
  const std::vector<uint8_t> magic = {'E', 'D', 'G', 'E', 'R', 'L', 'N', 'D'};
  std::copy(magic.begin(), magic.end(), g.end() - 24);
  refresh_crcs(g);
  CheckpointInfo info;
  std::vector<Tensor> back;
  REQUIRE(decode(g, &info, &back).ok());
  CHECK(info.minor == 1);
  CHECK(same_meta(info.meta, sample_meta()));
  // The same bytes claiming minor 0 are refused: a 1.0 file has nothing after its table.
  put_le(g, 10, 0, 2);
  refresh_crcs(g);
  CHECK(decode(g, &info, &back).message() == "4 unexpected bytes after the tensor table");
}

TEST_CASE("ckpt format: forged fields behind valid CRCs are refused before any allocation") {
  const std::vector<uint8_t> good = small_file();
  struct Forgery {
    const char* what;
    size_t record;
    size_t RecordPos::*field;
    uint64_t value;
    int width;
    const char* message;
  };
  const Forgery forgeries[] = {
      {"huge shape", 0, &RecordPos::shape, 1ull << 61, 8, "overflows"},
      {"shape beyond the data", 0, &RecordPos::shape, 1ull << 40, 8, "raw_size says 24"},
      {"offset out of range", 1, &RecordPos::offset, 1ull << 40, 8, "should be"},
      {"offset inside the previous tensor", 1, &RecordPos::offset, 128, 8, "should be"},
      {"stored size past the end", 2, &RecordPos::stored_size, 1ull << 50, 8, "past the end"},
      {"raw size unlike the shape", 1, &RecordPos::raw_size, 47, 8, "raw_size says 47"},
      {"unknown dtype", 0, &RecordPos::dtype, 7, 1, "unknown dtype 7"},
      {"unknown compression", 0, &RecordPos::compression, 2, 1, "unknown compression 2"},
      {"rank too high", 0, &RecordPos::rank, 33, 1, "rank 33"},
      {"name too long", 0, &RecordPos::name_len, 1u << 30, 4, "name runs past"},
  };
  for (const Forgery& fg : forgeries) {
    CAPTURE(fg.what);
    std::vector<uint8_t> f = good;
    put_le(f, record_pos(f, fg.record).*fg.field, fg.value, fg.width);
    refresh_crcs(f);
    const Status s = verify_bytes(f);
    REQUIRE(!s.ok());
    CHECK(s.message().find(fg.message) != std::string::npos);
  }
}

TEST_CASE("ckpt format: forged counts, lengths and names are refused") {
  const std::vector<uint8_t> good = small_file();
  const size_t count_pos = record_pos(good, 0).name_len - 4;
  std::vector<uint8_t> f = good;
  put_le(f, count_pos, 0xffffffffu, 4);
  refresh_crcs(f);
  CHECK(verify_bytes(f).message() == "tensor count 4294967295 does not fit the header");

  f = good;
  put_le(f, 32 + 32, 0xfffffff0u, 4);  // model_name length
  refresh_crcs(f);
  CHECK(verify_bytes(f).message() == "metadata runs past the header or a field is too long");

  f = good;
  put_le(f, 16, 1ull << 40, 8);  // header_len
  refresh_crcs(f);
  CHECK(verify_bytes(f).message().find("header length") == 0);

  // Two tensors with the same name: rename the second to the first's (same length).
  std::vector<Tensor> ts = {{"ab", DType::u8, {1}, {1}}, {"cd", DType::u8, {1}, {2}}};
  f = encode(sample_meta(), ts, 0);
  const RecordPos r1 = record_pos(f, 1);
  f[r1.name] = 'a';
  f[r1.name + 1] = 'b';
  refresh_crcs(f);
  CHECK(verify_bytes(f).message() == "tensor 'ab' appears twice");

  f = encode(sample_meta(), ts, 0);
  f[record_pos(f, 0).name] = '/';
  refresh_crcs(f);
  CHECK(verify_bytes(f).message().find("tensor 0: name '/b'") == 0);
}

TEST_CASE("ckpt format: compressed data that lies about its size is refused") {
  // "buffer/obs" (record 2) is 512 zero bytes stored compressed.
  const std::vector<uint8_t> good = small_file();
  const RecordPos r = record_pos(good, 2);
  REQUIRE(good[r.compression] == 1);
  // Claiming fewer elements: the stream decompresses to more than raw_size.
  std::vector<uint8_t> f = good;
  put_le(f, r.shape, 63, 8);
  put_le(f, r.raw_size, 504, 8);
  refresh_crcs(f);
  CHECK(verify_bytes(f).message().find("decompresses to more than raw_size 504") !=
        std::string::npos);
  // Claiming more: the stream ends before raw_size.
  f = good;
  put_le(f, r.shape, 65, 8);
  put_le(f, r.raw_size, 520, 8);
  refresh_crcs(f);
  CHECK(verify_bytes(f).message().find("decompresses to 512 bytes, not raw_size 520") !=
        std::string::npos);
  // Claiming more than deflate can ever expand to is refused before inflating.
  f = good;
  const uint64_t stored = get_le(f, r.stored_size, 8);
  put_le(f, r.shape, stored * 1032 / 8 + 100, 8);
  put_le(f, r.raw_size, (stored * 1032 / 8 + 100) * 8, 8);
  refresh_crcs(f);
  CHECK(verify_bytes(f).message().find("compressed bytes cannot hold") != std::string::npos);
}

TEST_CASE("ckpt format: non-files and foreign files get one clear line") {
  CHECK(verify_bytes({}).message() == "not an edgerl checkpoint: only 0 bytes");
  std::vector<uint8_t> text(200, 'x');
  CHECK(verify_bytes(text).message() ==
        "not an edgerl checkpoint (the file does not start with EDGERLCK)");
  std::vector<uint8_t> f = small_file();
  f[f.size() - 1] ^= 1;
  CHECK(verify_bytes(f).message().find("truncated or damaged: no valid trailer") == 0);
  f = small_file();
  f[f.size() - 24 - 1] = 1;  // padding before the trailer
  CHECK(verify_bytes(f).message() == "padding after tensor 'buffer/obs' is not zero");
}
