// Parsing and printing one schema row's value.
#include "config/schema.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/text.hpp"

namespace edgerl::schema {
namespace {

std::string format_number(double v) {
  if (v == kInf) return "inf";
  if (v >= kI64Max) return "9.2e18";
  return shortest_double(v);
}

bool parse_bool(const std::string& v, bool& out) {
  const std::string s = lower(v);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return out = true, true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return out = false, true;
  return false;
}

// Integers as Stoix writes them: 500000, 500_000 or an exact 5e5. Through a double, as on every
// target (long double is a double on 32-bit ARM, and strtold would add 12 kB to the static
// x86-64 binary); plain decimals are read exactly below (plain_int64, strtoull).
bool parse_integer(const std::string& v, double& out) {
  std::string s;
  for (char c : v)
    if (c != '_') s += c;
  if (s.empty() || s.find_first_of("xXpP") != std::string::npos) return false;
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(b, &end);
  if (end == b || *end != '\0' || errno == ERANGE || !std::isfinite(x)) return false;
  if (x != std::floor(x)) return false;
  out = x;
  return true;
}

// The exact value of a plain decimal integer ([+-]digits, '_' allowed) that fits in int64_t:
// parse_integer's double rounds integers above 2^53.
bool plain_int64(const std::string& v, int64_t& out) {
  std::string s;
  for (char c : v)
    if (c != '_') s += c;
  const size_t start = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (s.size() == start || s.find_first_not_of("0123456789", start) != std::string::npos)
    return false;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0') return false;
  out = x;
  return true;
}

// lo <= x <= hi for integer-valued double bounds (or infinities), compared without rounding x.
bool int64_within(int64_t x, double lo, double hi) {
  const bool above_lo = lo <= -0x1p63 || (lo < 0x1p63 && x >= static_cast<int64_t>(std::ceil(lo)));
  const bool below_hi =
      hi >= 0x1p63 || (hi >= -0x1p63 && x <= static_cast<int64_t>(std::floor(hi)));
  return above_lo && below_hi;
}

// An Int field's value: exact for plain decimals, otherwise (5e5) through a double.
bool int_value(const Field& f, const std::string& v, int64_t& out, bool& in_range) {
  double x;
  if (!parse_integer(v, x)) return false;
  int64_t exact;
  if (plain_int64(v, exact)) {
    in_range = int64_within(exact, f.min, f.max);
    out = exact;
  } else {
    // (The cast needs x below 2^63; no Int field allows more than 9.2e18 anyway.)
    in_range = !(x < f.min || x > f.max) && x >= -0x1p63 && x < 0x1p63;
    if (in_range) out = static_cast<int64_t>(x);
  }
  return true;
}

}  // namespace

std::string full_name(const Field& f) {
  return std::string(f.section) + "." + f.key;
}

std::string allowed(const Field& f) {
  switch (f.kind) {
    case Kind::Bool:
      return "true or false";
    case Kind::UInt:
      return "0 to 18446744073709551615";
    case Kind::Int:
    case Kind::Double:
      return format_number(f.min) + " to " + format_number(f.max);
    case Kind::IntList:
      return "comma-separated integers, each " + format_number(f.min) + " to " +
             format_number(f.max);
    case Kind::Choice: {
      std::string s = "one of";
      for (size_t i = 0; i < f.choices.size(); ++i)
        s += (i ? ", " : " ") + std::string(f.choices[i]);
      return s;
    }
    case Kind::Name:
    case Kind::OptName:
      return std::string(f.kind == Kind::OptName ? "empty, or " : "") + "1 to " +
             std::to_string(kMaxFolderNameBytes) +
             " letters, digits, '.', '_', '-', '=', ',' (no path separators, not . or ..)";
    case Kind::String:
      return "one line of text without ';' or control characters";
  }
  return "";
}

std::string set(const Field& f, void* owner, const std::string& raw) {
  const std::string value = trim(raw);
  void* p = f.get(owner);
  const std::string bad = full_name(f) + " = '" + printable(value) + "' is invalid";
  const std::string allowed_text = " (allowed: " + allowed(f) + ")";
  switch (f.kind) {
    case Kind::Bool:
      if (!parse_bool(value, *static_cast<bool*>(p))) return bad + allowed_text;
      return "";
    case Kind::Int: {
      int64_t x = 0;
      bool in_range = false;
      if (!int_value(f, value, x, in_range))
        return bad + " (expected an integer; allowed: " + allowed(f) + ")";
      if (!in_range)
        return full_name(f) + " = " + printable(value) +
               " is out of range (allowed: " + allowed(f) + ")";
      *static_cast<int64_t*>(p) = x;
      return "";
    }
    case Kind::UInt: {
      if (value.empty() || value[0] == '-' || value[0] == '+') return bad + allowed_text;
      double x;
      if (!parse_integer(value, x) || x < 0) return bad + allowed_text;
      // strtoull keeps full precision for plain decimal seeds above 2^53 (2^64 - 1 included,
      // which the double rounds to 2^64).
      std::string digits;
      for (char c : value)
        if (c != '_') digits += c;
      if (digits.find_first_not_of("0123456789") == std::string::npos) {
        errno = 0;
        const unsigned long long u = std::strtoull(digits.c_str(), nullptr, 10);
        if (errno == ERANGE) return bad + allowed_text;
        *static_cast<uint64_t*>(p) = u;
      } else {
        if (x >= 0x1p64) return bad + allowed_text;
        *static_cast<uint64_t*>(p) = static_cast<uint64_t>(x);
      }
      return "";
    }
    case Kind::Double: {
      const char* b = value.c_str();
      char* end = nullptr;
      errno = 0;
      const double x = std::strtod(b, &end);
      if (value.empty() || *end != '\0' || !std::isfinite(x))
        return bad + " (expected a number; allowed: " + allowed(f) + ")";
      if (errno == ERANGE && x == 0)  // underflow: not the value written
        return full_name(f) + " = " + printable(value) +
               " is too small for a double and would read as 0 (write 0 if that is meant)";
      if (x < f.min || x > f.max)
        return full_name(f) + " = " + printable(value) +
               " is out of range (allowed: " + allowed(f) + ")";
      *static_cast<double*>(p) = x;
      return "";
    }
    case Kind::Choice:
      for (const char* c : f.choices)
        if (value == c) return *static_cast<std::string*>(p) = value, "";
      return bad + allowed_text +
             did_you_mean(value, std::vector<std::string>(f.choices.begin(), f.choices.end()));
    case Kind::Name:
    case Kind::OptName:
      if ((f.kind == Kind::Name || !value.empty()) && !folder_name_problem(value).empty())
        return bad + allowed_text;
      *static_cast<std::string*>(p) = value;
      return "";
    case Kind::String:
      for (unsigned char c : value)
        if (c == ';' || c < 0x20 || c == 0x7f) return bad + allowed_text;
      *static_cast<std::string*>(p) = value;
      return "";
    case Kind::IntList: {
      std::string s = value;
      if (!s.empty() && s.front() == '[') {
        if (s.back() != ']') return bad + allowed_text;
        s = s.substr(1, s.size() - 2);
      }
      std::vector<int64_t> out;
      if (!trim(s).empty()) {
        for (const std::string& item : split(s, ',')) {
          int64_t x = 0;
          bool in_range = false;
          if (!int_value(f, trim(item), x, in_range) || !in_range) return bad + allowed_text;
          out.push_back(x);
        }
        if (s.back() == ',') return bad + allowed_text;
      }
      *static_cast<std::vector<int64_t>*>(p) = out;
      return "";
    }
  }
  return "";
}

std::string get(const Field& f, const void* owner) {
  const void* p = f.get(const_cast<void*>(owner));
  switch (f.kind) {
    case Kind::Bool:
      return *static_cast<const bool*>(p) ? "true" : "false";
    case Kind::Int:
      return std::to_string(*static_cast<const int64_t*>(p));
    case Kind::UInt:
      return std::to_string(*static_cast<const uint64_t*>(p));
    case Kind::Double:
      return shortest_double(*static_cast<const double*>(p));
    case Kind::Choice:
    case Kind::Name:
    case Kind::OptName:
    case Kind::String:
      return *static_cast<const std::string*>(p);
    case Kind::IntList: {
      std::string s;
      for (int64_t v : *static_cast<const std::vector<int64_t>*>(p))
        s += (s.empty() ? "" : ", ") + std::to_string(v);
      return s;
    }
  }
  return "";
}

Field make_row(const char* section, const char* key, Kind kind, void* (*get)(void*), double min,
               double max, Effect effect, const char* doc, const Choices* choices) {
  return Field{section, key, kind, get, min, max, choices ? *choices : Choices{}, effect, doc};
}

std::vector<Field> network_rows_of(const char* section, const char* what, void* (*layers)(void*),
                                   void* (*activation)(void*), void* (*kernel_init)(void*)) {
  const auto T = Effect::training;
  return {
      Field{section, "layer_sizes", Kind::IntList, layers, 1, 4096, {}, T, what},
      Field{section,
            "activation",
            Kind::Choice,
            activation,
            0,
            0,
            {"tanh", "relu"},
            T,
            "hidden activation"},
      Field{section,
            "kernel_init",
            Kind::Choice,
            kernel_init,
            0,
            0,
            {"orthogonal", "torch_default"},
            T,
            "how the parameters start: orthogonal (gain sqrt 2 for hidden layers, the output's by "
            "role, zero biases: Stoix, CleanRL's PPO and DQN) or torch_default (PyTorch's "
            "nn.Linear default, weights and biases uniform in +-1/sqrt(fan_in): CleanRL's SAC, "
            "TD3 and DDPG, RLtools)"}};
}

}  // namespace edgerl::schema
