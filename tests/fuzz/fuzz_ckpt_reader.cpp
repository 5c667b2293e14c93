// libFuzzer target for the checkpoint reader (tests/fuzz/run.sh builds and runs it).
//
// Each input is read twice: as it is, and with its header CRC and trailer made valid, so that
// mutations of the header reach the parser behind the CRC instead of all failing there. For
// every input the reader must return a one-line error or a file that re-encodes, reads back
// equal and exports; ASan and UBSan catch any memory error or undefined behaviour on the way.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "edgerl/ckpt_export.hpp"
#include "edgerl/ckpt_format.hpp"
#include "edgerl/io.hpp"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void put_le(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// What a forger would do after editing the header: recompute its CRC and rewrite the trailer.
void make_crcs_valid(std::vector<uint8_t>& f) {
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(f[16 + i]) << (8 * i);
  if (header_len > f.size() - 56) return;
  const uint32_t crc = static_cast<uint32_t>(
      ::crc32_z(::crc32_z(0, f.data(), 24), f.data() + 32, static_cast<size_t>(header_len)));
  put_le(f.data() + 24, crc, 4);
  uint8_t* t = f.data() + f.size() - 24;
  std::memcpy(t, "EDGERLND", 8);
  put_le(t + 8, f.size(), 8);
  put_le(t + 16, crc, 4);
  put_le(t + 20, ::crc32_z(0, t, 20), 4);
}

void check(const uint8_t* data, size_t size) {
  using namespace edgerl;
  MemoryFile file(data, size);
  CheckpointInfo info;
  std::vector<Tensor> tensors;
  const Status s = read_checkpoint(file, &info, &tensors);
  const Status v = verify_checkpoint(file, nullptr);
  require(s.ok() == v.ok());
  if (!s.ok()) {
    require(!s.message().empty() && s.message().find('\n') == std::string::npos);
    return;
  }
  // A file that reads re-encodes, and what that gives reads back the same.
  std::vector<uint8_t> again;
  require(encode_checkpoint(info.meta, tensor_refs(tensors), 1, &again).ok());
  MemoryFile file2(again.data(), again.size());
  CheckpointInfo info2;
  std::vector<Tensor> tensors2;
  require(read_checkpoint(file2, &info2, &tensors2).ok());
  require(tensors2.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i)
    require(tensors2[i].name == tensors[i].name && tensors2[i].shape == tensors[i].shape &&
            tensors2[i].dtype == tensors[i].dtype && tensors2[i].bytes == tensors[i].bytes);
  require(info2.meta.config_ini == info.meta.config_ini &&
          info2.meta.timestep == info.meta.timestep);
  std::vector<uint8_t> exported;
  require(encode_npz(tensors, &exported).ok());
  require(encode_safetensors(info.meta, tensors, &exported).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(data, size);
  if (size >= 56) {
    std::vector<uint8_t> fixed(data, data + size);
    make_crcs_valid(fixed);
    check(fixed.data(), fixed.size());
  }
  return 0;
}
