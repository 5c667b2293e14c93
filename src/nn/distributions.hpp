// distributions: the policy heads on top of an Mlp's outputs, for one sample at a time (the
// learner loops over its batch). Each head gives log-probabilities, entropy, sampling with our
// Pcg64, the greedy action, and the gradients a learner needs to backpropagate a loss
// through the head into the network.
//
// Gradient convention: per-sample outputs (dlogits, dmean, and the tanh-Gaussian's
// dlog_std, which a SAC actor outputs per sample) are written; gradients of shared parameters
// (the diagonal Gaussian's state-independent log-std) are accumulated, like Mlp::backward.
//
// All maths uses detmath and fixed-order sums, so results are identical on every build.
// T = float for training; T = double for gradient checks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgerl/rng.hpp"

namespace edgerl {

// Categorical over n logits: p = softmax(logits).
namespace categorical {

// log p, computed stably as logits - max - log(sum exp(logits - max)).
template <class T>
void log_softmax(const T* logits, size_t n, T* log_probs);
template <class T>
T log_prob(const T* logits, size_t n, size_t action);
// -sum p log p (terms with p = 0 count as 0).
template <class T>
T entropy(const T* logits, size_t n);
// One draw by inverse CDF over the softmax weights (one uniform from rng).
template <class T>
size_t sample(const T* logits, size_t n, Pcg64& rng);
// The first index of the largest logit.
template <class T>
size_t argmax(const T* logits, size_t n);
// dlogits = g_log_prob * d log p(action)/dlogits + g_entropy * dH/dlogits, i.e.
// g_log_prob * (onehot(action) - p) - g_entropy * p * (log p + H).
template <class T>
void backward(const T* logits, size_t n, size_t action, T g_log_prob, T g_entropy, T* dlogits);

// The heads over a batch: `rows` rows of n logits each, rows in order (so one uniform per row
// is drawn in row order, exactly as a loop of sample() calls). log_probs may be null.
template <class T>
void sample_rows(const T* logits, size_t rows, size_t n, Pcg64& rng, int32_t* actions,
                 T* log_probs);
template <class T>
void argmax_rows(const T* logits, size_t rows, size_t n, int32_t* actions);

// What a policy-gradient loss needs of each row, with the softmax normaliser computed once per
// row (log_prob, entropy and backward each compute it again): lp and p (rows x n) get log p
// and p, log_probs[r] = log p(actions[r]) and entropies[r] = H. The same bits as log_prob()
// and entropy().
template <class T>
void loss_terms_rows(const T* logits, size_t rows, size_t n, const int32_t* actions, T* lp, T* p,
                     T* log_probs, T* entropies);
// backward() of one row from its loss_terms_rows() outputs (lp, p: its n values; h: its
// entropy): the same bits as backward() on its logits.
template <class T>
void backward_from_terms(const T* lp, const T* p, size_t n, size_t action, T h, T g_log_prob,
                         T g_entropy, T* dlogits);

}  // namespace categorical

// Diagonal Gaussian N(mean, exp(log_std)^2) in d dimensions, with log_std a parameter vector
// shared by all states (continuous PPO).
namespace diag_gaussian {

template <class T>
T log_prob(const T* mean, const T* log_std, const T* action, size_t d);
// sum log_std + d/2 (1 + log 2 pi): does not depend on the mean.
template <class T>
T entropy(const T* log_std, size_t d);
// action = mean + exp(log_std) * eps, eps from rng.normal(). The mode is the mean itself.
template <class T>
void sample(const T* mean, const T* log_std, size_t d, Pcg64& rng, T* action);
// Gradients of g_log_prob * log p(action) + g_entropy * H: dmean is written, dlog_std is
// added to (log_std is shared across the batch).
template <class T>
void backward(const T* mean, const T* log_std, const T* action, size_t d, T g_log_prob, T g_entropy,
              T* dmean, T* dlog_std);

// `rows` rows of d means sharing one log_std: a sample per row (rows in order), with its
// log-prob (log_probs may be null).
template <class T>
void sample_rows(const T* mean, const T* log_std, size_t rows, size_t d, Pcg64& rng, T* actions,
                 T* log_probs);

}  // namespace diag_gaussian

// Tanh-squashed Gaussian (SAC): a = tanh(u), u = mean + exp(log_std) * noise, noise ~ N(0, I).
// log pi(a) = sum [log N(u; mean, std) - log(1 - tanh(u)^2)], the correction written as
// 2 (log 2 - u - softplus(-2u)) so that it stays finite when |a| rounds to 1.
namespace tanh_gaussian {

// Draws noise (kept for backward) and writes the action; returns log pi(action).
template <class T>
T sample(const T* mean, const T* log_std, size_t d, Pcg64& rng, T* noise, T* action);
// log pi of the action that `noise` gives.
template <class T>
T log_prob(const T* mean, const T* log_std, const T* noise, size_t d);
// The deterministic action tanh(mean).
template <class T>
void mode(const T* mean, size_t d, T* action);
// Reparameterised gradients, noise held fixed, of
//   g_log_prob * log pi(a) + sum_i g_action[i] * a_i    (g_action may be null)
// with respect to mean and log_std; both are written.
template <class T>
void backward(const T* mean, const T* log_std, const T* noise, size_t d, T g_log_prob,
              const T* g_action, T* dmean, T* dlog_std);

// The same over n rows of d values each (every array [n][d], log_probs [n]): loops over all
// n * d values that vectorise, each row's result bit-identical to the one-row function's (a
// SAC actor's batch).
template <class T>
void actions_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d, T* action);
template <class T>
void log_prob_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d,
                   T* log_probs);
// g_log_prob is the same for every row; g_action [n][d] may be null.
template <class T>
void backward_rows(const T* mean, const T* log_std, const T* noise, size_t n, size_t d,
                   T g_log_prob, const T* g_action, T* dmean, T* dlog_std);

}  // namespace tanh_gaussian

}  // namespace edgerl
