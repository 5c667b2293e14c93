// The parts the learners share (learners/common.hpp, replay_buffer.hpp, rollout.hpp and the
// batched policy heads), each against a hand-worked or looped reference.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgerl/nn.hpp"
#include "learners/common.hpp"
#include "learners/replay_buffer.hpp"
#include "learners/rollout.hpp"
#include "nn/distributions.hpp"

using namespace edgerl;

TEST_CASE("parts: the learning-rate schedule is constant, or linear to 0 over its steps") {
  const LrSchedule flat{0.5, false, 10};
  CHECK(flat.at(7) == 0.5);
  const LrSchedule decay{0.5, true, 10};
  CHECK(decay.at(0) == 0.5);
  CHECK(decay.at(5) == 0.25);
  CHECK(decay.at(10) == 0.0);
}

TEST_CASE("parts: the target network follows every period steps, by copy or Polyak average") {
  Mlp online({2, 3, 1}, Activation::tanh, 1.0), target({2, 3, 1}, Activation::tanh, 1.0);
  Pcg64 rng(1);
  online.init(rng);
  const TargetUpdate hard{1.0, 2};
  hard.after_step(1, target, online);
  CHECK(target.params()[0] == 0.0f);  // not due
  hard.after_step(2, target, online);
  for (size_t i = 0; i < online.num_params(); ++i) CHECK(target.params()[i] == online.params()[i]);
  Mlp slow({2, 3, 1}, Activation::tanh, 1.0);
  const TargetUpdate polyak{0.25, 1};
  polyak.after_step(1, slow, online);
  for (size_t i = 0; i < online.num_params(); ++i)
    CHECK(slow.params()[i] == doctest::Approx(0.25 * online.params()[i]));
}

TEST_CASE("parts: n-step windows sum discounted rewards and end at terminations") {
  // One env, n = 3, observations of one value: obs t = t, reward t = t + 1.
  ReplayBuffer buf(16, 1, 0);
  NStepWriter w(1, 3, 1, 0, 0.5);
  CHECK(w.bootstrap_discount() == 0.125f);
  float obs[8], next[8];
  for (int t = 0; t < 8; ++t) obs[t] = static_cast<float>(t), next[t] = static_cast<float>(t + 1);
  w.push(0, &obs[0], 1, nullptr, 1, false, false, &next[0], buf);
  w.push(0, &obs[1], 0, nullptr, 2, false, false, &next[1], buf);
  CHECK(buf.size() == 0);  // no window of 3 yet
  w.push(0, &obs[2], 1, nullptr, 3, false, false, &next[2], buf);
  REQUIRE(buf.size() == 1);  // steps 0-2: 1 + 0.5*2 + 0.25*3, next obs after step 2
  CHECK(buf.obs(0)[0] == 0.0f);
  CHECK(buf.action(0) == 1);
  CHECK(buf.reward(0) == 2.75f);
  CHECK(buf.next_obs(0)[0] == 3.0f);
  CHECK_FALSE(buf.terminated(0));
  // Termination after step 3: the windows from steps 1, 2 and 3 are all stored, unbootstrapped.
  w.push(0, &obs[3], 0, nullptr, 4, true, false, &next[3], buf);
  REQUIRE(buf.size() == 4);
  CHECK(buf.reward(1) == 2 + 0.5f * 3 + 0.25f * 4);
  CHECK(buf.reward(2) == 3 + 0.5f * 4);
  CHECK(buf.reward(3) == 4.0f);
  for (size_t i = 1; i < 4; ++i) CHECK(buf.terminated(i));
  // A truncation two steps into the next episode drops both short windows.
  w.push(0, &obs[4], 0, nullptr, 1, false, false, &next[4], buf);
  w.push(0, &obs[5], 0, nullptr, 1, false, true, &next[5], buf);
  CHECK(buf.size() == 4);
}

TEST_CASE("parts: the batched heads draw exactly what a loop over rows draws") {
  const size_t rows = 5, n = 3;
  std::vector<float> logits = {0.1f, 2.0f,  -1.0f, 0.0f, 0.0f, 0.0f, 3.0f, 1.0f,
                               0.5f, -2.0f, 4.0f,  4.0f, 1.0f, 1.0f, 0.0f};
  Pcg64 a(7), b(7);
  std::vector<int32_t> batch(rows);
  std::vector<float> lp(rows);
  categorical::sample_rows(logits.data(), rows, n, a, batch.data(), lp.data());
  for (size_t r = 0; r < rows; ++r) {
    const size_t k = categorical::sample(&logits[r * n], n, b);
    CHECK(batch[r] == static_cast<int32_t>(k));
    CHECK(lp[r] == categorical::log_prob(&logits[r * n], n, k));
  }
  std::vector<int32_t> greedy(rows);
  categorical::argmax_rows(logits.data(), rows, n, greedy.data());
  for (size_t r = 0; r < rows; ++r)
    CHECK(greedy[r] == static_cast<int32_t>(categorical::argmax(&logits[r * n], n)));
  const float log_std[2] = {-0.5f, 0.25f};
  Pcg64 c(9), d(9);
  std::vector<float> acts(rows * 2), one(2), glp(rows);
  diag_gaussian::sample_rows(logits.data(), log_std, rows, 2, c, acts.data(), glp.data());
  for (size_t r = 0; r < rows; ++r) {
    diag_gaussian::sample(&logits[r * 2], log_std, 2, d, one.data());
    CHECK(acts[r * 2] == one[0]);
    CHECK(acts[r * 2 + 1] == one[1]);
    CHECK(glp[r] == diag_gaussian::log_prob(&logits[r * 2], log_std, one.data(), 2));
  }
}

TEST_CASE("parts: a rollout lists its arrays as [T, E] tensors") {
  Rollout ro(4, 3, 2, 0);
  TensorList t;
  ro.append_tensors(t, "rollout/");
  REQUIRE(t.size() == 10);
  CHECK(t[0].name == "rollout/obs");
  CHECK(t[0].shape == std::vector<uint64_t>{4, 3, 2});
  CHECK(t[1].dtype == DType::i32);
  CHECK(t[1].shape == std::vector<uint64_t>{4, 3});
  ro.terminated[5] = 1;
  ro.truncated[5] = 1;
  ro.truncated[6] = 1;
  CHECK_FALSE(ro.truncated_only(5));
  CHECK(ro.truncated_only(6));
}
