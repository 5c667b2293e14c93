// Exports: .npz archives whose zip structure and .npy headers are what numpy writes, and
// safetensors files byte for byte as its spec describes. (tests/scripts/ckpt_cli.sh loads both
// in numpy when it is installed.)
#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "ckpt_test_util.hpp"
#include "edgerl/ckpt_export.hpp"

using namespace edgerl;
using namespace edgerl::test;

namespace {

struct ZipEntry {
  std::string name;
  std::vector<uint8_t> data;
};

// An independent walk over a stored-only zip: every local header, its CRC, the central
// directory and the end record must agree.
std::vector<ZipEntry> unzip(const std::vector<uint8_t>& z) {
  std::vector<ZipEntry> out;
  REQUIRE(z.size() >= 22);
  const size_t end = z.size() - 22;
  REQUIRE(get_le(z, end, 4) == 0x06054b50);
  const size_t count = get_le(z, end + 10, 2);
  const size_t cd_size = get_le(z, end + 12, 4), cd_off = get_le(z, end + 16, 4);
  REQUIRE(cd_off + cd_size == end);
  size_t pos = 0, cd = cd_off;
  for (size_t i = 0; i < count; ++i) {
    REQUIRE(get_le(z, pos, 4) == 0x04034b50);
    CHECK(get_le(z, pos + 8, 2) == 0);  // stored
    const uint32_t crc = static_cast<uint32_t>(get_le(z, pos + 14, 4));
    const size_t size = get_le(z, pos + 18, 4), name_len = get_le(z, pos + 26, 2);
    CHECK(get_le(z, pos + 22, 4) == size);
    ZipEntry e;
    e.name.assign(z.begin() + pos + 30, z.begin() + pos + 30 + name_len);
    const size_t data = pos + 30 + name_len + get_le(z, pos + 28, 2);
    e.data.assign(z.begin() + data, z.begin() + data + size);
    CHECK(::crc32(0, e.data.data(), static_cast<uInt>(size)) == crc);
    REQUIRE(get_le(z, cd, 4) == 0x02014b50);
    CHECK(get_le(z, cd + 16, 4) == crc);
    CHECK(get_le(z, cd + 42, 4) == pos);
    CHECK(std::string(z.begin() + cd + 46, z.begin() + cd + 46 + name_len) == e.name);
    cd += 46 + name_len;
    pos = data + size;
    out.push_back(std::move(e));
  }
  CHECK(pos == cd_off);
  CHECK(cd == end);
  return out;
}

std::string npy_header(const std::vector<uint8_t>& npy) {
  REQUIRE(npy.size() >= 10);
  CHECK(std::string(npy.begin(), npy.begin() + 8) == std::string("\x93NUMPY\x01\x00", 8));
  const size_t len = get_le(npy, 8, 2);
  CHECK((10 + len) % 64 == 0);
  return std::string(npy.begin() + 10, npy.begin() + 10 + static_cast<long>(len));
}

}  // namespace

TEST_CASE("ckpt export: npz holds one .npy per tensor with numpy's header and the raw bytes") {
  std::vector<Tensor> ts = {{"actor/params", DType::f32, {2, 3}, std::vector<uint8_t>(24, 1)},
                            {"rng/state", DType::u64, {6}, std::vector<uint8_t>(48, 2)},
                            {"step", DType::i64, {}, std::vector<uint8_t>(8, 3)},
                            {"flags", DType::u8, {0}, {}}};
  std::vector<uint8_t> z;
  REQUIRE(encode_npz(ts, &z).ok());
  const std::vector<ZipEntry> entries = unzip(z);
  REQUIRE(entries.size() == 4);
  const char* want[] = {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                        "{'descr': '<u8', 'fortran_order': False, 'shape': (6,), }",
                        "{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                        "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }"};
  for (size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(entries[i].name == ts[i].name + ".npy");
    const std::string h = npy_header(entries[i].data);
    CHECK(h.substr(0, h.find('}') + 1) == want[i]);
    CHECK(h.back() == '\n');
    CHECK(h.find_first_not_of(' ', h.find('}') + 1) == h.size() - 1);
    const std::vector<uint8_t> body(entries[i].data.begin() + 10 + static_cast<long>(h.size()),
                                    entries[i].data.end());
    CHECK(body == ts[i].bytes);
  }
  std::vector<uint8_t> again;
  REQUIRE(encode_npz(ts, &again).ok());
  CHECK(again == z);
}

TEST_CASE("ckpt export: npz refuses what plain zip cannot hold") {
  std::vector<Tensor> many(65535, Tensor{"t", DType::u8, {0}, {}});
  std::vector<uint8_t> z;
  CHECK(encode_npz(many, &z).message() ==
        "65535 tensors are too many for an npz file; use safetensors");
  many.resize(65534);
  CHECK(encode_npz(many, &z).ok());
}

TEST_CASE("ckpt export: safetensors bytes follow its spec") {
  std::vector<Tensor> ts = {{"w", DType::f32, {2}, {1, 2, 3, 4, 5, 6, 7, 8}},
                            {"b", DType::u8, {3}, {9, 10, 11}},
                            {"s", DType::f64, {}, {1, 1, 1, 1, 1, 1, 1, 1}}};
  CheckpointMeta m = sample_meta();
  m.config_ini = "a = \"x\"\n";
  std::vector<uint8_t> out;
  REQUIRE(encode_safetensors(m, ts, &out).ok());
  std::string json =
      "{\"__metadata__\":{\"format\":\"edgerl\",\"edgerl_version\":\"0.1.0\",\"model_name\":"
      "\"ff_ppo\",\"checkpoint_uid\":\"20260101000000\",\"timestep\":\"51200\",\"eval_step\":"
      "\"3\",\"episode_return\":\"187.25\",\"wall_time_ms\":\"1767225600000\",\"config\":\"a = "
      "\\\"x\\\"\\n\"},"
      "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
      "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[16,19]}}";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::vector<uint8_t> want;
  for (int i = 0; i < 8; ++i) want.push_back(static_cast<uint8_t>(json.size() >> (8 * i)));
  want.insert(want.end(), json.begin(), json.end());
  for (size_t i : {2, 0, 1}) want.insert(want.end(), ts[i].bytes.begin(), ts[i].bytes.end());
  CHECK(std::string(out.begin(), out.end()) == std::string(want.begin(), want.end()));
}

TEST_CASE("ckpt export: JSON strings escape controls and replace invalid UTF-8") {
  CHECK(json_string("plain") == "\"plain\"");
  CHECK(json_string("q\"b\\") == "\"q\\\"b\\\\\"");
  CHECK(json_string("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
  CHECK(json_string(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(json_string(std::string("\0", 1)) == "\"\\u0000\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(json_string("\xff") == "\"" + fffd + "\"");
  CHECK(json_string("\xc0\x80") == "\"" + fffd + fffd + "\"");                        // overlong
  CHECK(json_string("\xed\xa0\x80") == "\"" + fffd + fffd + fffd + "\"");             // surrogate
  CHECK(json_string("\xe2\x82") == "\"" + fffd + fffd + "\"");                        // cut short
  CHECK(json_string("\xf4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
}
