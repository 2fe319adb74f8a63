#include "vesselgan/data/enhance_jitter.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "test_support.h"
#include "vesselgan/data/augment.h"

namespace vg {

TEST(EnhanceJitter, OffByDefaultKeepsTheInputsClipLimitAndNoGamma) {
  const EnhanceJitterOptions off;
  EXPECT_FALSE(active(off));
  EXPECT_NO_THROW(validate(off));
  torch::manual_seed(1);
  for (int i = 0; i < 20; ++i) {
    const EnhanceDraw d = draw_enhancement(off, 2.5);
    EXPECT_EQ(d.clip, 2.5);
    EXPECT_EQ(d.gamma, 1.0);
  }
}

TEST(EnhanceJitter, DrawsClipLimitsAcrossItsRangeAndGammasOnBothSidesOfOne) {
  const EnhanceJitterOptions o{1, 4, 1.5};
  ASSERT_TRUE(active(o));
  torch::manual_seed(2);
  double clip_lo = 99, clip_hi = 0, gamma_lo = 99, gamma_hi = 0;
  for (int i = 0; i < 400; ++i) {
    const EnhanceDraw d = draw_enhancement(o, 2);
    clip_lo = std::min(clip_lo, d.clip);
    clip_hi = std::max(clip_hi, d.clip);
    gamma_lo = std::min(gamma_lo, d.gamma);
    gamma_hi = std::max(gamma_hi, d.gamma);
  }
  EXPECT_GE(clip_lo, 1.0);
  EXPECT_LT(clip_lo, 1.1);
  EXPECT_LE(clip_hi, 4.0);
  EXPECT_GT(clip_hi, 3.9);
  EXPECT_GE(gamma_lo, 1 / 1.5 - 1e-12);
  EXPECT_LT(gamma_lo, 0.7);
  EXPECT_LE(gamma_hi, 1.5 + 1e-12);
  EXPECT_GT(gamma_hi, 1.4);
  // A gamma alone leaves the clip limit at the input's.
  EXPECT_EQ(draw_enhancement({0, 0, 1.5}, 2).clip, 2.0);
}

TEST(EnhanceJitter, TheSameSeedDrawsTheSameEnhancements) {
  const EnhanceJitterOptions o{1, 4, 1.3};
  torch::manual_seed(7);
  const EnhanceDraw a = draw_enhancement(o, 2);
  torch::manual_seed(7);
  const EnhanceDraw b = draw_enhancement(o, 2);
  EXPECT_EQ(a.clip, b.clip);
  EXPECT_EQ(a.gamma, b.gamma);
}

TEST(EnhanceJitter, RefusesClipRangesBelowOneOrUpsideDownAndGammasBelowOne) {
  const auto error = [](EnhanceJitterOptions o) { return test::user_error([&] { validate(o); }); };
  EXPECT_NE(error({0.5, 3, 1}).find("augment.enhance_jitter.clip_min"), std::string::npos);
  EXPECT_NE(error({0, 3, 1}).find("augment.enhance_jitter.clip_min"), std::string::npos);  // one-sided
  EXPECT_NE(error({3, 2, 1}).find("augment.enhance_jitter.clip_max"), std::string::npos);
  EXPECT_NE(error({1, 20, 1}).find("augment.enhance_jitter.clip_max"), std::string::npos);
  EXPECT_NE(error({1, 3, 0.9}).find("augment.enhance_jitter.gamma_max"), std::string::npos);
  EXPECT_NE(error({1, 3, std::nan("")}).find("augment.enhance_jitter.gamma_max"), std::string::npos);
  EXPECT_NO_THROW(validate(EnhanceJitterOptions{2, 2, 1}));  // a fixed clip limit of its own
}

TEST(EnhanceJitter, AppearsInTheAugmentJsonOnlyWhenOnAndReadsBack) {
  AugmentOptions a;
  EXPECT_FALSE(nlohmann::json(a).contains("enhance_jitter"));  // recipes written before it keep their keys
  a.enhance_jitter = {1, 4, 1.25};
  const nlohmann::json j = a;
  ASSERT_TRUE(j.contains("enhance_jitter"));
  const auto back = j.get<AugmentOptions>();
  EXPECT_EQ(back.enhance_jitter.clip_min, 1);
  EXPECT_EQ(back.enhance_jitter.clip_max, 4);
  EXPECT_EQ(back.enhance_jitter.gamma_max, 1.25);
  // Absent keys keep their values; an unknown key is refused by name.
  EXPECT_EQ(nlohmann::json({{"enhance_jitter", {{"gamma_max", 1.1}}}}).get<AugmentOptions>().enhance_jitter.clip_max, 0);
  EXPECT_NE(test::user_error([] { nlohmann::json({{"enhance_jitter", {{"clip", 2}}}}).get<AugmentOptions>(); })
                .find("clip"),
            std::string::npos);
}

}  // namespace vg
