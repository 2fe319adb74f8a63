#include "vesselgan/core/option_fields.h"

#include <cmath>
#include <limits>

#include "test_support.h"

namespace vg {
namespace {

using test::contains;
using test::user_error;

// A two-level options struct written the way the library's are: one field list each.
struct Inner {
  double a = 0.5;
  std::string mode = "x";
};

struct Outer {
  int64_t n = 3;
  bool flag = false;
  std::string name = "default";
  double ratio = 0.25;
  double gain = 1;
  Inner inner;
  Inner loose;  // read like a section, checked by hand
};

const auto kInnerFields = [](auto& o, auto&& field) {
  field("a", o.a, within(0, 1, "0..1"));
  field("mode", o.mode, one_of({"x", "y"}));
};

const auto kOuterFields = [](auto& o, auto&& field) {
  field("n", o.n, at_least(1, ">= 1"));
  field("flag", o.flag);
  field("name", o.name);
  field("ratio", o.ratio, within(0, 1, "0..1 (a fraction)"));
  field("gain", o.gain, above(0, "> 0"));
  field("inner", o.inner, section);
  field("loose", o.loose, section_checked_apart);
};

void to_json(nlohmann::json& j, const Inner& o) { j = fields_to_json(o, kInnerFields); }
void from_json(const nlohmann::json& j, Inner& o) { fields_from_json(j, "opts.inner", o, kInnerFields); }
void validate(const Inner& o) { validate_fields("opts.inner", o, kInnerFields); }

void to_json(nlohmann::json& j, const Outer& o) { j = fields_to_json(o, kOuterFields); }
void from_json(const nlohmann::json& j, Outer& o) { fields_from_json(j, "opts", o, kOuterFields); }
void validate(const Outer& o) { validate_fields("opts", o, kOuterFields); }

Outer read(const nlohmann::json& j) {
  Outer o;
  from_json(j, o);
  return o;
}

TEST(OptionFields, RoundTripsEveryListedFieldUnderItsKey) {
  Outer o;
  o.n = 7;
  o.flag = true;
  o.name = "seven";
  o.ratio = 0.75;
  o.gain = 2.5;
  o.inner = {0.125, "y"};
  o.loose = {0.0625, "y"};
  const nlohmann::json j = o;
  EXPECT_EQ(j, nlohmann::json::parse(R"({"n": 7, "flag": true, "name": "seven", "ratio": 0.75, "gain": 2.5,
                                         "inner": {"a": 0.125, "mode": "y"}, "loose": {"a": 0.0625, "mode": "y"}})"));
  const Outer back = read(j);
  EXPECT_EQ(back.n, 7);
  EXPECT_TRUE(back.flag);
  EXPECT_EQ(back.name, "seven");
  EXPECT_EQ(back.ratio, 0.75);
  EXPECT_EQ(back.gain, 2.5);
  EXPECT_EQ(back.inner.a, 0.125);
  EXPECT_EQ(back.inner.mode, "y");
  EXPECT_EQ(back.loose.a, 0.0625);
  EXPECT_EQ(nlohmann::json(back), j);
}

TEST(OptionFields, AbsentKeysKeepTheirValuesAlsoInsideSections) {
  Outer o;
  o.name = "kept";
  o.inner.mode = "y";
  from_json(nlohmann::json{{"n", 5}, {"inner", {{"a", 0.9}}}}, o);
  EXPECT_EQ(o.n, 5);
  EXPECT_EQ(o.name, "kept");
  EXPECT_EQ(o.ratio, 0.25);
  EXPECT_EQ(o.inner.a, 0.9);
  EXPECT_EQ(o.inner.mode, "y");  // merged, not replaced by a default Inner
  const Outer d = read(nlohmann::json::object());
  EXPECT_EQ(d.n, 3);
  EXPECT_EQ(d.inner.mode, "x");
}

TEST(OptionFields, UnknownKeyIsRejectedNamingTheValidKeys) {
  EXPECT_EQ(user_error([] { read({{"n", 1}, {"nn", 2}}); }),
            "opts: unknown key 'nn' (valid: flag, gain, inner, loose, n, name, ratio)");
  EXPECT_EQ(user_error([] { read({{"inner", {{"b", 1}}}}); }), "opts.inner: unknown key 'b' (valid: a, mode)");
  EXPECT_EQ(user_error([] { read(nlohmann::json::array()); }), "opts: expected a JSON object, got []");
  EXPECT_EQ(user_error([] { read({{"inner", 3}}); }), "opts.inner: expected a JSON object, got 3");
}

TEST(OptionFields, WrongTypeIsRejectedAsJsonFieldsRejectsIt) {
  EXPECT_EQ(user_error([] { read({{"n", 2.5}}); }), "opts.n = 2.5 is not valid (valid: a whole number)");
  EXPECT_EQ(user_error([] { read({{"flag", 1}}); }), "opts.flag = 1 is not valid (valid: true or false)");
  EXPECT_EQ(user_error([] { read({{"ratio", "half"}}); }), "opts.ratio = \"half\" is not valid (valid: a number)");
  EXPECT_TRUE(contains(user_error([] { read({{"name", 3}}); }), "opts.name: wrong type or value 3"));
  EXPECT_EQ(user_error([] { read({{"inner", {{"a", true}}}}); }),
            "opts.inner.a = true is not valid (valid: a number)");
}

TEST(OptionFields, ValidateRunsEachRuleWithItsMessage) {
  EXPECT_EQ(user_error([] { validate(Outer{}); }), "");
  auto invalid = [](auto change) {
    Outer o;
    change(o);
    return user_error([&] { validate(o); });
  };
  EXPECT_EQ(invalid([](Outer& o) { o.ratio = 2; }), "opts.ratio = 2.0 is not valid (valid: 0..1 (a fraction))");
  EXPECT_EQ(invalid([](Outer& o) { o.n = 0; }), "opts.n = 0 is not valid (valid: >= 1)");
  EXPECT_EQ(invalid([](Outer& o) { o.gain = 0; }), "opts.gain = 0.0 is not valid (valid: > 0)");
  EXPECT_EQ(invalid([](Outer& o) { o.inner.mode = "z"; }), "opts.inner.mode = \"z\" is not valid (valid: x, y)");
  EXPECT_EQ(invalid([](Outer& o) { o.inner.a = -1; }), "opts.inner.a = -1.0 is not valid (valid: 0..1)");
  // The bounds belong to the range.
  EXPECT_EQ(invalid([](Outer& o) { o.ratio = 1; }), "");
  EXPECT_EQ(invalid([](Outer& o) { o.ratio = 0; }), "");
  EXPECT_EQ(invalid([](Outer& o) { o.n = 1; }), "");
  // A section_checked_apart field is left to the owner's validate.
  EXPECT_EQ(invalid([](Outer& o) { o.loose.mode = "z"; }), "");
}

TEST(OptionFields, NanFailsEveryRangeRule) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(within(0, 1, "").ok(nan));
  EXPECT_FALSE(at_least(0, "").ok(nan));
  EXPECT_FALSE(above(0, "").ok(nan));
  Outer o;
  o.ratio = nan;
  EXPECT_EQ(user_error([&] { validate(o); }), "opts.ratio = null is not valid (valid: 0..1 (a fraction))");
  o.ratio = 0.5;
  o.gain = nan;
  EXPECT_TRUE(contains(user_error([&] { validate(o); }), "opts.gain = null is not valid"));
}

}  // namespace
}  // namespace vg
