// Strict reading of config objects: every key must be known, every value of the right type, and errors
// name the config section and the key ("train.epochs: expected a number, got \"ten\"").
#pragma once
#include <nlohmann/json.hpp>

#include <limits>
#include <set>
#include <type_traits>
#include <string>

#include "vesselgan/core/error.h"

namespace vg {

class JsonFields {
 public:
  JsonFields(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) throw UserError(where_ + ": expected a JSON object, got " + j_.dump());
  }

  // Reads `key` into `out` when present; leaves the default otherwise.
  template <class T>
  JsonFields& get(const std::string& key, T& out) {
    known_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return *this;
    check_number<T>(key, *it);
    try {
      out = it->template get<T>();
    } catch (const UserError& e) {
      throw;
    } catch (const std::exception& e) {
      throw UserError(where_ + "." + key + ": wrong type or value " + it->dump() + " (" + first_line(e.what()) + ")");
    }
    return *this;
  }

  // Throws on keys that no get() asked for, listing the valid ones.
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (known_.count(it.key())) continue;
      std::string valid;
      for (const auto& k : known_) valid += (valid.empty() ? "" : ", ") + k;
      throw UserError(where_ + ": unknown key '" + it.key() + "' (valid: " + valid + ")");
    }
  }

 private:
  // nlohmann converts numbers silently (2.5 -> 2 for an integer, -1 -> 2^64 - 1 for an unsigned one, 1e300
  // -> inf for a float): a number must fit its field exactly.
  template <class T>
  void check_number(const std::string& key, const nlohmann::json& v) const {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) throw UserError(where_ + "." + key + " = " + v.dump() + " is not valid (valid: true or false)");
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer())
        throw UserError(where_ + "." + key + " = " + v.dump() + " is not valid (valid: a whole number)");
      using L = std::numeric_limits<T>;
      bool fits;
      if (v.is_number_unsigned()) {
        fits = v.get<uint64_t>() <= static_cast<uint64_t>(L::max());
      } else {
        const int64_t x = v.get<int64_t>();
        fits = std::is_unsigned_v<T> ? x >= 0 : (x >= static_cast<int64_t>(L::min()) &&
                                                 (sizeof(T) >= 8 || x <= static_cast<int64_t>(L::max())));
      }
      if (!fits)
        throw UserError(where_ + "." + key + " = " + v.dump() + " is not valid (valid: a whole number from " +
                        std::to_string(L::min()) + " to " + std::to_string(L::max()) + ")");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) throw UserError(where_ + "." + key + " = " + v.dump() + " is not valid (valid: a number)");
    }
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  const nlohmann::json& j_;
  std::string where_;
  std::set<std::string> known_;
};

// Merges the JSON object j[key] into an existing struct: absent keys keep their current values. The struct's
// own from_json then checks the merged object strictly.
template <class T>
void merge_section(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  nlohmann::json base = out;
  base.merge_patch(*it);
  out = base.get<T>();
}

// Throws UserError "<where>: <field> = <value> is out of range (valid: <valid>)" unless ok.
template <class T>
void check_field(bool ok, const std::string& where, const T& value, const std::string& valid) {
  if (!ok) {
    nlohmann::json v = value;
    throw UserError(where + " = " + v.dump() + " is not valid (valid: " + valid + ")");
  }
}

}  // namespace vg
