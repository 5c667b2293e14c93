// Writers for numpy's .npz and for safetensors, encoded by hand (no zip or JSON library).
#include "edgerl/ckpt_export.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace edgerl {

namespace {

void put_le(std::vector<uint8_t>* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_bytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}

// Length of the valid UTF-8 sequence at p[0..n), or 0 when it is not one.
size_t utf8_sequence(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c == 0xe0)
    len = 3, lo = 0xa0;
  else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
    len = 3;
  else if (c == 0xed)
    len = 3, hi = 0x9f;
  else if (c == 0xf0)
    len = 4, lo = 0x90;
  else if (c >= 0xf1 && c <= 0xf3)
    len = 4;
  else if (c == 0xf4)
    len = 4, hi = 0x8f;
  else
    return 0;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i)
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  return len;
}

// numpy's dtype string for each of our dtypes ('|' where byte order does not apply).
const char* npy_descr(DType t) {
  switch (t) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::u8:
      return "|u1";
    case DType::u32:
      return "<u4";
    case DType::u64:
      return "<u8";
  }
  return "?";
}

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
    case DType::u8:
      return "U8";
    case DType::u32:
      return "U32";
    case DType::u64:
      return "U64";
  }
  return "?";
}

// The .npy file (format 1.0) of one tensor: magic, version, header dict padded with spaces to
// a multiple of 64 bytes (as numpy writes it), then the raw little-endian data.
std::vector<uint8_t> npy_bytes(const Tensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
  shape += t.shape.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + npy_descr(t.dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t preamble = 10;  // magic (6) + version (2) + header length (2)
  header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out;
  out.reserve(preamble + header.size() + t.bytes.size());
  put_bytes(&out, "\x93NUMPY\x01\x00", 8);
  put_le(&out, header.size(), 2);
  put_bytes(&out, header.data(), header.size());
  put_bytes(&out, t.bytes.data(), t.bytes.size());
  return out;
}

// Zip headers use 1980-01-01 00:00 as the time of every entry, so the output is reproducible.
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

}  // namespace

std::string json_string(const std::string& s) {
  std::string out = "\"";
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      const size_t len = utf8_sequence(p + i, s.size() - i);
      if (len == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
        continue;
      }
      out.append(s, i, len);
      i += len;
      continue;
    }
    ++i;
  }
  return out + "\"";
}

Status encode_npz(const std::vector<Tensor>& tensors, std::vector<uint8_t>* out) {
  constexpr uint64_t kLimit = 0xffffffffu;  // beyond this, zip needs its zip64 extension
  if (tensors.size() >= 0xffff)
    return Status::invalid_argument(std::to_string(tensors.size()) +
                                    " tensors are too many for an npz file; use safetensors");
  std::vector<uint8_t> zip, central;
  for (const Tensor& t : tensors) {
    const std::vector<uint8_t> npy = npy_bytes(t);
    const std::string name = t.name + ".npy";
    const uint64_t offset = zip.size();
    if (npy.size() >= kLimit || offset + 30 + name.size() + npy.size() >= kLimit)
      return Status::invalid_argument("the npz file would reach 4 GiB at tensor '" + t.name +
                                      "'; use safetensors");
    const uint32_t crc = static_cast<uint32_t>(::crc32_z(0, npy.data(), npy.size()));
    // Local file header, then the data.
    put_le(&zip, 0x04034b50, 4);
    put_le(&zip, 20, 2);  // version needed: 2.0
    put_le(&zip, 0, 2);   // flags
    put_le(&zip, 0, 2);   // method: stored
    put_le(&zip, 0, 2);   // time
    put_le(&zip, kDosDate, 2);
    put_le(&zip, crc, 4);
    put_le(&zip, npy.size(), 4);
    put_le(&zip, npy.size(), 4);
    put_le(&zip, name.size(), 2);
    put_le(&zip, 0, 2);  // extra field length
    put_bytes(&zip, name.data(), name.size());
    put_bytes(&zip, npy.data(), npy.size());
    // Its central directory entry.
    put_le(&central, 0x02014b50, 4);
    put_le(&central, 20, 2);  // made by: 2.0
    put_le(&central, 20, 2);  // needed: 2.0
    put_le(&central, 0, 2);
    put_le(&central, 0, 2);
    put_le(&central, 0, 2);
    put_le(&central, kDosDate, 2);
    put_le(&central, crc, 4);
    put_le(&central, npy.size(), 4);
    put_le(&central, npy.size(), 4);
    put_le(&central, name.size(), 2);
    put_le(&central, 0, 2);  // extra
    put_le(&central, 0, 2);  // comment
    put_le(&central, 0, 2);  // disk
    put_le(&central, 0, 2);  // internal attributes
    put_le(&central, 0, 4);  // external attributes
    put_le(&central, offset, 4);
    put_bytes(&central, name.data(), name.size());
  }
  if (zip.size() + central.size() >= kLimit)
    return Status::invalid_argument("the npz file would reach 4 GiB; use safetensors");
  const uint64_t central_offset = zip.size();
  put_bytes(&zip, central.data(), central.size());
  put_le(&zip, 0x06054b50, 4);  // end of central directory
  put_le(&zip, 0, 2);
  put_le(&zip, 0, 2);
  put_le(&zip, tensors.size(), 2);
  put_le(&zip, tensors.size(), 2);
  put_le(&zip, central.size(), 4);
  put_le(&zip, central_offset, 4);
  put_le(&zip, 0, 2);  // comment length
  *out = std::move(zip);
  return Status();
}

Status encode_safetensors(const CheckpointMeta& meta, const std::vector<Tensor>& tensors,
                          std::vector<uint8_t>* out) {
  std::vector<const Tensor*> order;
  for (const Tensor& t : tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    return dtype_size(a->dtype) > dtype_size(b->dtype);
  });

  char ret[40];
  std::snprintf(ret, sizeof ret, "%.17g", meta.episode_return);
  const std::pair<const char*, std::string> fields[] = {
      {"format", "edgerl"},
      {"edgerl_version", meta.edgerl_version},
      {"model_name", meta.model_name},
      {"checkpoint_uid", meta.checkpoint_uid},
      {"timestep", std::to_string(meta.timestep)},
      {"eval_step", std::to_string(meta.eval_step)},
      {"episode_return", ret},
      {"wall_time_ms", std::to_string(meta.wall_time_ms)},
      {"config", meta.config_ini},
  };
  std::string json = "{\"__metadata__\":{";
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i)
    json += (i ? "," : "") + json_string(fields[i].first) + ":" + json_string(fields[i].second);
  json += "}";
  uint64_t offset = 0;
  for (const Tensor* t : order) {
    json += "," + json_string(t->name) + ":{\"dtype\":\"" + safetensors_dtype(t->dtype) +
            "\",\"shape\":[";
    for (size_t i = 0; i < t->shape.size(); ++i)
      json += (i ? "," : "") + std::to_string(t->shape[i]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + t->bytes.size()) + "]}";
    offset += t->bytes.size();
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned

  std::vector<uint8_t> file;
  file.reserve(8 + json.size() + offset);
  put_le(&file, json.size(), 8);
  put_bytes(&file, json.data(), json.size());
  for (const Tensor* t : order) put_bytes(&file, t->bytes.data(), t->bytes.size());
  *out = std::move(file);
  return Status();
}

}  // namespace edgerl
