// GAE, observation statistics, schedules and the replay buffer: the arithmetic every learner
#include <cstring>
// trusts. Expected values are worked by hand (GAE) or printed by numpy (RunningMeanStd, with
// Stable-Baselines3's update written out in numpy).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "learners/replay_buffer.hpp"
#include "learners/rl_math.hpp"

using namespace edgerl;

TEST_CASE("GAE bootstraps a truncated step from its final observation and not a terminal one") {
  // gamma = lambda = 0.5; step 1 is truncated (V(final obs) = 2), step 2 terminates.
  const float r[] = {1, 1, 1}, v[] = {0.5f, 0.25f, 0.125f}, nv[] = {0.25f, 2.0f, 9.0f};
  const uint8_t term[] = {0, 0, 1}, trunc[] = {0, 1, 0};
  float adv[3], ret[3];
  compute_gae(3, 1, r, v, nv, term, trunc, 0.5f, 0.5f, adv, ret);
  // t=2: 1 - 0.125; t=1: 1 + 0.5*2 - 0.25 (no carry: done); t=0: 1 + 0.5*0.25 - 0.5 + 0.25*1.75
  CHECK(adv[2] == 0.875f);
  CHECK(adv[1] == 1.75f);
  CHECK(adv[0] == 1.0625f);
  CHECK(ret[0] == 1.5625f);
  CHECK(ret[1] == 2.0f);
  CHECK(ret[2] == 1.0f);
}

TEST_CASE("GAE carries advantages back through an unfinished rollout, per env") {
  // Two envs interleaved [t][e]; env 0 as worked by hand, env 1 all zero.
  const float r[] = {0, 0, 0, 0, 1, 0}, v[] = {0, 0, 0, 0, 0, 0}, nv[] = {0, 0, 0, 0, 4, 0};
  const uint8_t none[] = {0, 0, 0, 0, 0, 0};
  float adv[6], ret[6];
  compute_gae(3, 2, r, v, nv, none, none, 0.5f, 0.5f, adv, ret);
  CHECK(adv[4] == 3.0f);  // 1 + 0.5 * 4
  CHECK(adv[2] == 0.75f);
  CHECK(adv[0] == 0.1875f);
  CHECK(adv[1] == 0.0f);
  CHECK(adv[3] == 0.0f);
  CHECK(adv[5] == 0.0f);
}

TEST_CASE("RunningMeanStd matches Stable-Baselines3's update") {
  RunningMeanStd rms(2);
  const float a[] = {1, 2, 3, 5, 0, -1}, b[] = {2, 2, 4, 4};
  rms.update(a, 3);
  rms.update(b, 2);
  TensorList t;
  rms.append_tensors(t, "obs_norm/");
  REQUIRE(t.size() == 3);
  const double* mean = static_cast<const double*>(t[0].data);
  const double* var = static_cast<const double*>(t[1].data);
  CHECK(mean[0] == doctest::Approx(1.9999600007999838).epsilon(1e-14));
  CHECK(mean[1] == doctest::Approx(2.399952000959981).epsilon(1e-14));
  CHECK(var[0] == doctest::Approx(2.0000599972000885).epsilon(1e-14));
  CHECK(var[1] == doctest::Approx(4.240050396688113).epsilon(1e-14));
  CHECK(*static_cast<const double*>(t[2].data) == doctest::Approx(5.0001));
  const float one[] = {1, 1};
  float out[2];
  rms.normalise(one, 1, out);
  CHECK(out[0] == doctest::Approx(-0.7070679068565369));
  CHECK(out[1] == doctest::Approx(-0.6798727512359619));
}

TEST_CASE("normalised observations are clipped") {
  RunningMeanStd rms(1, 5.0);
  const float x[] = {1e6f};
  float out[1];
  rms.normalise(x, 1, out);
  CHECK(out[0] == 5.0f);
}

TEST_CASE("linear schedule interpolates and then holds") {
  CHECK(linear_schedule(1.0, 0.05, 0, 100) == 1.0);
  CHECK(linear_schedule(1.0, 0.0, 50, 100) == 0.5);
  CHECK(linear_schedule(1.0, 0.05, 100, 100) == 0.05);
  CHECK(linear_schedule(1.0, 0.05, 1e9, 100) == 0.05);
  CHECK(linear_schedule(1.0, 0.05, 3, 0) == 0.05);
}

TEST_CASE("replay buffer overwrites the oldest transitions and samples only stored ones") {
  ReplayBuffer buf(3, 2, 0);
  for (int i = 0; i < 5; ++i) {
    const float o[] = {float(i), float(i)}, n[] = {float(i + 1), float(i + 1)};
    buf.add(o, n, i, nullptr, float(10 * i), i == 4);
  }
  CHECK(buf.size() == 3);
  CHECK(buf.consistent());
  // Slots hold transitions 3, 4, 2 (ring position wrapped twice).
  CHECK(buf.obs(0)[0] == 3.0f);
  CHECK(buf.obs(1)[0] == 4.0f);
  CHECK(buf.obs(2)[0] == 2.0f);
  CHECK(buf.action(1) == 4);
  CHECK(buf.terminated(1));
  CHECK_FALSE(buf.terminated(0));
  CHECK(buf.reward(2) == 20.0f);
  CHECK(buf.next_obs(0)[1] == 4.0f);
  Pcg64 rng(1);
  std::vector<uint32_t> idx(3000);
  buf.sample(rng, idx.size(), idx.data());
  int counts[3] = {0, 0, 0};
  for (uint32_t i : idx) {
    REQUIRE(i < 3);
    counts[i]++;
  }
  for (int c : counts) CHECK(std::abs(c - 1000) < 150);
}

TEST_CASE("replay buffer: written_since names the rows the adds since then wrote") {
  ReplayBuffer buf(5, 1, 0);
  auto add = [&](int i) {
    const float o[] = {float(i)};
    buf.add(o, o, 0, nullptr, 0.0f, false);
  };
  for (int i = 0; i < 3; ++i) add(i);  // rows 0, 1, 2
  const uint64_t then = buf.adds();
  const uint32_t all[] = {0, 1, 2, 3, 4};
  CHECK_FALSE(buf.written_since(then, all, 5));  // nothing added since
  add(3);
  add(4);  // rows 3 and 4
  const uint32_t old_rows[] = {0, 1, 2, 2, 0};
  CHECK_FALSE(buf.written_since(then, old_rows, 5));
  const uint32_t row3[] = {0, 3}, row4[] = {4};
  CHECK(buf.written_since(then, row3, 2));
  CHECK(buf.written_since(then, row4, 1));
  add(5);  // wraps round: row 0
  const uint32_t row0[] = {0}, rows12[] = {1, 2};
  CHECK(buf.written_since(then, row0, 1));
  CHECK_FALSE(buf.written_since(then, rows12, 2));
  add(6);
  add(7);  // rows 1, 2: five adds since, every row
  const uint32_t row2[] = {2};
  CHECK(buf.written_since(then, row2, 1));
  CHECK(buf.written_since(buf.adds() - 7, row2, 1));  // more adds than rows
  CHECK_FALSE(buf.written_since(buf.adds(), all, 5));
}

TEST_CASE("replay buffer: sample_from draws what sample draws at that size") {
  ReplayBuffer buf(50, 1, 0);
  for (int i = 0; i < 37; ++i) {
    const float o[] = {float(i)};
    buf.add(o, o, 0, nullptr, 0.0f, false);
  }
  Pcg64 a(7), b(7);
  std::vector<uint32_t> x(200), y(200);
  buf.sample(a, x.size(), x.data());
  ReplayBuffer::sample_from(37, b, y.size(), y.data());
  CHECK(x == y);
  CHECK(a.state() == b.state());
}

TEST_CASE("replay buffer state round-trips through its tensors") {
  ReplayBuffer a(4, 1, 0), b(4, 1, 0);
  for (int i = 0; i < 6; ++i) {
    const float o[] = {float(i)}, n[] = {float(-i)};
    a.add(o, n, i % 2, nullptr, 1.0f, false);
  }
  TensorList ta, tb;
  a.append_tensors(ta, "buffer/");
  b.append_tensors(tb, "buffer/");
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    CHECK(ta[i].name == tb[i].name);
    std::memcpy(tb[i].data, ta[i].data, ta[i].size_bytes());
  }
  CHECK(b.size() == 4);
  CHECK(b.obs(1)[0] == 5.0f);
  const float o[] = {9}, n[] = {9};
  a.add(o, n, 0, nullptr, 0, false);
  b.add(o, n, 0, nullptr, 0, false);
  CHECK(a.obs(2)[0] == b.obs(2)[0]);
}

TEST_CASE("impossible restored counters are detected") {
  ReplayBuffer a(4, 1, 0);
  TensorList t;
  a.append_tensors(t, "b/");
  *static_cast<uint64_t*>(t.back().data) = 99;  // size
  CHECK_FALSE(a.consistent());
}
