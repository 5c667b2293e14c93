// The environment registry: Gymnasium ids (the config's env.scenario name) to environment types.
#include <string>
#include <vector>

#include "core/text.hpp"
#include "env_kind.hpp"

namespace edgerl {
namespace {

const std::vector<const detail::EnvKind*>& kinds() {
  static const std::vector<const detail::EnvKind*> all = {
      &detail::cartpole_kind(), &detail::acrobot_kind(), &detail::mountain_car_kind(),
      &detail::mountain_car_continuous_kind(), &detail::pendulum_kind()};
  return all;
}

}  // namespace

const std::vector<std::string>& env_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const detail::EnvKind* k : kinds()) n.push_back(k->info.name);
    return n;
  }();
  return names;
}

const EnvInfo& env_info(const std::string& name) {
  return detail::find_kind(name).info;
}

namespace detail {

const EnvKind& find_kind(const std::string& name) {
  for (const EnvKind* k : kinds())
    if (k->info.name == name) return *k;
  std::string valid;
  for (const std::string& n : env_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw EnvError("unknown environment '" + name + "'" + did_you_mean(name, env_names()) +
                 "; valid names: " + valid);
}

}  // namespace detail
}  // namespace edgerl
