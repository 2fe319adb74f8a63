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

}  // namespace vg
