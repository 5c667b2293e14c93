// The MLP: portable maths, the kernels against a plain loop, gradients against finite
// differences, orthogonal initialisation, target-network updates, and no allocation per call.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "alloc_counter.hpp"
#include "core/detmath.hpp"
#include "edgerl/nn.hpp"

using edgerl::Activation;
using edgerl::KernelInit;
using edgerl::Mlp;
using edgerl::MlpD;
using edgerl::NetworkConfig;
using edgerl::parse_kernel_init;
using edgerl::Pcg64;
namespace dm = edgerl::detmath;

namespace {

// Distance of `got` from `want` in units of the last place of T at `want`.
template <class T>
double ulps(T got, long double want) {
  if (std::isnan(want)) return std::isnan(got) ? 0.0 : 1e30;
  const T w = static_cast<T>(want);
  if (std::isinf(w)) return got == w ? 0.0 : 1e30;
  const T a = std::fabs(w);
  T ulp = std::nextafter(a, std::numeric_limits<T>::infinity()) - a;
  if (std::isinf(ulp)) ulp = a - std::nextafter(a, T(0));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / ulp);
}

// Largest error over float bit patterns in [lo, hi] (every `stride`-th pattern) and over
// `n` random doubles in [lo, hi].
template <class F, class D, class Ref>
void check_accuracy(F f32, D f64, Ref ref, double lo, double hi, double max_ulps) {
  double worst = 0.0, worst_x = 0.0;
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4093) {
    const uint32_t u = static_cast<uint32_t>(bits);
    float x;
    std::memcpy(&x, &u, sizeof x);
    if (!(x >= lo && x <= hi)) continue;
    const double e = ulps<float>(f32(x), ref(static_cast<long double>(x)));
    if (e > worst) worst = e, worst_x = x;
  }
  Pcg64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Half spread over the range, half near zero where relative accuracy is hardest.
    const double x =
        i % 2 ? rng.uniform(lo, hi) : rng.uniform(-1.0, 1.0) * std::ldexp(1.0, -(i % 40));
    if (!(x >= lo && x <= hi)) continue;
    const double e = ulps<double>(f64(x), ref(static_cast<long double>(x)));
    if (e > worst) worst = e, worst_x = x;
  }
  INFO("worst at x = " << worst_x);
  CHECK(worst <= max_ulps);
}

// y = a plain triple loop in the order the kernels promise: sum over k from 0, then + bias.
template <class T>
std::vector<T> reference_forward(const edgerl::BasicMlp<T>& net, const std::vector<T>& x,
                                 size_t batch) {
  std::vector<T> in = x;
  for (const auto& layer : net.layers()) {
    std::vector<T> out(batch * layer.out);
    const T* w = net.params() + layer.w_offset;
    const T* bias = net.params() + layer.b_offset;
    for (size_t b = 0; b < batch; ++b)
      for (size_t o = 0; o < layer.out; ++o) {
        T acc = 0;
        for (size_t i = 0; i < layer.in; ++i) acc += in[b * layer.in + i] * w[i * layer.out + o];
        T y = acc + bias[o];
        if (layer.activation == Activation::tanh) y = dm::tanh(y);
        if (layer.activation == Activation::relu) y = y > 0 ? y : 0;
        out[b * layer.out + o] = y;
      }
    in = out;
  }
  return in;
}

template <class T>
std::vector<T> random_vector(Pcg64& rng, size_t n, double scale = 1.0) {
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(scale * rng.normal());
  return v;
}

// L = sum c * net(x). Checks dL/dparams and dL/dx from backward() against central differences.
void gradient_check(const std::vector<size_t>& widths, Activation act, size_t batch) {
  MlpD net(widths, act, 0.7);
  Pcg64 rng(11);
  net.init(rng);
  // Non-zero biases so that every bias path matters.
  for (const auto& layer : net.layers())
    for (size_t o = 0; o < layer.out; ++o) net.params()[layer.b_offset + o] = 0.1 * rng.normal();
  const std::vector<double> x = random_vector<double>(rng, batch * net.in_dim());
  const std::vector<double> c = random_vector<double>(rng, batch * net.out_dim());
  auto loss = [&](const std::vector<double>& input) {
    std::vector<double> y(batch * net.out_dim());
    net.forward(input.data(), batch, y.data());
    double s = 0.0;
    for (size_t i = 0; i < y.size(); ++i) s += c[i] * y[i];
    return s;
  };
  std::vector<double> y(batch * net.out_dim()), dx(x.size());
  net.zero_grad();
  net.forward(x.data(), batch, y.data());
  net.backward(c.data(), batch, dx.data());
  const std::vector<double> grads(net.grads(), net.grads() + net.num_params());

  const double h = 1e-6;
  auto rel = [](double a, double n) {
    return std::fabs(a - n) / std::max({std::fabs(a), std::fabs(n), 1e-6});
  };
  double worst = 0.0;
  for (size_t p = 0; p < net.num_params(); ++p) {
    const double saved = net.params()[p];
    net.params()[p] = saved + h;
    const double up = loss(x);
    net.params()[p] = saved - h;
    const double down = loss(x);
    net.params()[p] = saved;
    worst = std::max(worst, rel(grads[p], (up - down) / (2 * h)));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    worst = std::max(worst, rel(dx[i], (loss(xp) - loss(xm)) / (2 * h)));
  }
  CHECK(worst < 1e-4);
}

}  // namespace

TEST_CASE("detmath exp, log, log1p, softplus and tanh are within 2-3 ulp of libm") {
  auto sp = [](long double x) { return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x)); };
  check_accuracy([](float x) { return dm::exp(x); }, [](double x) { return dm::exp(x); },
                 [](long double x) { return expl(x); }, -750.0, 710.0, 2.0);
  check_accuracy([](float x) { return dm::log(x); }, [](double x) { return dm::log(x); },
                 [](long double x) { return logl(x); }, 0.0, 1e300, 2.0);
  check_accuracy([](float x) { return dm::log1p(x); }, [](double x) { return dm::log1p(x); },
                 [](long double x) { return log1pl(x); }, -1.0, 1e300, 2.0);
  check_accuracy([](float x) { return dm::softplus(x); }, [](double x) { return dm::softplus(x); },
                 sp, -700.0, 700.0, 2.0);
  check_accuracy([](float x) { return dm::tanh(x); }, [](double x) { return dm::tanh(x); },
                 [](long double x) { return tanhl(x); }, -1e300, 1e300, 3.0);
}

TEST_CASE("detmath handles zeros, infinities, NaN and subnormals") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(dm::exp(0.0f) == 1.0f);
  CHECK(dm::exp(-inf) == 0.0f);
  CHECK(dm::exp(inf) == inf);
  CHECK(dm::exp(100.0f) == inf);
  CHECK(dm::exp(-103.0f) > 0.0f);  // subnormal, not flushed
  CHECK(std::isnan(dm::exp(std::nanf(""))));
  CHECK(dm::log(1.0f) == 0.0f);
  CHECK(dm::log(0.0f) == -inf);
  CHECK(std::isnan(dm::log(-1.0f)));
  CHECK(dm::log(inf) == inf);
  CHECK(dm::log(std::numeric_limits<float>::denorm_min()) ==
        doctest::Approx(std::log(std::numeric_limits<float>::denorm_min())));
  CHECK(dm::log1p(-1.0f) == -inf);
  CHECK(dm::log1p(inf) == inf);
  CHECK(std::isnan(dm::log1p(-2.0f)));
  CHECK(dm::tanh(inf) == 1.0f);
  CHECK(dm::tanh(-inf) == -1.0f);
  CHECK(std::signbit(dm::tanh(-0.0f)));
  CHECK(dm::tanh(1e-40f) == 1e-40f);
  CHECK(std::isnan(dm::tanh(std::nan(""))));
  CHECK(dm::softplus(1000.0) == 1000.0);
  CHECK(dm::softplus(-1000.0) == 0.0);
}

template <class T>
void check_tanh_array_bits() {
  // Lengths around the stage block (256), values over every range tanh() treats apart: tiny
  // and subnormal, the polynomial's range, beyond the clamp, infinities and NaN.
  const T inf = std::numeric_limits<T>::infinity();
  const T specials[] = {T(0),
                        -T(0),
                        T(1e-40),
                        -T(1e-30),
                        T(19.99),
                        T(20),
                        T(20.01),
                        T(1e30),
                        -inf,
                        inf,
                        std::numeric_limits<T>::quiet_NaN()};
  for (size_t n :
       {size_t(0), size_t(1), size_t(15), size_t(255), size_t(256), size_t(257), size_t(600)}) {
    std::vector<T> x(n);
    uint64_t state = 0x9e3779b97f4a7c15ull + n;
    for (size_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
      x[i] = i % 13 == 0 ? specials[(i / 13) % 11] : static_cast<T>((u - 0.5) * 12.0);
    }
    std::vector<T> y = x;
    dm::tanh_array(y.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const T want = dm::tanh(x[i]);
      CHECK(std::memcmp(&y[i], &want, sizeof(T)) == 0);
    }
  }
}

TEST_CASE("tanh_array gives tanh's bits element by element, across its stage blocks") {
  check_tanh_array_bits<float>();
  check_tanh_array_bits<double>();
}

TEST_CASE("Mlp lays out W[in][out] then b[out] per layer in one buffer") {
  edgerl::NetworkConfig cfg;
  cfg.layer_sizes = {64, 64};
  cfg.activation = "tanh";
  Mlp net(4, cfg, 2, 0.01);
  CHECK(net.num_params() == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
  REQUIRE(net.layers().size() == 3);
  CHECK(net.layers()[1].w_offset == 4 * 64 + 64);
  CHECK(net.layers()[1].b_offset == 4 * 64 + 64 + 64 * 64);
  CHECK(net.layers()[0].activation == Activation::tanh);
  CHECK(net.layers()[2].activation == Activation::identity);
  CHECK(net.in_dim() == 4);
  CHECK(net.out_dim() == 2);
  edgerl::TensorList list;
  net.append_tensors(list, "actor");
  REQUIRE(list.size() == 1);
  CHECK(list[0].name == "actor/params");
  CHECK(list[0].dtype == edgerl::DType::f32);
  CHECK(list[0].shape == std::vector<uint64_t>{net.num_params()});
  CHECK(list[0].data == net.params());
  cfg.activation = "sigmoid";
  CHECK_THROWS_AS(Mlp(4, cfg, 2, 1.0), std::invalid_argument);
  cfg.activation = "relu";
  cfg.layer_sizes = {0};
  CHECK_THROWS_AS(Mlp(4, cfg, 2, 1.0), std::invalid_argument);
}

TEST_CASE("forward equals a plain loop bit for bit for every tile and tail shape") {
  // Widths and batches that leave remainders in rows, whole vectors and lanes on any target.
  for (Activation act : {Activation::tanh, Activation::relu}) {
    Mlp net({7, 37, 70, 3}, act, 1.0);
    Pcg64 rng(3);
    net.init(rng);
    for (size_t p = 0; p < net.num_params(); ++p) net.params()[p] += 0.01f * float(rng.normal());
    for (size_t batch : {1, 2, 5, 6, 7, 13, 64}) {
      const std::vector<float> x = random_vector<float>(rng, batch * 7);
      std::vector<float> y(batch * 3);
      net.forward(x.data(), batch, y.data());
      CHECK(y == reference_forward(net, x, batch));
    }
  }
}

TEST_CASE("predict gives forward's bits and leaves the last forward for backward") {
  for (Activation act : {Activation::tanh, Activation::relu}) {
    Mlp net({7, 37, 70, 3}, act, 1.0);
    Pcg64 rng(11);
    net.init(rng);
    const size_t batch = 13;
    const std::vector<float> x = random_vector<float>(rng, batch * 7);
    const std::vector<float> other = random_vector<float>(rng, 5 * 7);
    const std::vector<float> dy = random_vector<float>(rng, batch * 3);
    std::vector<float> y(batch * 3), yp(batch * 3), y5(5 * 3);
    net.forward(x.data(), batch, y.data());
    net.predict(x.data(), batch, yp.data());
    CHECK(yp == y);
    net.zero_grad();
    net.backward(dy.data(), batch, nullptr);
    const std::vector<float> want(net.grads(), net.grads() + net.num_params());
    // A predict of other rows between forward and backward changes nothing backward sees.
    net.forward(x.data(), batch, y.data());
    net.predict(other.data(), 5, y5.data());
    net.zero_grad();
    net.backward(dy.data(), batch, nullptr);
    CHECK(std::vector<float>(net.grads(), net.grads() + net.num_params()) == want);
    const Mlp& frozen = net;  // a const network predicts
    frozen.predict(x.data(), batch, yp.data());
    CHECK(yp == y);
  }
}

// Gradients as plain loops in the order the kernels promise: every sum over b (or o) from 0 in
// ascending order, then added to the gradient; dx through the activation's derivative.
void reference_backward(const Mlp& net, const std::vector<float>& x, const std::vector<float>& dy,
                        size_t batch, std::vector<float>* grads, std::vector<float>* dx) {
  // The activations of every layer, from a plain forward.
  std::vector<std::vector<float>> acts = {x};
  for (size_t l = 0; l < net.layers().size(); ++l) {
    const auto& layer = net.layers()[l];
    std::vector<float> out(batch * layer.out);
    const float* w = net.params() + layer.w_offset;
    const float* bias = net.params() + layer.b_offset;
    for (size_t b = 0; b < batch; ++b)
      for (size_t o = 0; o < layer.out; ++o) {
        float acc = 0;
        for (size_t i = 0; i < layer.in; ++i)
          acc += acts[l][b * layer.in + i] * w[i * layer.out + o];
        float y = acc + bias[o];
        if (layer.activation == Activation::tanh) y = dm::tanh(y);
        if (layer.activation == Activation::relu) y = y > 0 ? y : 0;
        out[b * layer.out + o] = y;
      }
    acts.push_back(out);
  }
  grads->assign(net.num_params(), 0.0f);
  std::vector<float> g = dy;
  for (size_t l = net.layers().size(); l-- > 0;) {
    const auto& layer = net.layers()[l];
    const std::vector<float>& in = acts[l];
    for (size_t i = 0; i < layer.in; ++i)
      for (size_t o = 0; o < layer.out; ++o) {
        float acc = 0;
        for (size_t b = 0; b < batch; ++b) acc += in[b * layer.in + i] * g[b * layer.out + o];
        (*grads)[layer.w_offset + i * layer.out + o] += acc;
      }
    for (size_t o = 0; o < layer.out; ++o) {
      float acc = 0;
      for (size_t b = 0; b < batch; ++b) acc += g[b * layer.out + o];
      (*grads)[layer.b_offset + o] += acc;
    }
    std::vector<float> prev(batch * layer.in);
    const float* w = net.params() + layer.w_offset;
    for (size_t b = 0; b < batch; ++b)
      for (size_t i = 0; i < layer.in; ++i) {
        float acc = 0;
        for (size_t o = 0; o < layer.out; ++o) acc += g[b * layer.out + o] * w[i * layer.out + o];
        if (l > 0) {
          const float y = in[b * layer.in + i];
          if (net.layers()[l - 1].activation == Activation::tanh) acc = acc * (1.0f - y * y);
          if (net.layers()[l - 1].activation == Activation::relu) acc = y > 0 ? acc : 0.0f;
        }
        prev[b * layer.in + i] = acc;
      }
    g = prev;
  }
  *dx = g;
}

TEST_CASE("backward and input_gradient equal plain loops bit for bit, dense and row-sparse") {
  // ReLU layers take the row-sparse kernels (their zero inputs and gradients left out), tanh
  // layers the dense ones; both must give the plain loops' bits. input_gradient gives the same
  // dx as backward and leaves the parameter gradients alone.
  for (const std::vector<size_t>& widths :
       {std::vector<size_t>{7, 37, 70, 3}, std::vector<size_t>{4, 64, 64, 1},
        std::vector<size_t>{3, 64, 64, 2},
        std::vector<size_t>{5, 130, 256, 2}}) {  // several mask words; rows in pairs
    for (Activation act : {Activation::tanh, Activation::relu}) {
      Mlp net(widths, act, 1.0);
      Pcg64 rng(5);
      net.init(rng);
      for (size_t p = 0; p < net.num_params(); ++p) net.params()[p] += 0.05f * float(rng.normal());
      for (size_t batch : {1, 5, 13, 100}) {
        CAPTURE(widths.size());
        CAPTURE(batch);
        const std::vector<float> x = random_vector<float>(rng, batch * widths.front());
        std::vector<float> dy = random_vector<float>(rng, batch * widths.back());
        dy[0] = 0.0f;  // a zero output gradient too
        std::vector<float> y(batch * widths.back()), dx(x.size()), dx2(x.size());
        std::vector<float> want_grads, want_dx;
        reference_backward(net, x, dy, batch, &want_grads, &want_dx);
        net.zero_grad();
        net.forward(x.data(), batch, y.data());
        net.backward(dy.data(), batch, dx.data());
        CHECK(std::vector<float>(net.grads(), net.grads() + net.num_params()) == want_grads);
        CHECK(dx == want_dx);
        const std::vector<float> before(net.grads(), net.grads() + net.num_params());
        net.forward(x.data(), batch, y.data());
        net.input_gradient(dy.data(), batch, dx2.data());
        CHECK(dx2 == want_dx);
        CHECK(std::vector<float>(net.grads(), net.grads() + net.num_params()) == before);
        // Only the last two input columns: the same numbers.
        const size_t in = widths.front();
        std::vector<float> tail(batch * 2);
        net.forward(x.data(), batch, y.data());
        net.input_gradient(dy.data(), batch, tail.data(), in - 2, 2);
        for (size_t b = 0; b < batch; ++b)
          for (size_t j = 0; j < 2; ++j) CHECK(tail[b * 2 + j] == want_dx[b * in + in - 2 + j]);
        CHECK_THROWS_AS(net.input_gradient(dy.data(), batch, tail.data(), in - 1, 2),
                        std::invalid_argument);
      }
    }
  }
}

TEST_CASE("transposes computed ahead give backward's bits, for one pass, and go stale never") {
  // transpose_ahead() (the weights' and the activations' transposes, where a thread would wait)
  // must leave every number of the next backward or input_gradient unchanged; a forward() of
  // other rows, or parameters changed by polyak_update / copy_params_from, in between must not
  // let the pass use transposes of what is gone.
  for (const std::vector<size_t>& widths :
       {std::vector<size_t>{4, 64, 64, 1}, std::vector<size_t>{3, 64, 64, 2},
        std::vector<size_t>{5, 130, 256, 2}}) {
    for (Activation act : {Activation::tanh, Activation::relu}) {
      CAPTURE(widths[1]);
      Mlp net(widths, act, 1.0), other(widths, act, 1.0);
      Pcg64 rng(9);
      net.init(rng);
      other.init(rng);
      const size_t batch = 100;
      const std::vector<float> x = random_vector<float>(rng, batch * widths.front());
      const std::vector<float> x2 = random_vector<float>(rng, batch * widths.front());
      const std::vector<float> dy = random_vector<float>(rng, batch * widths.back());
      std::vector<float> y(batch * widths.back()), dx(x.size()), want_grads, want_dx;
      int stage = 0;
      auto check_pass = [&](const std::vector<float>& input) {
        ++stage;
        CAPTURE(stage);
        reference_backward(net, input, dy, batch, &want_grads, &want_dx);
        net.zero_grad();
        net.backward(dy.data(), batch, dx.data());
        CHECK(std::vector<float>(net.grads(), net.grads() + net.num_params()) == want_grads);
        CHECK(dx == want_dx);
      };
      net.forward(x.data(), batch, y.data());
      net.transpose_ahead();
      check_pass(x);
      // A second pass without transposing ahead again: the same numbers.
      net.forward(x.data(), batch, y.data());
      check_pass(x);
      // Transposed ahead, then another forward: the pass must use the new activations.
      net.forward(x.data(), batch, y.data());
      net.transpose_ahead();
      net.forward(x2.data(), batch, y.data());
      check_pass(x2);
      // Transposed ahead, then new parameters: the pass must use the new weights (with the
      // activations of the forward before them), as a twin that never transposed ahead does.
      for (int change = 0; change < 2; ++change) {
        CAPTURE(change);
        Mlp twin = net;
        std::vector<float> dx_twin(x.size());
        for (Mlp* m : {&net, &twin}) {
          m->forward(x.data(), batch, y.data());
          if (m == &net) m->transpose_ahead();
          if (change == 0)
            m->polyak_update(other, 0.5);
          else
            m->copy_params_from(other);
          m->zero_grad();
          m->backward(dy.data(), batch, m == &net ? dx.data() : dx_twin.data());
        }
        CHECK(std::vector<float>(net.grads(), net.grads() + net.num_params()) ==
              std::vector<float>(twin.grads(), twin.grads() + twin.num_params()));
        CHECK(dx == dx_twin);
        net.copy_params_from(twin);
      }
      // The input gradient alone, transposed ahead.
      net.forward(x.data(), batch, y.data());
      net.transpose_ahead();
      std::vector<float> dx2(x.size());
      net.input_gradient(dy.data(), batch, dx2.data());
      reference_backward(net, x, dy, batch, &want_grads, &want_dx);
      CHECK(dx2 == want_dx);
      // Only the weights transposed ahead (for an input gradient): either pass that follows
      // still gives the plain numbers, a full backward computing the activations' transposes
      // itself.
      net.forward(x.data(), batch, y.data());
      net.transpose_ahead(false);
      std::fill(dx2.begin(), dx2.end(), 0.0f);
      net.input_gradient(dy.data(), batch, dx2.data());
      CHECK(dx2 == want_dx);
      net.forward(x2.data(), batch, y.data());
      net.transpose_ahead(false);
      check_pass(x2);
      // The weights' transposes outlive a pass: another forward and backward use them again,
      // until a write through params() (as an optimiser's step) must drop them.
      net.forward(x.data(), batch, y.data());
      check_pass(x);
      net.forward(x2.data(), batch, y.data());
      net.transpose_ahead();  // only the activations' now
      check_pass(x2);
      {
        Mlp twin = net;
        float* p = net.params();
        float* q = twin.params();
        for (size_t i = 0; i < net.num_params(); ++i) p[i] = q[i] = p[i] * 0.75f + 0.01f;
        std::vector<float> dx_twin(x.size());
        net.forward(x.data(), batch, y.data());
        net.transpose_ahead();
        net.zero_grad();
        net.backward(dy.data(), batch, dx.data());
        twin.forward(x.data(), batch, y.data());
        twin.zero_grad();
        twin.backward(dy.data(), batch, dx_twin.data());
        CHECK(dx == dx_twin);
        // Written again after transposing (the pointer taken anew), then a pass: the new
        // weights' numbers.
        p = net.params();
        q = twin.params();
        for (size_t i = 0; i < net.num_params(); ++i) p[i] = q[i] = p[i] * 0.5f;
        net.forward(x.data(), batch, y.data());
        twin.forward(x.data(), batch, y.data());
        net.input_gradient(dy.data(), batch, dx.data());
        twin.input_gradient(dy.data(), batch, dx_twin.data());
        CHECK(dx == dx_twin);
        // A restore writes through the list append_tensors() gave out before the transposes:
        // after drop_transposes() (the learners call it after a restore) the pass is the
        // twin's.
        edgerl::TensorList list;
        net.append_tensors(list, "net");
        net.forward(x.data(), batch, y.data());
        net.transpose_ahead();
        float* restored = static_cast<float*>(list[0].data);
        q = twin.params();
        for (size_t i = 0; i < net.num_params(); ++i) restored[i] = q[i] = q[i] + 0.125f;
        net.drop_transposes();
        net.forward(x.data(), batch, y.data());
        twin.forward(x.data(), batch, y.data());
        net.input_gradient(dy.data(), batch, dx.data());
        twin.input_gradient(dy.data(), batch, dx_twin.data());
        CHECK(dx == dx_twin);
      }
    }
  }
}

TEST_CASE("backward matches central differences in double for tanh and relu") {
  gradient_check({3, 5, 4, 2}, Activation::tanh, 3);
  gradient_check({6, 17, 9, 19}, Activation::tanh, 7);  // out > in and out < in layers
  gradient_check({3, 5, 4, 2}, Activation::relu, 3);
  gradient_check({6, 17, 9, 19}, Activation::relu, 7);
  gradient_check({5, 3}, Activation::tanh, 2);  // a single linear layer
}

TEST_CASE("the float network's gradients agree with the double network's") {
  // The float kernels tile differently from the double ones (twice the lanes per vector), so
  // this checks the float backward path itself, which the finite-difference check cannot.
  for (Activation act : {Activation::tanh, Activation::relu}) {
    Mlp f({7, 37, 70, 3}, act, 1.0);
    MlpD d({7, 37, 70, 3}, act, 1.0);
    Pcg64 rng(13);
    f.init(rng);
    for (size_t p = 0; p < f.num_params(); ++p) d.params()[p] = f.params()[p];
    const size_t batch = 13;
    const std::vector<float> x = random_vector<float>(rng, batch * 7);
    const std::vector<float> dy = random_vector<float>(rng, batch * 3);
    std::vector<float> yf(batch * 3), dxf(x.size());
    std::vector<double> yd(batch * 3), dxd(x.size());
    f.zero_grad();
    d.zero_grad();
    f.forward(x.data(), batch, yf.data());
    d.forward(std::vector<double>(x.begin(), x.end()).data(), batch, yd.data());
    f.backward(dy.data(), batch, dxf.data());
    d.backward(std::vector<double>(dy.begin(), dy.end()).data(), batch, dxd.data());
    double worst = 0.0;
    auto compare = [&](float a, double b) {
      worst = std::max(worst, std::fabs(a - b) / std::max(std::fabs(b), 1e-2));
    };
    for (size_t p = 0; p < f.num_params(); ++p) compare(f.grads()[p], d.grads()[p]);
    for (size_t i = 0; i < x.size(); ++i) compare(dxf[i], dxd[i]);
    for (size_t i = 0; i < yf.size(); ++i) compare(yf[i], yd[i]);
    CHECK(worst < 1e-3);
  }
}

TEST_CASE("backward accumulates into the gradients until zero_grad") {
  Mlp net({4, 8, 2}, Activation::tanh, 1.0);
  Pcg64 rng(5);
  net.init(rng);
  const std::vector<float> x = random_vector<float>(rng, 3 * 4), dy = random_vector<float>(rng, 6);
  std::vector<float> y(6);
  net.forward(x.data(), 3, y.data());
  net.backward(dy.data(), 3, nullptr);
  const std::vector<float> once(net.grads(), net.grads() + net.num_params());
  net.forward(x.data(), 3, y.data());
  net.backward(dy.data(), 3, nullptr);
  for (size_t p = 0; p < net.num_params(); ++p) CHECK(net.grads()[p] == 2 * once[p]);
  net.zero_grad();
  for (size_t p = 0; p < net.num_params(); ++p) CHECK(net.grads()[p] == 0.0f);
  CHECK_THROWS_AS(net.backward(dy.data(), 2, nullptr), std::invalid_argument);
}

TEST_CASE("orthogonal init gives gain-scaled orthonormal weights and zero biases") {
  MlpD net({4, 64, 64, 2}, Activation::tanh, 0.01);
  Pcg64 rng(1);
  net.init(rng);
  for (const auto& layer : net.layers()) {
    const double* w = net.params() + layer.w_offset;
    const double g2 = layer.init_gain * layer.init_gain;
    // The shorter side has orthonormal vectors: columns of W[in][out] if in <= out, else rows.
    const bool by_rows = layer.in <= layer.out;
    const size_t count = by_rows ? layer.in : layer.out, len = by_rows ? layer.out : layer.in;
    auto at = [&](size_t v, size_t t) {
      return by_rows ? w[v * layer.out + t] : w[t * layer.out + v];
    };
    double worst = 0.0;
    for (size_t a = 0; a < count; ++a)
      for (size_t b = 0; b < count; ++b) {
        double d = 0.0;
        for (size_t t = 0; t < len; ++t) d += at(a, t) * at(b, t);
        worst = std::max(worst, std::fabs(d / g2 - (a == b ? 1.0 : 0.0)));
      }
    CHECK(worst < 1e-12);
    for (size_t o = 0; o < layer.out; ++o) CHECK(net.params()[layer.b_offset + o] == 0.0);
  }
  CHECK(net.layers()[0].init_gain == doctest::Approx(std::sqrt(2.0)));
  CHECK(net.layers()[2].init_gain == 0.01);
  // Same seed, same network; another seed, another network.
  MlpD again({4, 64, 64, 2}, Activation::tanh, 0.01), other({4, 64, 64, 2}, Activation::tanh, 0.01);
  Pcg64 same(1), different(2);
  again.init(same);
  other.init(different);
  CHECK(std::equal(net.params(), net.params() + net.num_params(), again.params()));
  CHECK_FALSE(std::equal(net.params(), net.params() + net.num_params(), other.params()));
}

TEST_CASE("torch_default init draws PyTorch's nn.Linear default: U(+-1/sqrt(in)), gains unused") {
  NetworkConfig cfg;
  cfg.layer_sizes = {64, 64};
  cfg.activation = "relu";
  cfg.kernel_init = "torch_default";
  MlpD net(5, cfg, 2, 0.01);
  CHECK(net.kernel_init() == KernelInit::torch_default);
  Pcg64 rng(3);
  net.init(rng);
  for (const auto& layer : net.layers()) {
    CAPTURE(layer.in);
    const double bound = 1.0 / std::sqrt(static_cast<double>(layer.in));
    const size_t nw = layer.in * layer.out;
    const double* w = net.params() + layer.w_offset;
    const double* b = net.params() + layer.b_offset;
    double sum2 = 0.0;
    for (size_t i = 0; i < nw; ++i) {
      CHECK(std::fabs(w[i]) <= bound);
      sum2 += w[i] * w[i];
    }
    // U(-c, c) has variance c^2 / 3.
    if (nw >= 1024)
      CHECK(sum2 / static_cast<double>(nw) == doctest::Approx(bound * bound / 3).epsilon(0.1));
    size_t nonzero = 0;
    for (size_t o = 0; o < layer.out; ++o) {
      CHECK(std::fabs(b[o]) <= bound);
      nonzero += b[o] != 0.0;
    }
    CHECK(nonzero == layer.out);  // biases are drawn too, not zero
  }
  // PyTorch's order: layer by layer, the weight as [out][in] (so W[i][o] with i fastest), then
  // the bias.
  Pcg64 ref(3);
  const double c0 = 1.0 / std::sqrt(5.0);
  const auto& l0 = net.layers()[0];
  CHECK(net.params()[0 * l0.out + 0] == ref.uniform(-c0, c0));  // W[o=0][i=0]
  CHECK(net.params()[1 * l0.out + 0] == ref.uniform(-c0, c0));  // W[o=0][i=1]
  for (size_t k = 2; k < l0.in * l0.out; ++k) ref.uniform(-c0, c0);
  CHECK(net.params()[l0.b_offset] == ref.uniform(-c0, c0));
  // The output gain is the orthogonal init's only; the same seed gives the same network.
  MlpD same_gain_one(5, cfg, 2, 1.0);
  Pcg64 again(3);
  same_gain_one.init(again);
  CHECK(std::equal(net.params(), net.params() + net.num_params(), same_gain_one.params()));
  CHECK(parse_kernel_init("orthogonal") == KernelInit::orthogonal);
  CHECK_THROWS_AS(parse_kernel_init("xavier"), std::invalid_argument);
}

TEST_CASE("target networks copy and Polyak-average parameters") {
  Mlp online({3, 8, 2}, Activation::relu, 1.0), target({3, 8, 2}, Activation::relu, 1.0);
  Pcg64 rng(9);
  online.init(rng);
  target.init(rng);
  std::vector<float> before(target.params(), target.params() + target.num_params());
  target.polyak_update(online, 0.25);
  for (size_t p = 0; p < target.num_params(); ++p)
    CHECK(target.params()[p] == 0.25f * online.params()[p] + 0.75f * before[p]);
  target.copy_params_from(online);
  CHECK(std::equal(online.params(), online.params() + online.num_params(), target.params()));
  Mlp wider({3, 9, 2}, Activation::relu, 1.0);
  CHECK_THROWS_AS(target.copy_params_from(wider), std::invalid_argument);
  CHECK_THROWS_AS(target.polyak_update(wider, 0.5), std::invalid_argument);
}

TEST_CASE("forward and backward allocate nothing after warm-up") {
  Mlp net({4, 64, 64, 2}, Activation::tanh, 0.01);
  Pcg64 rng(2);
  net.init(rng);
  const std::vector<float> x = random_vector<float>(rng, 256 * 4),
                           dy = random_vector<float>(rng, 512);
  std::vector<float> y(512), dx(256 * 4);
  net.forward(x.data(), 256, y.data());  // warm-up: grows the workspaces
  const uint64_t before = edgerl::testing::allocation_count();
  for (size_t batch : {256, 64, 1, 256}) {
    net.forward(x.data(), batch, y.data());
    net.backward(dy.data(), batch, dx.data());
    net.backward(dy.data(), batch, nullptr);
    net.zero_grad();
  }
  CHECK(edgerl::testing::allocation_count() == before);
  // The counter itself works (a direct call: compilers may elide a new-expression).
  ::operator delete(::operator new(16));
  CHECK(edgerl::testing::allocation_count() == before + 1);
}
