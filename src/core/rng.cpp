// numpy's SeedSequence and PCG64, written from numpy's published algorithms
// (numpy/random/bit_generator.pyx and numpy/random/src/pcg64/pcg64.h), with 128-bit
// arithmetic done on 64-bit halves so 32-bit ARM builds give the same bits.
#include "edgerl/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace edgerl {
namespace {

constexpr uint32_t kInitA = 0x43b0d7e5u;
constexpr uint32_t kMultA = 0x931e8875u;
constexpr uint32_t kInitB = 0x8b51f9ddu;
constexpr uint32_t kMultB = 0x58f38dedu;
constexpr uint32_t kMixMultL = 0xca01f9ddu;
constexpr uint32_t kMixMultR = 0x4973f715u;
constexpr int kXShift = 16;
constexpr size_t kPoolSize = 4;

uint32_t hashmix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

std::vector<uint32_t> words_of(uint64_t v) {
  std::vector<uint32_t> w{static_cast<uint32_t>(v)};
  if (v >> 32) w.push_back(static_cast<uint32_t>(v >> 32));
  return w;
}

// 64x64 -> 128-bit product as (hi, lo).
void mul64(uint64_t a, uint64_t b, uint64_t& hi, uint64_t& lo) {
#ifdef __SIZEOF_INT128__
  __extension__ typedef unsigned __int128 u128;
  const u128 p = static_cast<u128>(a) * b;
  hi = static_cast<uint64_t>(p >> 64);
  lo = static_cast<uint64_t>(p);
#else
  const uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
  const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  lo = (mid << 32) | (p00 & 0xffffffffu);
  hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

constexpr uint64_t kMulHi = 0x2360ed051fc65da4ull;
constexpr uint64_t kMulLo = 0x4385df649fccf645ull;

void add128(uint64_t& hi, uint64_t& lo, uint64_t b_hi, uint64_t b_lo) {
  const uint64_t old = lo;
  lo += b_lo;
  hi += b_hi + (lo < old ? 1 : 0);
}

}  // namespace

SeedSequence::SeedSequence(uint64_t seed, std::vector<uint32_t> spawn_key)
    : SeedSequence(words_of(seed), std::move(spawn_key)) {}

SeedSequence::SeedSequence(std::vector<uint32_t> entropy_words, std::vector<uint32_t> spawn_key)
    : entropy_(std::move(entropy_words)), spawn_key_(std::move(spawn_key)) {
  if (entropy_.empty()) entropy_.push_back(0);
  std::vector<uint32_t> assembled = entropy_;
  if (!spawn_key_.empty() && assembled.size() < kPoolSize) assembled.resize(kPoolSize, 0);
  assembled.insert(assembled.end(), spawn_key_.begin(), spawn_key_.end());
  mix_entropy(assembled);
}

void SeedSequence::mix_entropy(const std::vector<uint32_t>& entropy) {
  uint32_t hash_const = kInitA;
  for (size_t i = 0; i < kPoolSize; ++i)
    pool_[i] = hashmix(i < entropy.size() ? entropy[i] : 0u, hash_const);
  for (size_t src = 0; src < kPoolSize; ++src)
    for (size_t dst = 0; dst < kPoolSize; ++dst)
      if (src != dst) pool_[dst] = mix(pool_[dst], hashmix(pool_[src], hash_const));
  for (size_t src = kPoolSize; src < entropy.size(); ++src)
    for (size_t dst = 0; dst < kPoolSize; ++dst)
      pool_[dst] = mix(pool_[dst], hashmix(entropy[src], hash_const));
}

std::vector<uint32_t> SeedSequence::generate_state_u32(size_t n_words) const {
  std::vector<uint32_t> out(n_words);
  uint32_t hash_const = kInitB;
  for (size_t i = 0; i < n_words; ++i) {
    uint32_t v = pool_[i % kPoolSize];
    v ^= hash_const;
    hash_const *= kMultB;
    v *= hash_const;
    v ^= v >> kXShift;
    out[i] = v;
  }
  return out;
}

std::vector<uint64_t> SeedSequence::generate_state_u64(size_t n_words) const {
  const std::vector<uint32_t> w = generate_state_u32(2 * n_words);
  std::vector<uint64_t> out(n_words);
  for (size_t i = 0; i < n_words; ++i)
    out[i] = static_cast<uint64_t>(w[2 * i]) | (static_cast<uint64_t>(w[2 * i + 1]) << 32);
  return out;
}

SeedSequence SeedSequence::child(uint32_t index) const {
  std::vector<uint32_t> key = spawn_key_;
  key.push_back(index);
  return SeedSequence(entropy_, std::move(key));
}

Pcg64::Pcg64(uint64_t seed) : Pcg64(SeedSequence(seed)) {}

Pcg64::Pcg64(const SeedSequence& seq) {
  const std::vector<uint64_t> v = seq.generate_state_u64(4);
  seed128(v[0], v[1], v[2], v[3]);
}

void Pcg64::seed128(uint64_t s_hi, uint64_t s_lo, uint64_t i_hi, uint64_t i_lo) {
  w_[0] = 0;
  w_[1] = 0;
  w_[2] = (i_hi << 1) | (i_lo >> 63);
  w_[3] = (i_lo << 1) | 1u;
  step();
  add128(w_[0], w_[1], s_hi, s_lo);
  step();
  w_[4] = 0;
  w_[5] = 0;
}

void Pcg64::step() {
  uint64_t hi, lo;
  mul64(w_[1], kMulLo, hi, lo);
  hi += w_[0] * kMulLo + w_[1] * kMulHi;
  w_[0] = hi;
  w_[1] = lo;
  add128(w_[0], w_[1], w_[2], w_[3]);
}

uint64_t Pcg64::next_u64() {
  step();
  const uint64_t x = w_[0] ^ w_[1];
  const unsigned rot = static_cast<unsigned>(w_[0] >> 58);
  return (x >> rot) | (x << ((64u - rot) & 63u));
}

double Pcg64::uniform() {
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

double Pcg64::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

namespace {

// log(m * 2^e) for m in [sqrt(1/2), sqrt(2)), e given as a double: portable_log's series,
// log(m) = 2 atanh(z) with z = (m-1)/(m+1), and ln 2 in two parts. V is double, or a vector of
// doubles (each lane the same operations in the same order).
template <class V>
V log_reduced(V m, V de) {
  const V z = (m - 1.0) / (m + 1.0);
  const V z2 = z * z;
  // |z| <= 0.1716, so z^2 <= 0.0295 and 13 odd terms reach double precision.
  V term = z, sum = V{};
  for (int k = 0; k < 13; ++k) {
    sum += term / static_cast<double>(2 * k + 1);
    term *= z2;
  }
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // high bits of ln 2 (exact * e)
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  return de * kLn2Hi + (2.0 * sum + de * kLn2Lo);
}

// Lanes of doubles side by side: the target's vector width (GCC's and clang's vector
// extensions; a target without such vectors gets them as scalar code, with the same results).
#if defined(__AVX512F__)
constexpr size_t kLanes = 8;
#elif defined(__AVX__)
constexpr size_t kLanes = 4;
#else
constexpr size_t kLanes = 2;
#endif
typedef double VD __attribute__((vector_size(kLanes * sizeof(double))));
typedef int64_t VI __attribute__((vector_size(kLanes * sizeof(double))));

// f[p] = sqrt(-2 log(r2[p]) / r2[p]), the polar method's factor, for r2 in [2^-104, 1) (normal
// numbers): portable_log's operations in its order in every lane (frexp by the exponent bits,
// which is exact for normal numbers), so each f[p] has the bits normal() gives it.
void polar_factors(const double* r2, double* f, size_t n) {
  for (size_t p0 = 0; p0 < n; p0 += kLanes) {
    double in[kLanes];
    for (size_t j = 0; j < kLanes; ++j) in[j] = p0 + j < n ? r2[p0 + j] : 0.5;
    VD x, m;
    VI bits;
    std::memcpy(&x, in, sizeof x);
    std::memcpy(&bits, &x, sizeof bits);
    VI e = ((bits >> 52) & 0x7ff) - 1022;  // x = m * 2^e, m in [0.5, 1)
    const VI mbits =
        (bits & static_cast<int64_t>(0x800fffffffffffffULL)) | (static_cast<int64_t>(1022) << 52);
    std::memcpy(&m, &mbits, sizeof m);
    const VI low = m < 0.70710678118654752440;  // -1 where m < sqrt(1/2)
    m = low ? m * 2.0 : m;
    e += low;
    const VD q = -2.0 * log_reduced(m, __builtin_convertvector(e, VD)) / x;
    double out[kLanes];
    std::memcpy(out, &q, sizeof out);
    for (size_t j = 0; j < kLanes && p0 + j < n; ++j) f[p0 + j] = std::sqrt(out[j]);
  }
}

}  // namespace

void Pcg64::normals(double* out, size_t n) {
  size_t i = 0;
  if (n > 0 && w_[4] == 1) out[i++] = normal();  // the cached one
  constexpr size_t kPairs = 32;
  double x1[kPairs], x2[kPairs], r2[kPairs], f[kPairs];
  while (i < n) {
    const size_t pairs = std::min(kPairs, (n - i + 1) / 2);
    // normal()'s loop, without its unpredictable branch: a rejected pair is overwritten.
    for (size_t p = 0; p < pairs;) {
      const double a = 2.0 * uniform() - 1.0, b = 2.0 * uniform() - 1.0, r = a * a + b * b;
      x1[p] = a;
      x2[p] = b;
      r2[p] = r;
      p += r < 1.0 && r != 0.0;
    }
    polar_factors(r2, f, pairs);
    for (size_t p = 0; p < pairs; ++p) {
      // normal(): returns f * x2 and caches f * x1 (the cache's bits stay when it is used).
      out[i++] = f[p] * x2[p];
      const double cached = f[p] * x1[p];
      std::memcpy(&w_[5], &cached, sizeof cached);
      if (i < n)
        out[i++] = cached;
      else
        w_[4] = 1;
    }
  }
}

double Pcg64::normal() {
  if (w_[4] == 1) {
    w_[4] = 0;
    double cached;
    std::memcpy(&cached, &w_[5], sizeof cached);
    return cached;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * uniform() - 1.0;
    x2 = 2.0 * uniform() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * portable_log(r2) / r2);  // sqrt is exact in IEEE-754
  const double cached = f * x1;
  std::memcpy(&w_[5], &cached, sizeof cached);
  w_[4] = 1;
  return f * x2;
}

uint64_t Pcg64::below(uint64_t n) {
  uint64_t hi, lo;
  mul64(next_u64(), n, hi, lo);
  if (lo < n) {
    const uint64_t threshold = (0 - n) % n;
    while (lo < threshold) mul64(next_u64(), n, hi, lo);
  }
  return hi;
}

size_t Pcg64::categorical(const float* weights, size_t n) {
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += weights[i];
  const double u = uniform() * total;
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cum += weights[i];
    if (u < cum) return i;
  }
  // u can reach the total only through rounding; take the last non-zero weight.
  for (size_t i = n; i-- > 0;)
    if (weights[i] > 0.0f) return i;
  return n - 1;
}

void Pcg64::shuffle(uint32_t* idx, size_t n) {
  for (size_t i = n; i > 1; --i) {
    const size_t j = static_cast<size_t>(below(i));
    const uint32_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}

std::array<uint64_t, Pcg64::kStateWords> Pcg64::state() const {
  std::array<uint64_t, kStateWords> out;
  std::copy(w_, w_ + kStateWords, out.begin());
  return out;
}

bool Pcg64::set_state(const std::array<uint64_t, kStateWords>& w) {
  if ((w[3] & 1u) == 0 || w[4] > 1) return false;  // PCG increments are odd
  std::copy(w.begin(), w.end(), w_);
  return true;
}

double portable_log(double x) {
  if (!(x > 0.0)) return x == 0.0 ? -HUGE_VAL : NAN;
  if (std::isinf(x)) return x;
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(z), z = (m-1)/(m+1).
  int e = 0;
  double m = std::frexp(x, &e);  // m in [0.5, 1); exact
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  return log_reduced(m, static_cast<double>(e));
}

}  // namespace edgerl
