// Loads the policy of an edgerl checkpoint, runs one greedy episode, and shows a tensor through
// xtensor. Build against an installed edgerl:
//   c++ -std=c++17 run_policy.cpp $(pkg-config --cflags --libs edgerl) -o run_policy
#include <cstdio>
#include <edgerl/edgerl.hpp>
#include <edgerl/xtensor.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: run_policy CHECKPOINT\n"), 2;
  const auto policy = edgerl::load_policy(argv[1]);
  edgerl::Env env(policy->model().env);
  env.reset(0);
  float action[8];
  double ret = 0;
  for (edgerl::Env::Step s; !s.terminated && !s.truncated; ret += s.reward) {
    policy->act_one(env.obs(), action);
    s = env.info().discrete ? env.step(static_cast<int32_t>(action[0])) : env.step(action[0]);
  }
  std::vector<edgerl::Tensor> tensors;
  edgerl::CheckpointInfo info;
  edgerl::read_checkpoint_file(edgerl::posix_fs(), argv[1], &info, &tensors);
  const auto first = edgerl::tensor_view<float>(tensors.front());
  std::printf("%s: return %.1f; %s has %zu values, the first %g\n", policy->model().env.c_str(),
              ret, tensors.front().name.c_str(), first.size(), static_cast<double>(first(0)));
}
