// rng: numpy-compatible random numbers that are identical on every platform.
//
// Pcg64 is numpy's PCG64 bit generator (128-bit LCG, XSL-RR output) and SeedSequence is
// numpy's SeedSequence, so `Pcg64(SeedSequence(seed))` produces the same raw 64-bit outputs and
// the same doubles in [0, 1) as `numpy.random.default_rng(seed)`; Gymnasium's
// `reset(seed=s)` draws its initial states from exactly this stream.
//
// On top of the raw stream we define our own samplers (normal, bounded integers, categorical,
// permutations) with only IEEE-754 basic operations, so their output never depends on the
// standard library, the compiler or the CPU (std:: distributions differ between libraries).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgerl {

// numpy.random.SeedSequence (pool size 4), including spawn().
class SeedSequence {
 public:
  // A non-negative integer seed, as numpy takes a Python int (coerced to 32-bit words).
  explicit SeedSequence(uint64_t seed, std::vector<uint32_t> spawn_key = {});
  // Entropy given directly as little-endian 32-bit words (for seeds wider than 64 bits).
  SeedSequence(std::vector<uint32_t> entropy_words, std::vector<uint32_t> spawn_key);

  // numpy's generate_state(n_words, np.uint32 / np.uint64).
  std::vector<uint32_t> generate_state_u32(size_t n_words) const;
  std::vector<uint64_t> generate_state_u64(size_t n_words) const;

  // The i-th child, as numpy's spawn() hands out: spawn_key + (i,).
  SeedSequence child(uint32_t index) const;

  const std::vector<uint32_t>& spawn_key() const { return spawn_key_; }

 private:
  void mix_entropy(const std::vector<uint32_t>& entropy);
  std::vector<uint32_t> entropy_;
  std::vector<uint32_t> spawn_key_;
  std::array<uint32_t, 4> pool_{};
};

// numpy.random.PCG64 plus edgerl's own portable samplers.
class Pcg64 {
 public:
  static constexpr size_t kStateWords = 6;  // see state()

  // Same stream as numpy.random.default_rng(seed).
  explicit Pcg64(uint64_t seed = 0);
  explicit Pcg64(const SeedSequence& seq);

  uint64_t next_u64();
  // (next_u64() >> 11) * 2^-53, exactly numpy's Generator.random().
  double uniform();
  // lo + (hi - lo) * uniform(), exactly numpy's Generator.uniform(lo, hi).
  double uniform(double lo, double hi);
  // Standard normal (Marsaglia's polar method with a portable log). Not numpy's ziggurat.
  double normal();
  // out[0..n) = n calls of normal(), to the same numbers and the same state, with the logs of
  // several pairs computed side by side (SIMD lanes).
  void normals(double* out, size_t n);
  // Unbiased integer in [0, n) (Lemire's multiply-and-reject). n must be > 0.
  uint64_t below(uint64_t n);
  // Index drawn from unnormalised non-negative weights w[0..n) (inverse CDF, fixed order).
  size_t categorical(const float* weights, size_t n);
  // Fisher-Yates shuffle of idx[0..n) (from the back, as numpy's shuffle).
  void shuffle(uint32_t* idx, size_t n);

  // Whole state as words: state hi/lo, increment hi/lo, has cached normal, cached normal bits.
  std::array<uint64_t, kStateWords> state() const;
  // Restores a state from state(); returns false (and changes nothing) if it is invalid.
  bool set_state(const std::array<uint64_t, kStateWords>& words);

  // The state() words in place, for a tensor view (checkpoints read and write them directly).
  // After writing into them, check valid() before drawing.
  uint64_t* words() { return w_; }
  bool valid() const { return (w_[3] & 1u) == 1 && w_[4] <= 1; }

  // Raw PCG64 words (state, increment), as numpy's bit_generator.state shows them.
  uint64_t state_hi() const { return w_[0]; }
  uint64_t state_lo() const { return w_[1]; }
  uint64_t inc_hi() const { return w_[2]; }
  uint64_t inc_lo() const { return w_[3]; }

 private:
  void seed128(uint64_t s_hi, uint64_t s_lo, uint64_t i_hi, uint64_t i_lo);
  void step();
  // state hi, state lo, increment hi, increment lo, has cached normal, cached normal bits.
  uint64_t w_[kStateWords] = {0, 0, 0, 1, 0, 0};
};

// Natural logarithm from IEEE basic operations only: identical bits on every platform
// (used by the samplers; libm's log may differ between libraries in the last bit).
double portable_log(double x);

}  // namespace edgerl
