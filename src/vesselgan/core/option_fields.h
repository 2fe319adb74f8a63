// One field list per options struct, from which its to_json, its strict from_json and the per-field part of
// its validate are derived, so a new field is written down once instead of in four places. In the struct's
// .cpp:
//
//   const auto kFields = [](auto& o, auto&& field) {
//     field("p", o.p, within(0, 1, "0..1 (probability)"));  // range check in validate
//     field("mode", o.mode, one_of({"a", "b"}));            // "mode = ... is not valid (valid: a, b)"
//     field("name", o.name);                                // read and written, no check
//     field("degrade", o.degrade, section);                 // nested options: merged, checked by its validate
//   };
//   void to_json(nlohmann::json& j, const X& o) { j = fields_to_json(o, kFields); }
//   void from_json(const nlohmann::json& j, X& o) { fields_from_json(j, "augment", o, kFields); }
//   void validate(const X& o) { validate_fields("augment", o, kFields); /* then cross-field checks */ }
//
// Reading is JsonFields' (unknown keys and numbers that do not fit are UserErrors); a `section` field is
// merged into its current value (merge_section) so absent keys inside it keep theirs. Checks run in list
// order and throw check_field's "<where>.<key> = <value> is not valid (valid: <text>)"; every rule is false
// for NaN.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "vesselgan/core/json_fields.h"

namespace vg {

// Marks a field that is itself an options struct with its own to_json, from_json and validate: read by
// merging, checked by its validate in list order. `section_checked_apart` reads the same way but leaves the
// check to the owner's validate (for a section validated on an adjusted copy).
struct SectionField {
  bool validated;
};
inline constexpr SectionField section{true};
inline constexpr SectionField section_checked_apart{false};

// A per-field check: ok(value), and the text shown after "valid: " when it fails.
template <class Pred>
struct FieldRule {
  Pred ok;
  std::string valid;
};

template <class Pred>
FieldRule<Pred> rule(Pred ok, std::string valid) {
  return {std::move(ok), std::move(valid)};
}

// lo <= v <= hi.
inline auto within(double lo, double hi, std::string valid) {
  return rule([lo, hi](double v) { return v >= lo && v <= hi; }, std::move(valid));
}

// v >= lo.
inline auto at_least(double lo, std::string valid) {
  return rule([lo](double v) { return v >= lo; }, std::move(valid));
}

// v > lo.
inline auto above(double lo, std::string valid) {
  return rule([lo](double v) { return v > lo; }, std::move(valid));
}

// One of the names; the valid text lists them ("a, b, c").
inline auto one_of(std::vector<std::string> names) {
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  return rule(
      [names = std::move(names)](const std::string& v) {
        for (const auto& n : names)
          if (v == n) return true;
        return false;
      },
      std::move(valid));
}

namespace option_fields {

struct Writer {
  nlohmann::json& j;
  template <class T, class... Extra>
  void operator()(const char* key, const T& value, const Extra&...) const {
    j[key] = value;
  }
};

struct Reader {
  const nlohmann::json& j;
  JsonFields& fields;
  template <class T, class... Extra>
  void operator()(const char* key, T& value, const Extra&...) const {
    fields.get(key, value);
  }
  template <class T>
  void operator()(const char* key, T& value, SectionField) const {
    merge_section(j, key, value);
    nlohmann::json merged;  // read above; asked for so that finish() accepts the key
    fields.get(key, merged);
  }
};

struct Checker {
  const std::string& where;
  template <class T>
  void operator()(const char*, const T&) const {}
  template <class T>
  void operator()(const char*, const T& value, SectionField s) const {
    if (s.validated) validate(value);
  }
  template <class T, class Pred>
  void operator()(const char* key, const T& value, const FieldRule<Pred>& r) const {
    check_field(static_cast<bool>(r.ok(value)), where + "." + key, value, r.valid);
  }
};

}  // namespace option_fields

// Every listed field under its key.
template <class O, class Fields>
nlohmann::json fields_to_json(const O& o, const Fields& fields) {
  nlohmann::json j = nlohmann::json::object();
  fields(o, option_fields::Writer{j});
  return j;
}

// Reads the listed keys present in j into o (absent ones keep their values); UserError, naming `where`, for
// anything JsonFields rejects, including keys not in the list.
template <class O, class Fields>
void fields_from_json(const nlohmann::json& j, const std::string& where, O& o, const Fields& fields) {
  JsonFields reader(j, where);
  fields(o, option_fields::Reader{j, reader});
  reader.finish();
}

// Runs the listed fields' rules in list order, and validate() on each section.
template <class O, class Fields>
void validate_fields(const std::string& where, const O& o, const Fields& fields) {
  fields(o, option_fields::Checker{where});
}

}  // namespace vg
