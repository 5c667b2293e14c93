// Writes small valid checkpoint files into a folder: the fuzzer's starting corpus. They cover
// every dtype, ranks 0 to 4, empty tensors, raw and compressed data, the empty list, and a
// tensor written in chunks (a ChunkCache's zlib stream of separately deflated pieces).
#include <cstdio>
#include <string>
#include <vector>

#include "edgerl/ckpt_format.hpp"
#include "edgerl/rng.hpp"

using namespace edgerl;

namespace {

bool write(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  CheckpointMeta meta;
  meta.timestep = 1024;
  meta.eval_step = 1;
  meta.episode_return = 21.5;
  meta.model_name = "ff_ppo";
  meta.checkpoint_uid = "seed";
  meta.edgerl_version = "0.1.0";
  meta.config_ini = "[arch]\nseed = 1\n";
  int written = 0;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    Pcg64 rng(seed);
    std::vector<Tensor> ts;
    const size_t count = seed == 0 ? 0 : 1 + rng.below(5);
    for (size_t i = 0; i < count; ++i) {
      Tensor t;
      t.name = "part" + std::to_string(i % 2) + "/t" + std::to_string(i);
      t.dtype = static_cast<DType>((seed + i) % 7);
      const size_t rank = rng.below(5);
      for (size_t r = 0; r < rank; ++r) t.shape.push_back(rng.below(seed % 4 == 3 ? 40 : 6));
      t.bytes.resize(num_elements(t.shape) * dtype_size(t.dtype));
      const bool repetitive = rng.below(2) == 0;
      for (size_t b = 0; b < t.bytes.size(); ++b)
        t.bytes[b] =
            repetitive ? static_cast<uint8_t>(b % 5) : static_cast<uint8_t>(rng.next_u64());
      ts.push_back(std::move(t));
    }
    std::vector<uint8_t> bytes;
    if (!encode_checkpoint(meta, tensor_refs(ts), seed % 2 ? 6 : 0, &bytes).ok() ||
        !write(std::string(argv[1]) + "/seed_" + std::to_string(seed) + ".ckpt", bytes)) {
      std::fprintf(stderr, "make_seeds: cannot write seed %llu\n",
                   static_cast<unsigned long long>(seed));
      return 1;
    }
    ++written;
  }
  {
    // Three chunks and a part, mostly zeros with a few values: a few hundred bytes stored.
    std::vector<Tensor> ts(1);
    ts[0] = {"buffer/obs", DType::f32, {50000, 1}, std::vector<uint8_t>(200000, 0)};
    for (size_t b = 0; b < ts[0].bytes.size(); b += 997) ts[0].bytes[b] = static_cast<uint8_t>(b);
    ChunkCache cache;
    cache.track(ts[0].name);
    std::vector<uint8_t> bytes;
    if (!encode_checkpoint(meta, tensor_refs(ts), 6, &bytes, &cache).ok() ||
        !write(std::string(argv[1]) + "/seed_chunked.ckpt", bytes)) {
      std::fprintf(stderr, "make_seeds: cannot write the chunked seed\n");
      return 1;
    }
    ++written;
  }
  std::printf("make_seeds: %d checkpoint files in %s\n", written, argv[1]);
  return 0;
}
