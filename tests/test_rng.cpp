// The random stream is part of every result edgerl produces, so its first outputs are pinned.
// Expected values were printed by numpy 1.24 (Debian 12's python3-numpy), whose SeedSequence
// and PCG64 follow the published algorithms that src/rng.cpp implements.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "core/text.hpp"
#include "edgerl/rng.hpp"

using edgerl::Pcg64;
using edgerl::SeedSequence;

TEST_CASE("SeedSequence(0) generates numpy's state words") {
  const std::vector<uint64_t> expect = {15793235383387715774ull, 12390638538380655177ull,
                                        2361836109651742017ull, 3188717715514472916ull};
  CHECK(SeedSequence(0).generate_state_u64(4) == expect);
}

TEST_CASE("SeedSequence takes seeds wider than 32 bits as numpy does") {
  const std::vector<uint64_t> expect = {1644173037028754161ull, 11201317137259019729ull,
                                        2108524350246977381ull, 17333729244145299268ull};
  CHECK(SeedSequence(12345678901234567ull).generate_state_u64(4) == expect);
}

TEST_CASE("spawned children equal numpy's spawn()") {
  const SeedSequence child = SeedSequence(7).child(2);
  const std::vector<uint64_t> expect = {17559002276220262541ull, 3147876876828449332ull,
                                        16186442590910715187ull, 10566224325007739055ull};
  CHECK(child.generate_state_u64(4) == expect);
  CHECK(child.child(1).generate_state_u32(2) == std::vector<uint32_t>{2731737470u, 1282171894u});
  Pcg64 g(child);
  CHECK(g.next_u64() == 11659158256815307285ull);
  CHECK(g.next_u64() == 8979474222016441428ull);
}

TEST_CASE("PCG64 seeded with 0 has numpy's state and raw outputs") {
  Pcg64 g(0);
  CHECK(g.state_hi() == 0x1aa1b5345996452dull);
  CHECK(g.state_lo() == 0x09585eb7a69561e3ull);
  CHECK(g.inc_hi() == 0x418ddadb3af71a82ull);
  CHECK(g.inc_lo() == 0x588133bc447873a9ull);
  CHECK(g.next_u64() == 11749869230777074271ull);
  CHECK(g.next_u64() == 4976686463289251617ull);
  CHECK(g.next_u64() == 755828109848996024ull);
  CHECK(g.next_u64() == 304881062738325533ull);
}

TEST_CASE("uniform doubles equal numpy's Generator.random and uniform") {
  Pcg64 g(42);
  CHECK(g.uniform() == 0.7739560485559633);
  CHECK(g.uniform() == 0.4388784397520523);
  Pcg64 cart(0);  // Gymnasium CartPole-v1 reset(seed=0)
  CHECK(cart.uniform(-0.05, 0.05) == 0.013696168732145436);
  CHECK(cart.uniform(-0.05, 0.05) == -0.02302132862361297);
  CHECK(cart.uniform(-0.05, 0.05) == -0.045902647606380534);
  CHECK(cart.uniform(-0.05, 0.05) == -0.04834723644714709);
  Pcg64 pend(0);  // Gymnasium Pendulum-v1 reset(seed=0)
  CHECK(pend.uniform(-M_PI, M_PI) == 0.8605556614246863);
  CHECK(pend.uniform(-1.0, 1.0) == -0.4604265724722594);
}

TEST_CASE("state round trip continues the stream, including a cached normal") {
  Pcg64 a(123);
  a.normal();  // leaves the second normal of the pair cached
  const auto saved = a.state();
  std::vector<double> first;
  for (int i = 0; i < 5; ++i) first.push_back(a.normal());
  Pcg64 b(999);
  REQUIRE(b.set_state(saved));
  for (int i = 0; i < 5; ++i) CHECK(b.normal() == first[i]);
  CHECK(a.next_u64() == b.next_u64());
}

TEST_CASE("an invalid saved state is refused") {
  Pcg64 g(1);
  auto s = g.state();
  s[3] &= ~1ull;  // even increment
  CHECK_FALSE(g.set_state(s));
  s = g.state();
  s[4] = 7;
  CHECK_FALSE(g.set_state(s));
}

TEST_CASE("normal samples are pinned and have unit moments") {
  Pcg64 g(2024);
  // Pinned: any change to the sampler changes every trained agent.
  const double first = g.normal();
  Pcg64 again(2024);
  CHECK(again.normal() == first);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    sum += x;
    sq += x * x;
  }
  CHECK(std::fabs(sum / n) < 0.01);
  CHECK(std::fabs(sq / n - 1.0) < 0.01);
}

TEST_CASE("below is unbiased and in range; shuffle is a permutation") {
  Pcg64 g(5);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) {
    const uint64_t v = g.below(6);
    REQUIRE(v < 6);
    counts[v]++;
  }
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);
  std::vector<uint32_t> idx(100);
  for (uint32_t i = 0; i < 100; ++i) idx[i] = i;
  g.shuffle(idx.data(), idx.size());
  CHECK(std::set<uint32_t>(idx.begin(), idx.end()).size() == 100);
  bool moved = false;
  for (uint32_t i = 0; i < 100; ++i) moved |= idx[i] != i;
  CHECK(moved);
}

TEST_CASE("categorical follows its weights and never picks a zero weight") {
  Pcg64 g(11);
  const float w[4] = {0.0f, 1.0f, 3.0f, 0.0f};
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 40000; ++i) counts[g.categorical(w, 4)]++;
  CHECK(counts[0] == 0);
  CHECK(counts[3] == 0);
  CHECK(std::abs(counts[2] - 30000) < 500);
}

TEST_CASE("portable_log matches libm to within an ulp or two") {
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    const double a = edgerl::portable_log(x), b = std::log(x);
    CHECK(std::fabs(a - b) <= 4e-16 * std::fabs(b) + 1e-300);
  }
  CHECK(edgerl::portable_log(1.0) == 0.0);
}

TEST_CASE("UTC times are computed without gmtime (a 32-bit time_t ends in 2038)") {
  CHECK(edgerl::utc_text(0, true) == "19700101000000");
  CHECK(edgerl::utc_text(1767225600000, false) == "2026-01-01 00:00:00");
  CHECK(edgerl::utc_text(4102444799999, false) == "2099-12-31 23:59:59");
  CHECK(edgerl::utc_text(951782400000, true) == "20000229000000");  // a leap day
}

TEST_CASE("rng: normals() gives normal()'s numbers and leaves the same state, cache and all") {
  for (uint64_t seed : {0u, 1u, 42u}) {
    for (size_t n : {0u, 1u, 2u, 3u, 7u, 8u, 16u, 63u, 64u, 65u, 200u, 1001u}) {
      for (int skip = 0; skip < 3; ++skip) {  // with and without a cached normal first
        CAPTURE(seed);
        CAPTURE(n);
        CAPTURE(skip);
        Pcg64 a(seed), b(seed);
        for (int k = 0; k < skip; ++k) {
          a.normal();
          b.normal();
        }
        std::vector<double> want(n), got(n + 1, 7.0);
        for (double& x : want) x = a.normal();
        b.normals(got.data(), n);
        bool same = true;
        for (size_t i = 0; i < n; ++i)
          same = same && std::memcmp(&want[i], &got[i], sizeof(double)) == 0;
        CHECK(same);
        CHECK(got[n] == 7.0);  // nothing written past n
        CHECK(a.state() == b.state());
        const double x = a.normal(), y = b.normal();
        CHECK(std::memcmp(&x, &y, sizeof x) == 0);
      }
    }
  }
}
