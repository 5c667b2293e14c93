#include "edgerl/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "edgerl/envs.hpp"

namespace edgerl {

Metrics EvalResult::metrics() const {
  Metrics m;
  m.add("episode_return", episode_return);
  m.add("episode_length", episode_length);
  return m;
}

double EvalResult::std_return() const {
  if (episode_return.empty()) return 0;
  double s = 0;
  for (double x : episode_return) s += (x - mean_return) * (x - mean_return);
  return std::sqrt(s / static_cast<double>(episode_return.size()));
}

EvalResult evaluate(Policy& policy, const EvalOptions& options, int64_t num_episodes,
                    uint64_t key) {
  constexpr int64_t kChunk = 256;  // environments stepped together
  const SeedSequence seq = SeedSequence(options.seed).child(4).child(static_cast<uint32_t>(key));
  uint64_t env_seed = seq.child(0).generate_state_u64(1)[0];
  Pcg64 rng(seq.child(1));

  EvalResult r;
  r.episode_return.reserve(static_cast<size_t>(num_episodes));
  for (int64_t done = 0; done < num_episodes;) {
    const size_t n = static_cast<size_t>(std::min(kChunk, num_episodes - done));
    VecEnv env(options.env, n, env_seed);
    env_seed += n;
    const size_t adim = env.is_discrete() ? 1 : env.action_dim();
    std::vector<int32_t> discrete(n);
    std::vector<float> continuous(n * adim);
    std::vector<double> ret(n, 0.0), len(n, 0.0);
    std::vector<uint8_t> finished(n, 0);
    size_t remaining = n;
    env.reset();
    while (remaining > 0) {
      ActRequest req;
      req.obs = env.obs();  // valid until the next step; act() never steps these envs
      req.n = n;
      req.greedy = options.greedy;
      req.rng = &rng;
      req.discrete = discrete.data();
      req.continuous = continuous.data();
      policy.act(req);
      if (env.is_discrete())
        env.step(discrete.data());
      else
        env.step(continuous.data());
      for (const EpisodeStats& ep : env.completed()) {
        if (finished[ep.env]) continue;
        finished[ep.env] = 1;
        ret[ep.env] = ep.ret;
        len[ep.env] = static_cast<double>(ep.length);
        --remaining;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      r.episode_return.push_back(ret[i]);
      r.episode_length.push_back(len[i]);
      r.steps += static_cast<int64_t>(len[i]);
    }
    done += static_cast<int64_t>(n);
  }
  double sum = 0;
  for (double x : r.episode_return) sum += x;
  r.mean_return =
      r.episode_return.empty() ? 0.0 : sum / static_cast<double>(r.episode_return.size());
  return r;
}

}  // namespace edgerl
