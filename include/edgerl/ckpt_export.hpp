// ckpt_export: a checkpoint's tensors in files other tools read — numpy's .npz (a zip of
// .npy arrays, stored uncompressed) and Hugging Face's safetensors (8-byte header length,
// JSON header, raw little-endian data). Output only: edgerl never reads these back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/io.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

// numpy.load(path)[name] gives each tensor with its dtype and shape. Zip64 is not written:
// an archive of 4 GiB or more, or of 65535 tensors or more, is refused (invalid_argument).
Status encode_npz(const std::vector<Tensor>& tensors, std::vector<uint8_t>* out);

// safetensors with the checkpoint's metadata as "__metadata__" (strings, as the format
// requires). Tensors are laid out largest element size first, so each is aligned.
Status encode_safetensors(const CheckpointMeta& meta, const std::vector<Tensor>& tensors,
                          std::vector<uint8_t>* out);

// A JSON string literal of `s`: quotes, backslashes and control characters escaped, invalid
// UTF-8 replaced by U+FFFD.
std::string json_string(const std::string& s);

}  // namespace edgerl
