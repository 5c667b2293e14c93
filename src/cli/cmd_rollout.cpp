// `edgerl rollout`: steps one environment through a given action sequence and prints every
// observation, reward and end flag as CSV, so a port can be compared with Gymnasium step by
// step.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "edgerl/envs.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl rollout --env NAME [--seed S] [--init-state x1,x2,...]\n"
    "                      [--max-episode-steps N] --actions a1,a2,...\n"
    "\n"
    "Resets the environment with reset(seed=S), applies the actions in order and prints CSV:\n"
    "a header, then a row for every reset and every step:\n"
    "  t,obs_0,...,obs_k,action,reward,terminated,truncated\n"
    "t is the number of steps taken so far. A reset row has t and the observation only (its\n"
    "action, reward and flags are empty); a step row has the observation the step returned.\n"
    "When an episode ends before the actions do, the environment is reset (the random stream\n"
    "continues, as Gymnasium's reset() without a seed) and the next actions go on.\n"
    "Observations are float32 printed with %.9g, rewards float64 with %.17g: both read back\n"
    "exactly.\n"
    "\n"
    "  --env NAME               CartPole-v1, Acrobot-v1, MountainCar-v0,\n"
    "                           MountainCarContinuous-v0 or Pendulum-v1\n"
    "  --seed S                 seed of the first reset (default 0)\n"
    "  --init-state x1,...      overwrite the internal float64 state after every reset:\n"
    "                           CartPole x,x_dot,theta,theta_dot; Acrobot theta1,theta2,\n"
    "                           dtheta1,dtheta2; MountainCar* position,velocity;\n"
    "                           Pendulum theta,theta_dot\n"
    "  --max-episode-steps N    time limit (default 0 = Gymnasium's)\n"
    "  --actions a1,a2,...      discrete: integers 0..n-1; continuous: numbers inside the\n"
    "                           action space (Pendulum -2..2, MountainCarContinuous -1..1),\n"
    "                           rounded to float32 as the Box holds them\n"
    "\n"
    "An unknown environment, a state of the wrong length or an action outside the action\n"
    "space is one error line on stderr and exit status 2.\n";

struct Options {
  std::string env;
  uint64_t seed = 0;
  bool has_init_state = false;
  std::vector<double> init_state;
  int64_t max_episode_steps = 0;
  std::string actions;
  bool has_actions = false;
};

// Bad usage or input: the message after "edgerl rollout: ".
using Bad = UsageError;

std::vector<std::string> split_commas(const std::string& text, const char* what) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (items.back().empty()) throw Bad(std::string(what) + " has an empty item in '" + text + "'");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

double parse_double(const std::string& s, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v))
    throw Bad(what + " '" + s + "' is not a finite number");
  return v;
}

// A whole decimal integer, or false.
bool to_int64(const std::string& s, int64_t* out) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || errno == ERANGE) return false;
  *out = v;
  return true;
}

uint64_t parse_seed(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || s[0] == '+' || *end != '\0' || errno == ERANGE)
    throw Bad("--seed '" + s + "' is not an integer from 0 to 18446744073709551615");
  return v;
}

// Options, or false when --help was asked for.
bool parse_options(const Args& args, Options* out) {
  Options& o = *out;
  std::string seed, init_state, max_steps;
  bool has_env = false, has_seed = false, has_steps = false;
  ArgParser p("rollout");
  p.option("--env", &o.env, "", &has_env)
      .option("--seed", &seed, "", &has_seed)
      .option("--init-state", &init_state, "", &o.has_init_state)
      .option("--max-episode-steps", &max_steps, "", &has_steps)
      .option("--actions", &o.actions, "", &o.has_actions);
  if (!p.parse(args)) return false;
  if (has_seed) o.seed = parse_seed(seed);
  if (o.has_init_state)
    for (const std::string& item : split_commas(init_state, "--init-state"))
      o.init_state.push_back(parse_double(item, "--init-state value"));
  if (has_steps && (!to_int64(max_steps, &o.max_episode_steps) || o.max_episode_steps < 0))
    throw Bad("--max-episode-steps '" + max_steps + "' is not an integer >= 0 (0 = Gymnasium's)");
  if (!has_env) throw Bad("--env NAME is required (see edgerl rollout --help)");
  if (!o.has_actions) throw Bad("--actions a1,a2,... is required (see edgerl rollout --help)");
  return true;
}

// The action list, validated against the environment's action space before anything runs.
struct Actions {
  std::vector<int32_t> discrete;
  std::vector<float> continuous;
};

Actions parse_actions(const std::string& text, const EnvInfo& info) {
  Actions a;
  const std::vector<std::string> items = split_commas(text, "--actions");
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string what = "action " + std::to_string(i + 1);
    if (info.discrete) {
      int64_t v = 0;
      if (!to_int64(items[i], &v))
        throw Bad(what + " '" + items[i] + "' is not an integer (" + info.name +
                  " has discrete actions)");
      if (v < 0 || v >= info.num_actions)
        throw Bad(what + " is " + items[i] + ", outside " + info.name + "'s actions 0.." +
                  std::to_string(info.num_actions - 1));
      a.discrete.push_back(static_cast<int32_t>(v));
    } else {
      const double v = parse_double(items[i], what);
      const float f = static_cast<float>(v);
      if (!std::isfinite(f)) throw Bad(what + " '" + items[i] + "' does not fit in a float32");
      if (f < info.action_low || f > info.action_high) {
        char range[64];
        std::snprintf(range, sizeof range, "%g..%g", info.action_low, info.action_high);
        throw Bad(what + " is " + items[i] + ", outside " + info.name + "'s action space " + range);
      }
      a.continuous.push_back(f);
    }
  }
  return a;
}

void print_header(const EnvInfo& info) {
  std::printf("t");
  for (size_t j = 0; j < info.obs_dim; ++j) std::printf(",obs_%zu", j);
  std::printf(",action,reward,terminated,truncated\n");
}

void print_obs(int64_t t, const Env& env) {
  std::printf("%lld", static_cast<long long>(t));
  for (size_t j = 0; j < env.info().obs_dim; ++j)
    std::printf(",%.9g", static_cast<double>(env.obs()[j]));
}

void reset(Env& env, const Options& o, bool first) {
  if (first)
    env.reset(o.seed);
  else
    env.reset();
  if (o.has_init_state) env.set_state(o.init_state.data());
}

}  // namespace

int cmd_rollout(const Args& args) {
  Options o;
  if (!parse_options(args, &o)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  const EnvInfo& info = env_info(o.env);
  if (o.has_init_state && o.init_state.size() != info.state_dim) {
    std::string names;
    for (const std::string& n : info.state_names) names += (names.empty() ? "" : ",") + n;
    throw Bad("--init-state has " + std::to_string(o.init_state.size()) + " values; " + info.name +
              " needs " + std::to_string(info.state_dim) + " (" + names + ")");
  }
  const Actions actions = parse_actions(o.actions, info);
  Env env(o.env, o.max_episode_steps);
  const size_t n = info.discrete ? actions.discrete.size() : actions.continuous.size();

  print_header(info);
  reset(env, o, true);
  print_obs(0, env);
  std::printf(",,,,\n");
  for (size_t t = 0; t < n; ++t) {
    Env::Step s;
    if (info.discrete)
      s = env.step(actions.discrete[t]);
    else
      s = env.step(actions.continuous[t]);
    print_obs(static_cast<int64_t>(t + 1), env);
    if (info.discrete)
      std::printf(",%d", actions.discrete[t]);
    else
      std::printf(",%.9g", static_cast<double>(actions.continuous[t]));
    std::printf(",%.17g,%d,%d\n", s.reward, s.terminated ? 1 : 0, s.truncated ? 1 : 0);
    if ((s.terminated || s.truncated) && t + 1 < n) {
      reset(env, o, false);
      print_obs(static_cast<int64_t>(t + 1), env);
      std::printf(",,,,\n");
    }
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw Bad("cannot write the output");
  return kExitOk;
}

}  // namespace edgerl::cli
