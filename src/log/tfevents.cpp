// TensorBoard event files: CRC-32C, TFRecord framing and the hand-written Event protobuf.
#include "log/tfevents.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace edgerl::tfevents {
namespace {

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, uint32_t field, WireType type) {
  put_varint(out, field << 3 | type);
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_double(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  put_le(out, bits, 8);
}

void put_float(std::string& out, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_le(out, bits, 4);
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// A forward-only protobuf reader over one message.
class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool done() const { return p_ == end_; }

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto byte = static_cast<unsigned char>(*p_++);
      v |= uint64_t(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool fixed(uint64_t& v, int bytes) {
    if (end_ - p_ < bytes) return false;
    v = get_le(p_, bytes);
    p_ += bytes;
    return true;
  }
  bool bytes(std::string_view& s) {
    uint64_t n;
    if (!varint(n) || n > uint64_t(end_ - p_)) return false;
    s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  // Reads one field's value of `type` without interpreting it.
  bool skip(uint32_t type) {
    uint64_t v;
    std::string_view s;
    switch (type) {
      case kVarint:
        return varint(v);
      case kFixed64:
        return fixed(v, 8);
      case kBytes:
        return bytes(s);
      case kFixed32:
        return fixed(v, 4);
      default:
        return false;  // groups (3, 4) are not used by Event
    }
  }

 private:
  const char* p_;
  const char* end_;
};

bool decode_value(std::string_view data, TagValue& value) {
  Reader r(data);
  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key)) return false;
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == kBytes) {
      std::string_view tag;
      if (!r.bytes(tag)) return false;
      value.tag.assign(tag);
    } else if (field == 2 && type == kFixed32) {
      uint64_t bits;
      if (!r.fixed(bits, 4)) return false;
      const auto b32 = static_cast<uint32_t>(bits);
      std::memcpy(&value.value, &b32, sizeof b32);
    } else if (!r.skip(type)) {
      return false;
    }
  }
  return true;
}

bool decode_summary(std::string_view data, std::vector<TagValue>& values) {
  Reader r(data);
  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key)) return false;
    if (key == (1u << 3 | kBytes)) {
      std::string_view value;
      if (!r.bytes(value)) return false;
      values.emplace_back();
      if (!decode_value(value, values.back())) return false;
    } else if (!r.skip(static_cast<uint32_t>(key & 7))) {
      return false;
    }
  }
  return true;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrc32cTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t mask_crc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

uint32_t unmask_crc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

std::string encode_file_version_event(double wall_time) {
  const size_t n = std::strlen(kFileVersion);
  std::string out;
  out.reserve(9 + 2 + n);
  put_key(out, 1, kFixed64);
  put_double(out, wall_time);
  put_key(out, 3, kBytes);
  put_varint(out, n);
  out.append(kFileVersion, n);
  return out;
}

std::string encode_scalar_event(double wall_time, int64_t step,
                                const std::vector<TagValue>& values) {
  // Sizes first, so that each nested message is written once, straight into `out`.
  size_t summary_size = 0;
  for (const auto& v : values) {
    const size_t value_size = 1 + varint_size(v.tag.size()) + v.tag.size() + 1 + 4;
    summary_size += 1 + varint_size(value_size) + value_size;
  }
  std::string out;
  out.reserve(9 + 11 + 1 + varint_size(summary_size) + summary_size);
  put_key(out, 1, kFixed64);
  put_double(out, wall_time);
  if (step != 0) {
    put_key(out, 2, kVarint);
    put_varint(out, static_cast<uint64_t>(step));
  }
  put_key(out, 5, kBytes);
  put_varint(out, summary_size);
  for (const auto& v : values) {
    const size_t value_size = 1 + varint_size(v.tag.size()) + v.tag.size() + 1 + 4;
    put_key(out, 1, kBytes);
    put_varint(out, value_size);
    put_key(out, 1, kBytes);
    put_varint(out, v.tag.size());
    out += v.tag;
    put_key(out, 2, kFixed32);
    put_float(out, v.value);
  }
  return out;
}

void append_record(std::string& out, std::string_view data) {
  char header[8];
  for (int i = 0; i < 8; ++i)
    header[i] = static_cast<char>((uint64_t(data.size()) >> (8 * i)) & 0xFF);
  out.append(header, 8);
  put_le(out, mask_crc(crc32c(header, 8)), 4);
  out.append(data.data(), data.size());
  put_le(out, mask_crc(crc32c(data.data(), data.size())), 4);
}

bool decode_event(std::string_view data, Event& event) {
  event = Event{};
  Reader r(data);
  while (!r.done()) {
    uint64_t key, v;
    std::string_view s;
    if (!r.varint(key)) return false;
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == kFixed64) {
      if (!r.fixed(v, 8)) return false;
      std::memcpy(&event.wall_time, &v, sizeof v);
    } else if (field == 2 && type == kVarint) {
      if (!r.varint(v)) return false;
      event.step = static_cast<int64_t>(v);
    } else if (field == 3 && type == kBytes) {
      if (!r.bytes(s)) return false;
      event.file_version.assign(s);
    } else if (field == 5 && type == kBytes) {
      if (!r.bytes(s) || !decode_summary(s, event.values)) return false;
    } else if (!r.skip(type)) {
      return false;
    }
  }
  return true;
}

std::vector<Record> read_records(std::string_view bytes) {
  std::vector<Record> records;
  size_t pos = 0;
  // A record is its length (8 bytes), the length's CRC (4), the data and the data's CRC (4).
  while (bytes.size() - pos >= 16) {
    const char* p = bytes.data() + pos;
    const uint64_t length = get_le(p, 8);
    if (get_le(p + 8, 4) != mask_crc(crc32c(p, 8))) break;
    if (length > bytes.size() - pos - 16) break;  // torn: the data or its CRC is missing
    const std::string_view data(p + 12, length);
    if (get_le(p + 12 + length, 4) != mask_crc(crc32c(data.data(), data.size()))) break;
    records.push_back({pos, 16 + static_cast<size_t>(length), data});
    pos += 16 + length;
  }
  return records;
}

size_t prefix_while(std::string_view bytes, const std::function<bool(const Event&)>& keep) {
  size_t end = 0;
  Event event;
  for (const auto& record : read_records(bytes)) {
    if (!decode_event(record.data, event)) break;
    if (event.file_version.empty() && !keep(event)) break;
    end = record.offset + record.size;
  }
  return end;
}

}  // namespace edgerl::tfevents
