// Adam against hand-computed steps, gradient clipping, optimizer state as tensors, and the
// pinned bits of a short training run (the same on native, portable and aarch64 builds).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "alloc_counter.hpp"
#include "edgerl/nn.hpp"
#include "edgerl/optim.hpp"

using edgerl::Adam;
using edgerl::AdamOptions;

namespace {

// FNV-1a over the bytes of float buffers: any changed bit changes the hash.
struct Fnv1a {
  uint64_t h = 1469598103934665603ull;
  void add(const float* p, size_t n) {
    const unsigned char* b = reinterpret_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n * sizeof(float); ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
};

// A fixed regression run: forward, MSE gradient, backward, clipping, Adam; returns the hash of
// every output, gradient and parameter along the way.
uint64_t training_hash(edgerl::Activation act) {
  edgerl::Mlp net({4, 64, 64, 2}, act, 1.0);
  edgerl::Pcg64 rng(1);
  net.init(rng);
  Adam adam(net.num_params(), AdamOptions{1e-3, 0.9, 0.999, 1e-5});
  const size_t batch = 37;
  std::vector<float> x(batch * 4), target(batch * 2), y(batch * 2), dy(batch * 2);
  Fnv1a hash;
  for (int step = 0; step < 4; ++step) {
    for (float& v : x) v = static_cast<float>(2.0 * rng.normal());
    for (float& v : target) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    net.forward(x.data(), batch, y.data());
    for (size_t i = 0; i < y.size(); ++i) dy[i] = (y[i] - target[i]) / static_cast<float>(batch);
    net.zero_grad();
    net.backward(dy.data(), batch, nullptr);
    edgerl::clip_grad_norm(net.grads(), net.num_params(), 0.5);
    adam.step(net.params(), net.grads());
    hash.add(y.data(), y.size());
    hash.add(net.grads(), net.num_params());
    hash.add(net.params(), net.num_params());
  }
  hash.add(adam.m(), adam.size());
  hash.add(adam.v(), adam.size());
  return hash.h;
}

}  // namespace

TEST_CASE("Adam matches hand-computed steps with bias correction") {
  // lr 0.1, betas 0.9/0.999, eps 1e-8, p0 = 1, gradients 0.5, -0.25, 1.0:
  //   t=1: m = 0.05, v = 0.00025, p = 1 - 0.1 * 1/(1 + 2e-8)          = 0.900000002
  //   t=2: m = 0.02, v = 0.00031225, m^ = 0.02/0.19, v^ = v/0.001999 -> p = 0.8733662987
  //   t=3: m = 0.118, v = 0.00131193775                               -> p = 0.8075551397
  Adam adam(1, AdamOptions{0.1, 0.9, 0.999, 1e-8});
  float p = 1.0f;
  const float g[3] = {0.5f, -0.25f, 1.0f};
  const double m[3] = {0.05, 0.02, 0.118}, v[3] = {0.00025, 0.00031225, 0.00131193775};
  const double want[3] = {0.900000002, 0.8733662987078463, 0.8075551396770898};
  for (int t = 0; t < 3; ++t) {
    adam.step(&p, &g[t]);
    CHECK(adam.step_count() == t + 1);
    CHECK(adam.m()[0] == doctest::Approx(m[t]).epsilon(1e-6));
    CHECK(adam.v()[0] == doctest::Approx(v[t]).epsilon(1e-6));
    CHECK(p == doctest::Approx(want[t]).epsilon(1e-6));
  }
}

TEST_CASE("Adam gives the textbook formula's bits before and after its bias corrections reach 1") {
  // Adam leaves out the division by a bias correction once it is exactly 1.0f (after ~170
  // steps for beta1 = 0.9, ~17,000 for beta2 = 0.999); every step must still give the bits of
  // the formula with both divisions, computed here the plain way.
  const size_t n = 37;
  Adam adam(n, AdamOptions{1e-3, 0.9, 0.999, 1e-7});
  std::vector<float> p(n), ref_p(n), m(n, 0.0f), v(n, 0.0f), g(n);
  edgerl::Pcg64 rng(7);
  for (size_t i = 0; i < n; ++i) p[i] = ref_p[i] = static_cast<float>(rng.normal());
  const float tiny = std::numeric_limits<float>::min();
  double b1t = 1.0, b2t = 1.0;
  bool seen_bc1_one = false, seen_bc2_one = false;
  int mismatches = 0;
  for (int t = 1; t <= 17600; ++t) {
    for (size_t i = 0; i < n; ++i) g[i] = static_cast<float>(0.1 * rng.normal());
    adam.step(p.data(), g.data());
    b1t *= 0.9;
    b2t *= 0.999;
    volatile float bc1 = static_cast<float>(1.0 - b1t), bc2 = static_cast<float>(1.0 - b2t);
    seen_bc1_one = seen_bc1_one || bc1 == 1.0f;
    seen_bc2_one = seen_bc2_one || bc2 == 1.0f;
    for (size_t i = 0; i < n; ++i) {
      const float mi = 0.1f * g[i] + 0.9f * m[i];
      const float vi = static_cast<float>(1.0 - 0.999) * (g[i] * g[i]) + 0.999f * v[i];
      m[i] = std::fabs(mi) < tiny ? 0.0f : mi;
      v[i] = vi < tiny ? 0.0f : vi;
      const float m_hat = m[i] / bc1, v_hat = v[i] / bc2;
      ref_p[i] = ref_p[i] - 1e-3f * (m_hat / (std::sqrt(v_hat) + 1e-7f));
    }
    if (std::memcmp(p.data(), ref_p.data(), n * sizeof(float)) != 0) ++mismatches;
  }
  CHECK(seen_bc1_one);
  CHECK(seen_bc2_one);
  CHECK(mismatches == 0);
  CHECK(std::memcmp(adam.m(), m.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(adam.v(), v.data(), n * sizeof(float)) == 0);
}

TEST_CASE("Adam's first step moves each parameter by lr against the gradient's sign") {
  Adam adam(4, AdamOptions{0.01, 0.9, 0.999, 1e-8});
  float p[4] = {0.0f, 1.0f, -2.0f, 3.0f};
  const float g[4] = {1e-3f, -50.0f, 2.0f, 0.0f};
  adam.step(p, g);
  CHECK(p[0] == doctest::Approx(-0.01).epsilon(1e-4));
  CHECK(p[1] == doctest::Approx(1.01).epsilon(1e-6));
  CHECK(p[2] == doctest::Approx(-2.01).epsilon(1e-6));
  CHECK(p[3] == 3.0f);  // zero gradient: no move
  adam.set_lr(0.0);
  const float before = p[1];
  adam.step(p, g);
  CHECK(p[1] == before);
  CHECK_THROWS_AS(Adam(1, AdamOptions{0.1, 1.0, 0.999, 1e-8}), std::invalid_argument);
}

TEST_CASE("Adam state restored from its tensors continues bit for bit") {
  const size_t n = 9;
  std::vector<float> grads(n);
  Adam a(n, AdamOptions{0.05, 0.9, 0.99, 1e-5}), b(n, AdamOptions{0.05, 0.9, 0.99, 1e-5});
  std::vector<float> pa(n, 0.5f);
  edgerl::Pcg64 rng(4);
  auto next_grads = [&] {
    for (float& g : grads) g = static_cast<float>(rng.normal());
  };
  for (int t = 0; t < 3; ++t) next_grads(), a.step(pa.data(), grads.data());
  edgerl::TensorList la, lb;
  a.append_tensors(la, "opt/actor");
  b.append_tensors(lb, "opt/actor");
  REQUIRE(la.size() == 3);
  CHECK(la[0].name == "opt/actor/m");
  CHECK(la[1].name == "opt/actor/v");
  CHECK(la[2].name == "opt/actor/step");
  CHECK(la[2].dtype == edgerl::DType::i64);
  CHECK(la[0].shape == std::vector<uint64_t>{n});
  for (size_t i = 0; i < la.size(); ++i) std::memcpy(lb[i].data, la[i].data, la[i].size_bytes());
  CHECK(b.step_count() == 3);
  std::vector<float> pb = pa;
  for (int t = 0; t < 3; ++t) {
    next_grads();
    a.step(pa.data(), grads.data());
    b.step(pb.data(), grads.data());
  }
  CHECK(pa == pb);
  b.check_restored("opt/actor");  // 6 steps: possible
  b.reset();
  CHECK(b.step_count() == 0);
  CHECK(b.m()[0] == 0.0f);
  // A step count no run reaches (a forged file: its CRCs hold) is refused at restore, before
  // a step could divide by a zero bias correction or count past INT64_MAX.
  for (const int64_t forged : {int64_t{-1}, INT64_MAX}) {
    std::memcpy(lb[2].data, &forged, sizeof forged);
    CHECK_THROWS_WITH_AS(b.check_restored("opt/actor"),
                         ("opt/actor/step = " + std::to_string(forged) + " is impossible").c_str(),
                         std::runtime_error);
  }
}

TEST_CASE("clip_grad_norm scales to max_norm and returns the norm before clipping") {
  float g[2] = {3.0f, 4.0f};
  CHECK(edgerl::global_norm(g, 2) == 5.0);
  CHECK(edgerl::clip_grad_norm(g, 2, 10.0) == 5.0);  // below the limit: unchanged
  CHECK(g[0] == 3.0f);
  CHECK(edgerl::clip_grad_norm(g, 2, 0.0) == 5.0);  // 0 disables
  CHECK(g[1] == 4.0f);
  CHECK(edgerl::clip_grad_norm(g, 2, 0.5) == 5.0);
  CHECK(g[0] == doctest::Approx(0.3));
  CHECK(g[1] == doctest::Approx(0.4));
  CHECK(edgerl::global_norm(g, 2) == doctest::Approx(0.5));
  // Longer buffers (every partial-sum lane and the tail) against a plain double sum.
  std::vector<float> many(1003);
  double sum = 0.0;
  for (size_t i = 0; i < many.size(); ++i) {
    many[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    sum += static_cast<double>(many[i]) * many[i];
  }
  CHECK(edgerl::global_norm(many.data(), many.size()) == doctest::Approx(std::sqrt(sum)));
}

TEST_CASE("an Adam step allocates nothing") {
  std::vector<float> p(100, 1.0f), g(100, 0.5f);
  Adam adam(p.size(), AdamOptions{});
  const uint64_t before = edgerl::testing::allocation_count();
  adam.step(p.data(), g.data());
  edgerl::clip_grad_norm(g.data(), g.size(), 0.1);
  CHECK(edgerl::testing::allocation_count() == before);
}

TEST_CASE("a short training run gives pinned bits on every build") {
  // The same numbers must come out of native (AVX-512), portable (SSE2) and aarch64 builds:
  // a change here means results now depend on the build, or the maths changed on purpose.
  CHECK(training_hash(edgerl::Activation::tanh) == 11079491359626544460ull);
  CHECK(training_hash(edgerl::Activation::relu) == 789231842023281548ull);
}

TEST_CASE("Adam: a gradient that stays 0 lets the moments reach 0 without subnormal values") {
  AdamOptions o;
  o.lr = 1e-3;
  Adam adam(2, o);
  float params[2] = {0.5f, -0.5f};
  const float first[2] = {1e-3f, 0.25f}, zero[2] = {0.0f, 0.0f};
  adam.step(params, first);
  bool subnormal = false;
  int steps = 0;
  while ((adam.m()[0] != 0.0f || adam.v()[0] != 0.0f || adam.v()[1] != 0.0f) && steps < 200000) {
    adam.step(params, zero);
    ++steps;
    for (int i = 0; i < 2; ++i)
      subnormal = subnormal || std::fpclassify(adam.m()[i]) == FP_SUBNORMAL ||
                  std::fpclassify(adam.v()[i]) == FP_SUBNORMAL;
  }
  CHECK_FALSE(subnormal);
  CHECK(adam.v()[1] == 0.0f);  // v decays by beta2 = 0.999 a step: to below 1.2e-38 in ~87k steps
  CHECK(steps < 100000);
  CHECK(std::isfinite(params[0]));
}
