#include "edgerl/cli.hpp"

#include <algorithm>

namespace edgerl {

ConfigArgs split_config_args(const std::vector<std::string>& args,
                             const std::vector<std::string>& valued_options) {
  ConfigArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a file name");
      if (!out.config_path.empty()) throw UsageError("--config given twice");
      out.config_path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      if (!out.config_path.empty()) throw UsageError("--config given twice");
      out.config_path = a.substr(9);
    } else if (a.rfind("-", 0) == 0) {
      out.rest.push_back(a);
      const bool takes_value =
          std::find(valued_options.begin(), valued_options.end(), a) != valued_options.end();
      if (takes_value) {
        if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
        out.rest.push_back(args[++i]);
      }
    } else if (a.find('=') != std::string::npos) {
      out.overrides.push_back(a);
    } else if (a.find('.') != std::string::npos && a.find('/') == std::string::npos) {
      throw ConfigError("override '" + a + "': expected section.key=value");
    } else {
      out.rest.push_back(a);
    }
  }
  return out;
}

Config load_config_args(const ConfigArgs& ca) {
  if (ca.config_path.empty()) {
    Config cfg = default_config();
    for (const auto& o : ca.overrides) apply_override(cfg, o);
    validate(cfg);
    return cfg;
  }
  const std::string prefix = "builtin:";
  if (ca.config_path.rfind(prefix, 0) == 0) {
    const std::string name = ca.config_path.substr(prefix.size());
    const std::string text = builtin_config_text(name);
    if (text.empty()) {
      std::string names;
      for (const auto& n : builtin_config_names()) names += (names.empty() ? "" : ", ") + n;
      throw ConfigError("no built-in config named '" + name + "' (built in: " + names + ")");
    }
    return load_config_text(text, "<built-in " + name + ">", ca.overrides);
  }
  return load_config(ca.config_path, ca.overrides);
}

}  // namespace edgerl
