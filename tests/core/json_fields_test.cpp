#include "vesselgan/core/json_fields.h"

#include "test_support.h"

namespace vg {

TEST(JsonFields, ReadsKnownKeysAndKeepsDefaults) {
  int a = 1;
  double b = 2.5;
  JsonFields(nlohmann::json{{"a", 7}}, "cfg").get("a", a).get("b", b).finish();
  EXPECT_EQ(a, 7);
  EXPECT_EQ(b, 2.5);
}

TEST(JsonFields, UnknownKeyIsAUserErrorListingValidKeys) {
  int a = 1;
  try {
    JsonFields(nlohmann::json{{"a", 7}, {"typo", 1}}, "cfg").get("a", a).finish();
    FAIL();
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cfg"), std::string::npos);
    EXPECT_NE(m.find("typo"), std::string::npos);
    EXPECT_NE(m.find("valid: a"), std::string::npos);
  }
}

TEST(JsonFields, WrongTypeNamesTheKey) {
  int a = 1;
  try {
    JsonFields(nlohmann::json{{"a", "ten"}}, "train").get("a", a);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.a"), std::string::npos);
  }
}

TEST(JsonFields, NumbersMustFitTheirFieldExactly) {
  int64_t n = 0;
  uint64_t seed = 0;
  int small = 0;
  double x = 0;
  bool flag = false;
  auto error = [](auto fn) { return test::user_error(fn); };
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"batch_size", 2.5}}, "train").get("batch_size", n); }),
                             "train.batch_size = 2.5 is not valid (valid: a whole number)"));
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"seed", -1}}, "gan").get("seed", seed); }),
                             "gan.seed = -1 is not valid"));
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"k", 1e10}}, "c").get("k", small); }), "c.k"));
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"k", 10000000000LL}}, "c").get("k", small); }),
                             "c.k = 10000000000 is not valid"));
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"k", "1"}}, "c").get("k", x); }), "c.k"));
  EXPECT_TRUE(test::contains(error([&] { JsonFields(nlohmann::json{{"k", 1}}, "c").get("k", flag); }), "c.k"));
  // What fits is read as before: whole numbers into doubles, the largest unsigned seed.
  JsonFields(nlohmann::json{{"x", 3}, {"seed", 18446744073709551615ULL}, {"n", -5}}, "c")
      .get("x", x)
      .get("seed", seed)
      .get("n", n);
  EXPECT_EQ(x, 3.0);
  EXPECT_EQ(seed, 18446744073709551615ULL);
  EXPECT_EQ(n, -5);
}

}  // namespace vg
