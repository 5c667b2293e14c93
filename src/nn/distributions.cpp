// Policy heads. Sums run in index order; exp, log, tanh and softplus come from detmath.
#include "nn/distributions.hpp"

#include "core/detmath.hpp"

namespace edgerl {
namespace {

template <class T>
constexpr T kHalfLog2Pi = static_cast<T>(0.91893853320467274178);  // log(2 pi) / 2

// log p_k = (logits_k - max) - log sum exp(logits - max): no rounding of max + log sum.
template <class T>
struct Normaliser {
  T max, log_sum;
  T log_p(T logit) const { return (logit - max) - log_sum; }
};

template <class T>
Normaliser<T> normaliser(const T* logits, size_t n) {
  T m = logits[0];
  for (size_t k = 1; k < n; ++k) m = logits[k] > m ? logits[k] : m;
  T s = 0;
  for (size_t k = 0; k < n; ++k) s += detmath::exp(logits[k] - m);
  return {m, detmath::log(s)};
}

// -sum p log p (terms with p = 0 count as 0).
template <class T>
T entropy_of(const T* logits, size_t n, const Normaliser<T>& norm) {
  T h = 0;
  for (size_t k = 0; k < n; ++k) {
    const T lp = norm.log_p(logits[k]);
    const T p = detmath::exp(lp);
    if (p > T(0)) h -= p * lp;
  }
  return h;
}

}  // namespace

namespace categorical {

template <class T>
void log_softmax(const T* logits, size_t n, T* log_probs) {
  const Normaliser<T> norm = normaliser(logits, n);
  for (size_t k = 0; k < n; ++k) log_probs[k] = norm.log_p(logits[k]);
}

template <class T>
T log_prob(const T* logits, size_t n, size_t action) {
  return normaliser(logits, n).log_p(logits[action]);
}

template <class T>
T entropy(const T* logits, size_t n) {
  return entropy_of(logits, n, normaliser(logits, n));
}

template <class T>
size_t sample(const T* logits, size_t n, Pcg64& rng) {
  T m = logits[0];
  for (size_t k = 1; k < n; ++k) m = logits[k] > m ? logits[k] : m;
  double total = 0.0;
  for (size_t k = 0; k < n; ++k) total += static_cast<double>(detmath::exp(logits[k] - m));
  const double u = rng.uniform() * total;
  double cum = 0.0;
  size_t last_positive = 0;
  for (size_t k = 0; k < n; ++k) {
    const double w = static_cast<double>(detmath::exp(logits[k] - m));
    cum += w;
    if (u < cum) return k;
    if (w > 0.0) last_positive = k;
  }
  return last_positive;  // u reached the total only through rounding
}

template <class T>
size_t argmax(const T* logits, size_t n) {
  size_t best = 0;
  for (size_t k = 1; k < n; ++k)
    if (logits[k] > logits[best]) best = k;
  return best;
}

template <class T>
void backward(const T* logits, size_t n, size_t action, T g_log_prob, T g_entropy, T* dlogits) {
  const Normaliser<T> norm = normaliser(logits, n);
  const T h = entropy_of(logits, n, norm);
  for (size_t k = 0; k < n; ++k) {
    const T lp = norm.log_p(logits[k]);
    const T p = detmath::exp(lp);
    const T onehot = k == action ? T(1) : T(0);
    const T dh = p > T(0) ? -p * (lp + h) : T(0);
    dlogits[k] = g_log_prob * (onehot - p) + g_entropy * dh;
  }
}

template <class T>
void loss_terms_rows(const T* logits, size_t rows, size_t n, const int32_t* actions, T* lp, T* p,
                     T* log_probs, T* entropies) {
  for (size_t r = 0; r < rows; ++r) {
    const T* row = logits + r * n;
    T* lpr = lp + r * n;
    T* pr = p + r * n;
    const Normaliser<T> norm = normaliser(row, n);
    T h = 0;  // entropy_of's sum, from the same lp and p
    for (size_t k = 0; k < n; ++k) {
      lpr[k] = norm.log_p(row[k]);
      pr[k] = detmath::exp(lpr[k]);
      if (pr[k] > T(0)) h -= pr[k] * lpr[k];
    }
    log_probs[r] = lpr[static_cast<size_t>(actions[r])];
    entropies[r] = h;
  }
}

template <class T>
void backward_from_terms(const T* lp, const T* p, size_t n, size_t action, T h, T g_log_prob,
                         T g_entropy, T* dlogits) {
  for (size_t k = 0; k < n; ++k) {
    const T onehot = k == action ? T(1) : T(0);
    const T dh = p[k] > T(0) ? -p[k] * (lp[k] + h) : T(0);
    dlogits[k] = g_log_prob * (onehot - p[k]) + g_entropy * dh;
  }
}

template <class T>
void sample_rows(const T* logits, size_t rows, size_t n, Pcg64& rng, int32_t* actions,
                 T* log_probs) {
  for (size_t r = 0; r < rows; ++r) {
    const T* row = logits + r * n;
    const size_t a = sample(row, n, rng);
    actions[r] = static_cast<int32_t>(a);
    if (log_probs) log_probs[r] = log_prob(row, n, a);
  }
}

template <class T>
void argmax_rows(const T* logits, size_t rows, size_t n, int32_t* actions) {
  for (size_t r = 0; r < rows; ++r) actions[r] = static_cast<int32_t>(argmax(logits + r * n, n));
}

}  // namespace categorical

namespace diag_gaussian {

template <class T>
T log_prob(const T* mean, const T* log_std, const T* action, size_t d) {
  T lp = 0;
  for (size_t i = 0; i < d; ++i) {
    const T z = (action[i] - mean[i]) / detmath::exp(log_std[i]);
    lp += (T(-0.5) * (z * z) - log_std[i]) - kHalfLog2Pi<T>;
  }
  return lp;
}

template <class T>
T entropy(const T* log_std, size_t d) {
  T h = 0;
  for (size_t i = 0; i < d; ++i) h += log_std[i] + (T(0.5) + kHalfLog2Pi<T>);
  return h;
}

template <class T>
void sample(const T* mean, const T* log_std, size_t d, Pcg64& rng, T* action) {
  for (size_t i = 0; i < d; ++i)
    action[i] = mean[i] + detmath::exp(log_std[i]) * static_cast<T>(rng.normal());
}

template <class T>
void backward(const T* mean, const T* log_std, const T* action, size_t d, T g_log_prob, T g_entropy,
              T* dmean, T* dlog_std) {
  // d log p / d mean = z / std, d log p / d log_std = z^2 - 1, dH / d log_std = 1.
  for (size_t i = 0; i < d; ++i) {
    const T std = detmath::exp(log_std[i]);
    const T z = (action[i] - mean[i]) / std;
    dmean[i] = g_log_prob * (z / std);
    dlog_std[i] += g_log_prob * (z * z - T(1)) + g_entropy;
  }
}

template <class T>
void sample_rows(const T* mean, const T* log_std, size_t rows, size_t d, Pcg64& rng, T* actions,
                 T* log_probs) {
  for (size_t r = 0; r < rows; ++r) {
    sample(mean + r * d, log_std, d, rng, actions + r * d);
    if (log_probs) log_probs[r] = log_prob(mean + r * d, log_std, actions + r * d, d);
  }
}

}  // namespace diag_gaussian

namespace tanh_gaussian {
namespace {

// log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)).
template <class T>
T log_one_minus_tanh2(T u) {
  constexpr T kLog2 = static_cast<T>(0.69314718055994530942);
  return T(2) * ((kLog2 - u) - detmath::softplus(T(-2) * u));
}

}  // namespace

template <class T>
T log_prob(const T* mean, const T* log_std, const T* noise, size_t d) {
  T lp = 0;
  for (size_t i = 0; i < d; ++i) {
    const T u = mean[i] + detmath::exp(log_std[i]) * noise[i];
    lp += ((T(-0.5) * (noise[i] * noise[i]) - log_std[i]) - kHalfLog2Pi<T>)-log_one_minus_tanh2(u);
  }
  return lp;
}

template <class T>
T sample(const T* mean, const T* log_std, size_t d, Pcg64& rng, T* noise, T* action) {
  for (size_t i = 0; i < d; ++i) {
    noise[i] = static_cast<T>(rng.normal());
    action[i] = detmath::tanh(mean[i] + detmath::exp(log_std[i]) * noise[i]);
  }
  return log_prob(mean, log_std, noise, d);
}

template <class T>
void mode(const T* mean, size_t d, T* action) {
  for (size_t i = 0; i < d; ++i) action[i] = detmath::tanh(mean[i]);
}

template <class T>
void backward(const T* mean, const T* log_std, const T* noise, size_t d, T g_log_prob,
              const T* g_action, T* dmean, T* dlog_std) {
  // With u = mean + std * noise and a = tanh(u):
  //   d log pi / du = 2a (from -log(1 - a^2)), d log pi / d log_std = -1 + (d log pi / du)
  //   du/dlog_std, da/du = 1 - a^2, du/dmean = 1, du/dlog_std = std * noise.
  for (size_t i = 0; i < d; ++i) {
    const T su = detmath::exp(log_std[i]) * noise[i];
    const T a = detmath::tanh(mean[i] + su);
    T du = g_log_prob * (T(2) * a);
    if (g_action != nullptr) du += g_action[i] * (T(1) - a * a);
    dmean[i] = du;
    dlog_std[i] = du * su - g_log_prob;
  }
}

template <class T>
void actions_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d, T* action) {
  for (size_t i = 0; i < n * d; ++i)
    action[i] = detmath::tanh(mean[i] + detmath::exp(log_std[i]) * noise[i]);
}

template <class T>
void log_prob_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d,
                   T* log_probs) {
  // Column by column, each row's sum in the order of log_prob()'s loop.
  for (size_t r = 0; r < n; ++r) log_probs[r] = 0;
  for (size_t i = 0; i < d; ++i)
    for (size_t r = 0; r < n; ++r) {
      const size_t k = r * d + i;
      const T u = mean[k] + detmath::exp(log_std[k]) * noise[k];
      log_probs[r] +=
          ((T(-0.5) * (noise[k] * noise[k]) - log_std[k]) - kHalfLog2Pi<T>)-log_one_minus_tanh2(u);
    }
}

template <class T>
void backward_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d,
                   T g_log_prob, const T* g_action, T* dmean, T* dlog_std) {
  // Two loops rather than a test inside one, so that both vectorise.
  if (g_action == nullptr) {
    for (size_t i = 0; i < n * d; ++i) {
      const T su = detmath::exp(log_std[i]) * noise[i];
      const T a = detmath::tanh(mean[i] + su);
      const T du = g_log_prob * (T(2) * a);
      dmean[i] = du;
      dlog_std[i] = du * su - g_log_prob;
    }
    return;
  }
  for (size_t i = 0; i < n * d; ++i) {
    const T su = detmath::exp(log_std[i]) * noise[i];
    const T a = detmath::tanh(mean[i] + su);
    T du = g_log_prob * (T(2) * a);
    du += g_action[i] * (T(1) - a * a);
    dmean[i] = du;
    dlog_std[i] = du * su - g_log_prob;
  }
}

}  // namespace tanh_gaussian

#define EDGERL_INSTANTIATE_HEADS(T)                                                                \
  template void categorical::log_softmax<T>(const T*, size_t, T*);                                 \
  template T categorical::log_prob<T>(const T*, size_t, size_t);                                   \
  template T categorical::entropy<T>(const T*, size_t);                                            \
  template size_t categorical::sample<T>(const T*, size_t, Pcg64&);                                \
  template size_t categorical::argmax<T>(const T*, size_t);                                        \
  template void categorical::backward<T>(const T*, size_t, size_t, T, T, T*);                      \
  template void categorical::sample_rows<T>(const T*, size_t, size_t, Pcg64&, int32_t*, T*);       \
  template void categorical::argmax_rows<T>(const T*, size_t, size_t, int32_t*);                   \
  template void categorical::loss_terms_rows<T>(const T*, size_t, size_t, const int32_t*, T*, T*,  \
                                                T*, T*);                                           \
  template void categorical::backward_from_terms<T>(const T*, const T*, size_t, size_t, T, T, T,   \
                                                    T*);                                           \
  template void diag_gaussian::sample_rows<T>(const T*, const T*, size_t, size_t, Pcg64&, T*, T*); \
  template T diag_gaussian::log_prob<T>(const T*, const T*, const T*, size_t);                     \
  template T diag_gaussian::entropy<T>(const T*, size_t);                                          \
  template void diag_gaussian::sample<T>(const T*, const T*, size_t, Pcg64&, T*);                  \
  template void diag_gaussian::backward<T>(const T*, const T*, const T*, size_t, T, T, T*, T*);    \
  template T tanh_gaussian::sample<T>(const T*, const T*, size_t, Pcg64&, T*, T*);                 \
  template T tanh_gaussian::log_prob<T>(const T*, const T*, const T*, size_t);                     \
  template void tanh_gaussian::mode<T>(const T*, size_t, T*);                                      \
  template void tanh_gaussian::backward<T>(const T*, const T*, const T*, size_t, T, const T*, T*,  \
                                           T*);                                                    \
  template void tanh_gaussian::actions_rows<T>(const T*, const T*, const T*, size_t, size_t, T*);  \
  template void tanh_gaussian::log_prob_rows<T>(const T*, const T*, const T*, size_t, size_t, T*); \
  template void tanh_gaussian::backward_rows<T>(const T*, const T*, const T*, size_t, size_t, T,   \
                                                const T*, T*, T*);

EDGERL_INSTANTIATE_HEADS(float)
EDGERL_INSTANTIATE_HEADS(double)

}  // namespace edgerl
