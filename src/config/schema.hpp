// config/schema: the rows of the config schema. One row is one INI key: its section, name,
// type, allowed range, default (the owner struct's initial value), what it changes and its
// documentation. The config module's own rows (src/config/config.cpp) live on Config; each
// learner's rows live on its own config struct (src/learners/ff_*.cpp). Everything that reads
// or writes keys (loader, validator, INI writer, reference, resume check) goes through rows.
#pragma once

#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/config.hpp"
#include "edgerl/nn.hpp"

namespace edgerl::schema {

enum class Kind {
  Bool,
  Int,      // int64_t
  UInt,     // uint64_t
  Double,   // double, finite
  String,   // std::string, one line of printable text without ';'
  Name,     // std::string, one folder name (core/text.hpp's folder_name_problem)
  OptName,  // a Name or empty
  Choice,   // std::string, one of `choices`
  IntList,  // std::vector<int64_t>
};

using Effect = KeyEffect;

// The values of a Kind::Choice row: at most 8 static strings, in a plain array, so that a
// Field is trivially copyable (the tables of rows then cost little code in the small builds).
struct Choices {
  const char* items[8] = {};
  size_t n = 0;
  Choices() = default;
  Choices(std::initializer_list<const char*> values) {
    for (const char* v : values) add(v);
  }
  explicit Choices(const std::vector<const char*>& values) {
    for (const char* v : values) add(v);
  }
  void add(const char* v) {
    if (n == sizeof items / sizeof items[0]) throw std::logic_error("schema: too many choices");
    items[n++] = v;
  }
  const char* const* begin() const { return items; }
  const char* const* end() const { return items + n; }
  size_t size() const { return n; }
  const char* operator[](size_t i) const { return items[i]; }
};

struct Field {
  const char* section;
  const char* key;
  Kind kind;
  void* (*get)(void* owner);  // the member inside the owner struct
  double min;
  double max;
  Choices choices;  // Kind::Choice only
  Effect effect;
  const char* doc;
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kI64Max = 9.2e18;  // just below 2^63: counters have room to add to it

// The accessor of a data member, for rows on a learner's struct:
//   schema::row<&PpoConfig::clip_eps>("system", "clip_eps", Kind::Double, 0, 10, ...)
template <class M>
struct MemberOf;
template <class C, class V>
struct MemberOf<V C::*> {
  using Owner = C;
};
template <auto M>
void* member(void* owner) {
  using C = typename MemberOf<decltype(M)>::Owner;
  return &(static_cast<C*>(owner)->*M);
}
// One row, built out of line: the tables of rows call it rather than each spelling out a
// whole Field (their code is most of what the config schema costs in the small builds).
Field make_row(const char* section, const char* key, Kind kind, void* (*get)(void*), double min,
               double max, Effect effect, const char* doc, const Choices* choices = nullptr);
template <auto M>
Field row(const char* section, const char* key, Kind kind, double min, double max, Effect effect,
          const char* doc) {
  return make_row(section, key, kind, &member<M>, min, max, effect, doc);
}
template <auto M>
Field row(const char* section, const char* key, Kind kind, double min, double max, Effect effect,
          const char* doc, const Choices& choices) {
  return make_row(section, key, kind, &member<M>, min, max, effect, doc, &choices);
}

// A row for member N of the network member M of a learner's struct (a NetworkConfig).
template <auto M, auto N>
void* network_member(void* owner) {
  return &(static_cast<NetworkConfig*>(member<M>(owner))->*N);
}

// The rows of one [network.<name>] section, given the accessors of its three members (one
// function for every network: the rows' code is not repeated per learner).
std::vector<Field> network_rows_of(const char* section, const char* what, void* (*layers)(void*),
                                   void* (*activation)(void*), void* (*kernel_init)(void*));
// The rows of one [network.<name>] section, for the network member M of a learner's struct.
template <auto M>
std::vector<Field> network_rows(const char* section, const char* what) {
  return network_rows_of(section, what, &network_member<M, &NetworkConfig::layer_sizes>,
                         &network_member<M, &NetworkConfig::activation>,
                         &network_member<M, &NetworkConfig::kernel_init>);
}

// "section.key".
std::string full_name(const Field& f);
// Sets the member from INI text, or returns why it cannot (without a location prefix).
std::string set(const Field& f, void* owner, const std::string& text);
// The member as INI text (what to_ini writes).
std::string get(const Field& f, const void* owner);
// "0 to 1", "one of tanh, relu", ...: the allowed values, for messages and the reference.
std::string allowed(const Field& f);

}  // namespace edgerl::schema
