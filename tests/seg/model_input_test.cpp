#include "vesselgan/seg/model_input.h"

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

TEST(InputOptions, EnhanceFieldsAreWrittenOnlyWhenEnhanceIsOn) {
  InputOptions o;
  o.pad_to = 592;
  EXPECT_EQ(nlohmann::json(o), (nlohmann::json{{"resize", 0}, {"pad_to", 592}}));
  o.enhance = "green-clahe";
  const nlohmann::json j = o;
  EXPECT_EQ(j.at("enhance"), "green-clahe");
  EXPECT_EQ(j.at("clahe_clip"), 2.0);
  EXPECT_EQ(j.at("clahe_tile"), 64);
  InputOptions back;
  from_json(j, back);
  EXPECT_EQ(back.enhance, "green-clahe");
}

TEST(InputOptions, RefusesAnUnknownEnhanceAndOutOfRangeClaheFields) {
  InputOptions o;
  o.enhance = "clahe";
  EXPECT_THROW(validate(o), UserError);
  o = InputOptions{};
  o.clahe_clip = 0.5;
  EXPECT_THROW(validate(o), UserError);
  o = InputOptions{};
  o.clahe_tile = 4;
  EXPECT_THROW(validate(o), UserError);
}

TEST(EnhanceImage, NoneReturnsThePhotographUnchanged) {
  const auto x = torch::rand({3, 20, 30});
  EXPECT_TRUE(torch::equal(enhance_image(x, InputOptions{}), x));
}

TEST(EnhanceImage, GreenClaheReadsOnlyTheGreenChannelAndFillsAllThree) {
  torch::manual_seed(1);
  InputOptions o;
  o.enhance = "green-clahe";
  o.clahe_tile = 16;
  const auto x = torch::rand({3, 40, 50}) * 0.2 + 0.3;
  auto other = x.clone();
  other.select(0, 0).copy_(torch::rand({40, 50}));
  other.select(0, 2).zero_();
  const auto y = enhance_image(x, o);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(y, enhance_image(other, o)));
  EXPECT_TRUE(torch::equal(y.select(0, 0), y.select(0, 1)));
  EXPECT_TRUE(torch::equal(y.select(0, 2), y.select(0, 1)));
  EXPECT_GT(y.std().item<double>(), 2 * x.select(0, 1).std().item<double>()) << "contrast stretched";
}

}  // namespace vg
