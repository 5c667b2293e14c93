// tfevents: TensorBoard event files written and read by hand, without a protobuf library.
//
// A file is a sequence of TFRecords:
//   uint64 length (little-endian)
//   uint32 masked_crc32c(the 8 length bytes)
//   byte   data[length]            -- one serialized tensorflow.Event
//   uint32 masked_crc32c(data)
// with masked_crc32c(x) = rotate_right(crc32c(x), 15) + 0xa282ead8 (CRC-32C is Castagnoli's,
// RFC 3720). The first record is Event{wall_time, file_version: "brain.Event:2"}; each later one
// is Event{wall_time, step, summary{value{tag, simple_value}...}}. The protobuf fields used:
//   Event:   wall_time = 1 (double, fixed64), step = 2 (int64, varint),
//            file_version = 3 (string), summary = 5 (message)
//   Summary: value = 1 (repeated message)
//   Value:   tag = 1 (string), simple_value = 2 (float, fixed32)
// step is left out when it is 0, as proto3 does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace edgerl::tfevents {

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
uint32_t mask_crc(uint32_t crc);
uint32_t unmask_crc(uint32_t masked);

inline constexpr const char* kFileVersion = "brain.Event:2";

struct TagValue {
  std::string tag;
  float value = 0;
};

// Serialized Event protos.
std::string encode_file_version_event(double wall_time);
std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<TagValue>& values);

// Appends one framed record holding `data` to `out`.
void append_record(std::string& out, std::string_view data);

struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<TagValue> values;
};

// Parses a serialized Event; false if it is not well-formed protobuf. Unknown fields are skipped.
bool decode_event(std::string_view data, Event& event);

struct Record {
  size_t offset = 0;  // of the record's first byte in the file
  size_t size = 0;    // of the whole framed record
  std::string_view data;
};

// The whole, checksummed records at the start of `bytes`; stops at the first torn or corrupt one.
std::vector<Record> read_records(std::string_view bytes);

// Bytes of the longest prefix of `bytes` made of whole records whose events decode and that
// `keep` accepts (it is not asked about file_version records, which are always kept).
size_t prefix_while(std::string_view bytes, const std::function<bool(const Event&)>& keep);

}  // namespace edgerl::tfevents
