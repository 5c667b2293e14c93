// TensorBoard event files: CRC-32C against RFC 3720, records against bytes written by other
// tools, and a round trip through a protobuf decoder written here independently of src/.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "edgerl/logger.hpp"
#include "log/tfevents.hpp"
#include "test_util.hpp"

namespace tfe = edgerl::tfevents;
namespace fs = std::filesystem;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

std::string bytes(const char* s, size_t n) {
  return std::string(s, n);
}

// ---- an independent reader: TFRecord framing and the three Event messages -----------------------

struct TestEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;
};

uint64_t le(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s.at(at + i));
  return v;
}

uint64_t varint(const std::string& s, size_t& at) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(s.at(at++));
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

// Calls fn(field, wire_type, at, end) for each field of the message in s[at, end).
template <class Fn>
void fields(const std::string& s, size_t at, size_t end, Fn fn) {
  while (at < end) {
    const uint64_t key = varint(s, at);
    const int type = static_cast<int>(key & 7);
    size_t len = type == 1 ? 8 : type == 5 ? 4 : 0;
    if (type == 0) {
      const size_t start = at;
      varint(s, at);
      len = at - start;
      at = start;
    } else if (type == 2) {
      len = varint(s, at);
    }
    REQUIRE(at + len <= end);
    fn(static_cast<int>(key >> 3), type, at, at + len);
    at += len;
  }
}

TestEvent parse_event(const std::string& s) {
  TestEvent e;
  fields(s, 0, s.size(), [&](int field, int type, size_t at, size_t end) {
    if (field == 1 && type == 1) {
      const uint64_t bits = le(s, at, 8);
      std::memcpy(&e.wall_time, &bits, 8);
    } else if (field == 2 && type == 0) {
      size_t p = at;
      e.step = static_cast<int64_t>(varint(s, p));
    } else if (field == 3 && type == 2) {
      e.file_version = s.substr(at, end - at);
    } else if (field == 5 && type == 2) {
      fields(s, at, end, [&](int f2, int t2, size_t a2, size_t e2) {
        REQUIRE((f2 == 1 && t2 == 2));
        std::pair<std::string, float> value;
        fields(s, a2, e2, [&](int f3, int t3, size_t a3, size_t e3) {
          if (f3 == 1 && t3 == 2) value.first = s.substr(a3, e3 - a3);
          if (f3 == 2 && t3 == 5) {
            const auto bits = static_cast<uint32_t>(le(s, a3, 4));
            std::memcpy(&value.second, &bits, 4);
          }
        });
        e.values.push_back(value);
      });
    } else {
      FAIL("unexpected field " << field << " of wire type " << type);
    }
  });
  return e;
}

// Splits a whole event file into its payloads, checking both CRCs of every record.
std::vector<std::string> parse_records(const std::string& file) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < file.size()) {
    REQUIRE(file.size() - at >= 16);
    const uint64_t n = le(file, at, 8);
    CHECK(static_cast<uint32_t>(le(file, at + 8, 4)) == tfe::mask_crc(tfe::crc32c(&file[at], 8)));
    REQUIRE(file.size() - at - 16 >= n);
    const std::string data = file.substr(at + 12, n);
    CHECK(static_cast<uint32_t>(le(file, at + 12 + n, 4)) ==
          tfe::mask_crc(tfe::crc32c(data.data(), data.size())));
    out.push_back(data);
    at += 16 + n;
  }
  return out;
}

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

edgerl::LogRecord record(int64_t timestep, double return_mean) {
  edgerl::LogRecord r;
  r.event = edgerl::LogEvent::EVAL;
  r.timestep = timestep;
  r.eval_step = timestep / 100;
  r.wall_time = 1.7e9 + static_cast<double>(timestep);
  r.scalars = {{"episode_return_mean", return_mean}, {"episode_length_mean", 200}};
  return r;
}

}  // namespace

TEST_CASE("crc32c matches the RFC 3720 test vectors") {
  unsigned char buf[32];
  std::memset(buf, 0, sizeof buf);
  CHECK(tfe::crc32c(buf, 32) == 0x8A9136AAu);
  std::memset(buf, 0xFF, sizeof buf);
  CHECK(tfe::crc32c(buf, 32) == 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
  CHECK(tfe::crc32c(buf, 32) == 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(31 - i);
  CHECK(tfe::crc32c(buf, 32) == 0x113FDB5Cu);
  CHECK(tfe::crc32c("123456789", 9) == 0xE3069283u);
  CHECK(tfe::crc32c("", 0) == 0u);
}

TEST_CASE("crc32c continues across pieces") {
  const std::string s = "The quick brown fox jumps over the lazy dog";
  CHECK(tfe::crc32c(s.data() + 10, s.size() - 10, tfe::crc32c(s.data(), 10)) ==
        tfe::crc32c(s.data(), s.size()));
}

TEST_CASE("masking is TFRecord's rotate-and-add and unmasks back") {
  CHECK(tfe::mask_crc(0) == 0xa282ead8u);
  CHECK(tfe::mask_crc(0x8A9136AAu) == ((0x8A9136AAu >> 15 | 0x8A9136AAu << 17) + 0xa282ead8u));
  for (uint32_t c : {0u, 1u, 0x8A9136AAu, 0xFFFFFFFFu, 0x12345678u})
    CHECK(tfe::unmask_crc(tfe::mask_crc(c)) == c);
}

TEST_CASE("a TFRecord frames TensorFlow's own event-file test record byte for byte") {
  // EventFileLoaderTest.RECORD in TensorFlow: Event{wall_time 1440183447, "brain.Event:1"}.
  const std::string payload = bytes(
      "\t\x00\x00\xc0%\xddu\xd5"
      "A\x1a\rbrain.Event:1",
      24);
  const std::string expect = bytes("\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"", 12) + payload +
                             "\xec\xf3"
                             "2\x8d";
  std::string out;
  tfe::append_record(out, payload);
  CHECK(out == expect);
}

TEST_CASE("events encode to the bytes tensorboard_logger writes") {
  // tensorboard_logger's test_serialization (the writer Stoix uses), wall_time 256.5.
  std::string file;
  tfe::append_record(file, tfe::encode_file_version_event(256.5));
  tfe::append_record(file, tfe::encode_scalar_event(256.5, 1, {{"v/1", 1.5f}}));
  tfe::append_record(file, tfe::encode_scalar_event(256.5, 2, {{"v/22", 16.0f}}));
  const std::string expect =
      bytes(
          "\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"\t\x00\x00\x00\x00\x00\x08p@"
          "\x1a\rbrain.Event:2\xbc\x98!+",
          40) +
      bytes(
          "\x19\x00\x00\x00\x00\x00\x00\x00\x8b\xf1\x08(\t\x00\x00\x00\x00\x00\x08p@"
          "\x10\x01*\x0c\n\n\n\x03v/1\x15\x00\x00\xc0?,\xec\xc0\x87",
          41) +
      bytes(
          "\x1a\x00\x00\x00\x00\x00\x00\x00\x12\x9b\xd8-\t\x00\x00\x00\x00\x00\x08p@"
          "\x10\x02*\r\n\x0b\n\x04v/22\x15\x00\x00\x80"
          "A\x8f\xa3\xb6\x88",
          42);
  CHECK(file.size() == expect.size());
  CHECK(file == expect);
}

TEST_CASE("scalar events round-trip through an independent decoder") {
  const std::vector<tfe::TagValue> values = {{"eval/episode_return_mean", 187.25f},
                                             {"eval/episode_return_std", -0.0f},
                                             {"train/actor_loss", -1.5e-7f},
                                             {"misc/nan", std::nanf("")},
                                             {std::string(200, 'x'), 3.0f}};  // 2-byte lengths
  for (const int64_t step : {int64_t(0), int64_t(1), int64_t(300), int64_t(1) << 40}) {
    std::string file;
    tfe::append_record(file, tfe::encode_scalar_event(1700000000.125, step, values));
    const auto payloads = parse_records(file);
    REQUIRE(payloads.size() == 1);
    const TestEvent e = parse_event(payloads[0]);
    CHECK(e.wall_time == 1700000000.125);
    CHECK(e.step == step);
    REQUIRE(e.values.size() == values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      CHECK(e.values[i].first == values[i].tag);
      CHECK(std::memcmp(&e.values[i].second, &values[i].value, 4) == 0);
    }
    tfe::Event mine;  // and the library's own decoder agrees
    REQUIRE(tfe::decode_event(payloads[0], mine));
    CHECK(mine.step == step);
    CHECK(mine.values.size() == values.size());
    CHECK(mine.values[0].tag == values[0].tag);
  }
}

TEST_CASE("the record reader stops at a torn or corrupt record") {
  std::string file;
  tfe::append_record(file, tfe::encode_file_version_event(1.0));
  for (int64_t step = 100; step <= 500; step += 100)
    tfe::append_record(file, tfe::encode_scalar_event(2.0, step, {{"a", 1.0f}}));
  REQUIRE(tfe::read_records(file).size() == 6);
  const size_t record_size = tfe::read_records(file)[1].size;

  CHECK(tfe::read_records(file.substr(0, file.size() - 1)).size() == 5);  // torn data CRC
  CHECK(tfe::read_records(file.substr(0, file.size() - record_size + 5)).size() == 5);
  std::string flipped = file;
  flipped[tfe::read_records(file)[3].offset + 14] ^= 0x01;  // a data byte of record 3
  CHECK(tfe::read_records(flipped).size() == 3);
  std::string huge = file;  // a length that points past the end
  huge[tfe::read_records(file)[2].offset + 7] = '\x7f';
  CHECK(tfe::read_records(huge).size() == 2);
  // Torn after the last record's length and its CRC (12 to 15 of its bytes on disk): nothing
  // past the end is read (found by tests/fuzz/fuzz_logs; ASan in make sanitize sees the read).
  // The bytes sit in a buffer of exactly their size, so that any read beyond them is caught.
  const size_t last = tfe::read_records(file)[5].offset;
  for (size_t torn = 12; torn < 16; ++torn) {
    CAPTURE(torn);
    const size_t n = last + torn;
    std::unique_ptr<char[]> exact(new char[n]);
    std::memcpy(exact.get(), file.data(), n);
    CHECK(tfe::read_records(std::string_view(exact.get(), n)).size() == 5);
  }

  auto up_to = [&](int64_t max_step) {
    return tfe::prefix_while(file, [max_step](const tfe::Event& e) { return e.step <= max_step; });
  };
  CHECK(up_to(300) == tfe::read_records(file)[4].offset);
  CHECK(up_to(500) == file.size());
  CHECK(up_to(0) == tfe::read_records(file)[1].offset);
}

TEST_CASE("the TensorBoard sink writes brain.Event:2 first, then one event per record") {
  TempDir dir;
  {
    edgerl::TensorBoardSink sink(std::filesystem::path(dir.path()).string(), -1);
    sink.write(record(100, 10.5));
    sink.write(record(200, 20.5));
    sink.flush();
    CHECK(sink.error().empty());
    CHECK(fs::path(sink.path()).filename().string().rfind("events.out.tfevents.1700000100.", 0) ==
          0);
  }
  const auto files = event_files(std::filesystem::path(dir.path()));
  REQUIRE(files.size() == 1);
  const auto payloads = parse_records(slurp(files[0]));
  REQUIRE(payloads.size() == 3);
  const TestEvent first = parse_event(payloads[0]);
  CHECK(first.file_version == "brain.Event:2");
  CHECK(first.wall_time == 1.7e9 + 100);  // the first record's time
  const TestEvent second = parse_event(payloads[2]);
  CHECK(second.step == 200);
  CHECK(second.wall_time == 1.7e9 + 200);
  REQUIRE(second.values.size() == 2);
  // By tag, whatever order the row had: the same records however the run was resumed.
  CHECK(second.values[0].first == "eval/episode_length_mean");
  CHECK(second.values[1].first == "eval/episode_return_mean");
  CHECK(second.values[1].second == 20.5f);
}

TEST_CASE("a resumed TensorBoard run cuts the old file at the resume point and starts a new one") {
  TempDir dir;
  {
    edgerl::TensorBoardSink crashed(std::filesystem::path(dir.path()).string(), -1);
    for (int64_t t = 100; t <= 500; t += 100) crashed.write(record(t, static_cast<double>(t)));
    crashed.flush();
  }
  {
    // A crash mid-write leaves half a record behind.
    std::ofstream torn(event_files(std::filesystem::path(dir.path()))[0],
                       std::ios::binary | std::ios::app);
    torn << bytes("\x30\x00\x00", 3);
  }
  {
    edgerl::TensorBoardSink resumed(std::filesystem::path(dir.path()).string(), 300);
    for (int64_t t = 400; t <= 600; t += 100) resumed.write(record(t, static_cast<double>(t)));
    resumed.flush();
  }
  const auto files = event_files(std::filesystem::path(dir.path()));
  REQUIRE(files.size() == 2);
  std::vector<int64_t> steps;
  for (const auto& f : files)
    for (const auto& payload : parse_records(slurp(f))) {
      const TestEvent e = parse_event(payload);
      if (e.file_version.empty()) steps.push_back(e.step);
    }
  CHECK(steps == std::vector<int64_t>{100, 200, 300, 400, 500, 600});
}
