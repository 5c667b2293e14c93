// Policy heads: values against textbook formulas, sampling statistics, and every gradient
// against central finite differences in double.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "alloc_counter.hpp"
#include "core/detmath.hpp"
#include "nn/distributions.hpp"

namespace cat = edgerl::categorical;
namespace dg = edgerl::diag_gaussian;
namespace tg = edgerl::tanh_gaussian;
using edgerl::Pcg64;

namespace {

// Largest relative error between analytic and central-difference derivatives of f at x.
double worst_relative_error(const std::function<double(const std::vector<double>&)>& f,
                            const std::vector<double>& x, const std::vector<double>& analytic) {
  const double h = 1e-6;
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> up = x, down = x;
    up[i] += h;
    down[i] -= h;
    const double numeric = (f(up) - f(down)) / (2 * h);
    const double scale = std::max({std::fabs(numeric), std::fabs(analytic[i]), 1e-6});
    worst = std::max(worst, std::fabs(numeric - analytic[i]) / scale);
  }
  return worst;
}

std::vector<double> normals(Pcg64& rng, size_t n, double scale) {
  std::vector<double> v(n);
  for (double& x : v) x = scale * rng.normal();
  return v;
}

}  // namespace

TEST_CASE("categorical log-probabilities, entropy and argmax follow the softmax") {
  const float logits[4] = {1.0f, -2.0f, 3.0f, 0.5f};
  double z = 0.0;
  for (float l : logits) z += std::exp(double(l));
  float lp[4];
  cat::log_softmax(logits, 4, lp);
  double h = 0.0, total = 0.0;
  for (int k = 0; k < 4; ++k) {
    const double want = logits[k] - std::log(z);
    CHECK(lp[k] == doctest::Approx(want).epsilon(1e-6));
    CHECK(cat::log_prob(logits, 4, k) == lp[k]);
    total += std::exp(double(lp[k]));
    h -= std::exp(want) * want;
  }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(cat::entropy(logits, 4) == doctest::Approx(h).epsilon(1e-6));
  CHECK(cat::argmax(logits, 4) == 2);
  const float ties[3] = {5.0f, 7.0f, 7.0f};
  CHECK(cat::argmax(ties, 3) == 1);
  const double uniform[5] = {0.3, 0.3, 0.3, 0.3, 0.3};
  CHECK(cat::entropy(uniform, 5) == doctest::Approx(std::log(5.0)).epsilon(1e-14));
  // Large logits do not overflow; an impossible action has p = 0 and adds no entropy.
  const float big[2] = {1000.0f, 1000.0f};
  CHECK(cat::log_prob(big, 2, 0) == doctest::Approx(-std::log(2.0)));
  const float masked[3] = {0.0f, -INFINITY, 0.0f};
  CHECK(cat::entropy(masked, 3) == doctest::Approx(std::log(2.0)));
  CHECK(cat::log_prob(masked, 3, 1) == -INFINITY);
}

TEST_CASE("categorical samples follow the probabilities and never pick p = 0") {
  const float logits[4] = {0.0f, std::log(2.0f), std::log(3.0f), -INFINITY};
  Pcg64 rng(3);
  int counts[4] = {};
  const int n = 60000;
  for (int i = 0; i < n; ++i) ++counts[cat::sample(logits, 4, rng)];
  CHECK(counts[3] == 0);
  for (int k = 0; k < 3; ++k)
    CHECK(counts[k] / double(n) == doctest::Approx((k + 1) / 6.0).epsilon(0.03));
  Pcg64 a(8), b(8);
  for (int i = 0; i < 100; ++i) CHECK(cat::sample(logits, 4, a) == cat::sample(logits, 4, b));
}

TEST_CASE("categorical gradients of log-prob and entropy match finite differences") {
  Pcg64 rng(21);
  for (size_t n : {2, 3, 7}) {
    const std::vector<double> z = normals(rng, n, 1.5);
    const size_t action = n - 2;
    const double g_lp = -0.7, g_ent = 0.3;
    auto f = [&](const std::vector<double>& l) {
      return g_lp * cat::log_prob(l.data(), n, action) + g_ent * cat::entropy(l.data(), n);
    };
    std::vector<double> grad(n);
    cat::backward(z.data(), n, action, g_lp, g_ent, grad.data());
    CHECK(worst_relative_error(f, z, grad) < 1e-4);
  }
}

TEST_CASE("categorical loss terms of a batch equal log_prob, entropy and backward bit for bit") {
  Pcg64 rng(11);
  for (size_t n : {size_t{2}, size_t{3}, size_t{7}}) {
    CAPTURE(n);
    const size_t rows = 50;
    std::vector<float> logits(rows * n), lp(rows * n), p(rows * n), logp(rows), h(rows);
    std::vector<int32_t> actions(rows);
    for (size_t i = 0; i < logits.size(); ++i)
      logits[i] = static_cast<float>(rng.normal() * (i % 5 == 0 ? 40.0 : 2.0));  // p = 0 too
    for (size_t r = 0; r < rows; ++r) actions[r] = static_cast<int32_t>((r * 7) % n);
    cat::loss_terms_rows(logits.data(), rows, n, actions.data(), lp.data(), p.data(), logp.data(),
                         h.data());
    for (size_t r = 0; r < rows; ++r) {
      const float* row = &logits[r * n];
      const size_t a = static_cast<size_t>(actions[r]);
      const float want_lp = cat::log_prob(row, n, a), want_h = cat::entropy(row, n);
      CHECK(std::memcmp(&logp[r], &want_lp, sizeof(float)) == 0);
      CHECK(std::memcmp(&h[r], &want_h, sizeof(float)) == 0);
      std::vector<float> want(n), got(n);
      cat::backward(row, n, a, 0.3f, -0.01f, want.data());
      cat::backward_from_terms(&lp[r * n], &p[r * n], n, a, h[r], 0.3f, -0.01f, got.data());
      CHECK(std::memcmp(want.data(), got.data(), n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("diagonal Gaussian log-prob, entropy and samples follow the normal density") {
  const double mean[2] = {0.5, -1.0}, log_std[2] = {std::log(2.0), std::log(0.5)};
  const double action[2] = {1.5, -1.25};
  double want = 0.0;
  for (int i = 0; i < 2; ++i) {
    const double s = std::exp(log_std[i]), z = (action[i] - mean[i]) / s;
    want += -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * M_PI);
  }
  CHECK(dg::log_prob(mean, log_std, action, 2) == doctest::Approx(want).epsilon(1e-14));
  CHECK(dg::entropy(log_std, 2) == doctest::Approx(1.0 + std::log(2 * M_PI)).epsilon(1e-14));
  Pcg64 rng(5);
  double sum[2] = {}, sq[2] = {};
  const int n = 40000;
  for (int k = 0; k < n; ++k) {
    float a[2];
    const float m[2] = {0.5f, -1.0f}, ls[2] = {float(log_std[0]), float(log_std[1])};
    dg::sample(m, ls, 2, rng, a);
    for (int i = 0; i < 2; ++i) sum[i] += a[i], sq[i] += double(a[i]) * a[i];
  }
  for (int i = 0; i < 2; ++i) {
    const double mu = sum[i] / n, sd = std::sqrt(sq[i] / n - mu * mu);
    CHECK(mu == doctest::Approx(mean[i]).epsilon(0.02));
    CHECK(sd == doctest::Approx(std::exp(log_std[i])).epsilon(0.02));
  }
}

TEST_CASE("diagonal Gaussian gradients match finite differences and accumulate log-std") {
  Pcg64 rng(22);
  const size_t d = 3;
  const std::vector<double> mean = normals(rng, d, 1.0), log_std = normals(rng, d, 0.5);
  const std::vector<double> action = normals(rng, d, 1.5);
  const double g_lp = 1.3, g_ent = -0.2;
  auto f = [&](const std::vector<double>& p) {  // p = mean ++ log_std
    return g_lp * dg::log_prob(p.data(), p.data() + d, action.data(), d) +
           g_ent * dg::entropy(p.data() + d, d);
  };
  std::vector<double> dmean(d), dlog_std(d, 0.0);
  dg::backward(mean.data(), log_std.data(), action.data(), d, g_lp, g_ent, dmean.data(),
               dlog_std.data());
  std::vector<double> p = mean, grad = dmean;
  p.insert(p.end(), log_std.begin(), log_std.end());
  grad.insert(grad.end(), dlog_std.begin(), dlog_std.end());
  CHECK(worst_relative_error(f, p, grad) < 1e-4);
  const std::vector<double> once = dlog_std;
  dg::backward(mean.data(), log_std.data(), action.data(), d, g_lp, g_ent, dmean.data(),
               dlog_std.data());
  for (size_t i = 0; i < d; ++i) CHECK(dlog_std[i] == 2 * once[i]);
}

TEST_CASE("tanh-Gaussian log-prob includes the tanh correction and stays finite") {
  const double mean[2] = {0.3, -0.8}, log_std[2] = {-0.5, 0.2};
  Pcg64 rng(6);
  double noise[2], action[2];
  const double lp = tg::sample(mean, log_std, 2, rng, noise, action);
  double want = 0.0;
  for (int i = 0; i < 2; ++i) {
    const double s = std::exp(log_std[i]), u = mean[i] + s * noise[i];
    CHECK(action[i] == doctest::Approx(std::tanh(u)).epsilon(1e-15));
    want += -0.5 * noise[i] * noise[i] - log_std[i] - 0.5 * std::log(2 * M_PI) -
            std::log(1 - std::tanh(u) * std::tanh(u));
  }
  CHECK(lp == doctest::Approx(want).epsilon(1e-12));
  CHECK(tg::log_prob(mean, log_std, noise, 2) == lp);
  double greedy[2];
  tg::mode(mean, 2, greedy);
  CHECK(greedy[0] == doctest::Approx(std::tanh(0.3)));
  // Saturated actions (|a| rounds to 1 in float) still have a finite log-probability.
  const float far_mean[1] = {30.0f}, far_log_std[1] = {0.0f}, zero_noise[1] = {0.0f};
  const float far = tg::log_prob(far_mean, far_log_std, zero_noise, 1);
  CHECK(std::isfinite(far));
  CHECK(far == doctest::Approx(-0.5 * std::log(2 * M_PI) - 2 * (std::log(2.0) - 30.0)));
}

TEST_CASE("tanh-Gaussian reparameterised gradients match finite differences") {
  Pcg64 rng(23);
  const size_t d = 4;
  const std::vector<double> mean = normals(rng, d, 1.0), log_std = normals(rng, d, 0.5);
  const std::vector<double> noise = normals(rng, d, 1.0), g_action = normals(rng, d, 1.0);
  const double g_lp = 0.4;
  for (const double* ga : {g_action.data(), static_cast<const double*>(nullptr)}) {
    auto f = [&](const std::vector<double>& p) {
      double v = g_lp * tg::log_prob(p.data(), p.data() + d, noise.data(), d);
      if (ga != nullptr)
        for (size_t i = 0; i < d; ++i) v += ga[i] * std::tanh(p[i] + std::exp(p[d + i]) * noise[i]);
      return v;
    };
    std::vector<double> dmean(d), dlog_std(d);
    tg::backward(mean.data(), log_std.data(), noise.data(), d, g_lp, ga, dmean.data(),
                 dlog_std.data());
    std::vector<double> p = mean, grad = dmean;
    p.insert(p.end(), log_std.begin(), log_std.end());
    grad.insert(grad.end(), dlog_std.begin(), dlog_std.end());
    CHECK(worst_relative_error(f, p, grad) < 1e-4);
  }
}

TEST_CASE("tanh-Gaussian rows give each row's one-row results bit for bit") {
  // Rows of d = 3 over a range that saturates tanh (|u| > 9) and reaches both log-std ends.
  Pcg64 rng(9);
  const size_t n = 37, d = 3;
  std::vector<float> mean(n * d), log_std(n * d), noise(n * d), g_action(n * d);
  for (size_t i = 0; i < n * d; ++i) {
    mean[i] = static_cast<float>(4 * rng.normal());
    log_std[i] = static_cast<float>(rng.uniform(-5, 2));
    noise[i] = static_cast<float>(rng.normal());
    g_action[i] = static_cast<float>(rng.normal());
  }
  std::vector<float> act(n * d), lp(n), dmean(n * d), dls(n * d);
  tg::actions_rows(mean.data(), log_std.data(), noise.data(), n, d, act.data());
  tg::log_prob_rows(mean.data(), log_std.data(), noise.data(), n, d, lp.data());
  for (const float* ga :
       {static_cast<const float*>(g_action.data()), static_cast<const float*>(nullptr)}) {
    tg::backward_rows(mean.data(), log_std.data(), noise.data(), n, d, 0.3f, ga, dmean.data(),
                      dls.data());
    for (size_t r = 0; r < n; ++r) {
      CAPTURE(r);
      const size_t k = r * d;
      float dm1[3], dl1[3];
      tg::backward(&mean[k], &log_std[k], &noise[k], d, 0.3f, ga ? ga + k : nullptr, dm1, dl1);
      CHECK(std::memcmp(dm1, &dmean[k], sizeof dm1) == 0);
      CHECK(std::memcmp(dl1, &dls[k], sizeof dl1) == 0);
      CHECK(tg::log_prob(&mean[k], &log_std[k], &noise[k], d) == lp[r]);
      for (size_t i = 0; i < d; ++i)
        CHECK(act[k + i] == edgerl::detmath::tanh(
                                mean[k + i] + edgerl::detmath::exp(log_std[k + i]) * noise[k + i]));
    }
  }
}

TEST_CASE("the heads allocate nothing") {
  const float logits[3] = {0.1f, 0.2f, 0.3f}, mean[2] = {0.0f, 1.0f}, log_std[2] = {0.0f, -1.0f};
  float out[3], noise[2], action[2], dls[2] = {};
  Pcg64 rng(1);
  const uint64_t before = edgerl::testing::allocation_count();
  cat::backward(logits, 3, 1, 1.0f, 0.01f, out);
  cat::sample(logits, 3, rng);
  dg::sample(mean, log_std, 2, rng, action);
  dg::backward(mean, log_std, action, 2, 1.0f, 0.0f, out, dls);
  tg::sample(mean, log_std, 2, rng, noise, action);
  tg::backward(mean, log_std, noise, 2, 1.0f, action, out, dls);
  CHECK(edgerl::testing::allocation_count() == before);
}
