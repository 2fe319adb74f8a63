#include "vesselgan/seg/train_options.h"

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

TEST(TrainOptions, JsonRoundTripIsExact) {
  TrainOptions o = train_preset("quick");
  o.schedule = {{3, 0.01}, {2, 0.001}};
  o.augment.rotate_deg = 12;
  o.model.variant = "sd-unet";
  o.input.resize = 256;
  const nlohmann::json j = o;
  const TrainOptions back = j.get<TrainOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
}

TEST(TrainOptions, PartialJsonOverridesOnlyItsFields) {
  TrainOptions o = train_preset("drive");
  from_json(nlohmann::json{{"batch_size", 8}, {"model", {{"keep_prob", 0.9}}}}, o);
  EXPECT_EQ(o.batch_size, 8);
  EXPECT_DOUBLE_EQ(o.model.keep_prob, 0.9);
  EXPECT_EQ(o.model.base_channels, 16);
  EXPECT_EQ(o.input.pad_to, 592);
}

TEST(TrainOptions, UnknownKeyAndBadValuesAreUserErrors) {
  TrainOptions o;
  EXPECT_THROW(from_json(nlohmann::json{{"epochz", 3}}, o), UserError);
  o.batch_size = 0;
  EXPECT_THROW(validate(o), UserError);
  o = TrainOptions{};
  o.select = "accuracy";
  EXPECT_THROW(validate(o), UserError);
  EXPECT_THROW(train_preset("nope"), UserError);
}

TEST(TrainOptions, SplitSeedDefaultsToTheSeedAndOverridesItWhenSet) {
  TrainOptions o;
  o.seed = 7;
  EXPECT_EQ(effective_split_seed(o), 7u);
  o.split_seed = 42;
  EXPECT_EQ(effective_split_seed(o), 42u);
  // A config written before split_seed existed keeps the old behaviour: the split follows the seed.
  TrainOptions old;
  from_json(nlohmann::json{{"seed", 3}}, old);
  EXPECT_EQ(effective_split_seed(old), 3u);
  o.split_seed = 0;
  EXPECT_EQ(effective_split_seed(o), 0u);
}

TEST(TrainOptions, ReferenceScheduleIs100EpochsAt1e3Then50At1e4) {
  const TrainOptions o = train_preset("drive");
  EXPECT_EQ(total_epochs(o), 150);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 0), 1e-3);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 99), 1e-3);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 100), 1e-4);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 149), 1e-4);
}

TEST(TrainOptions, ACosineStageFallsFromItsLrTowardsItsEndLrAndTheNextStageRestartsIt) {
  TrainOptions o;
  o.schedule = {{4, 1e-2, 1e-6}, {4, 1e-2, 1e-6}, {2, 1e-4}};
  ASSERT_NO_THROW(validate(o));
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 0), 1e-2);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 2), 1e-6 + (1e-2 - 1e-6) * 0.5);  // half way: the mean of the two
  EXPECT_GT(lr_at_epoch(o, 1), lr_at_epoch(o, 2));
  EXPECT_GT(lr_at_epoch(o, 2), lr_at_epoch(o, 3));
  EXPECT_GT(lr_at_epoch(o, 3), 1e-6);
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 4), 1e-2);  // the second cycle starts again
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 8), 1e-4);  // a constant stage stays constant
  EXPECT_DOUBLE_EQ(lr_at_epoch(o, 9), 1e-4);
  const nlohmann::json j = o;
  EXPECT_EQ(j.at("schedule")[0].at("end_lr"), 1e-6);
  EXPECT_FALSE(j.at("schedule")[2].contains("end_lr"));  // constant stages keep the keys they had before
  EXPECT_EQ(nlohmann::json(j.get<TrainOptions>()), j);
  o.schedule[1].end_lr = 1e-2;  // not below its lr
  EXPECT_THROW(validate(o), UserError);
  o.schedule[1].end_lr = -1;
  EXPECT_THROW(validate(o), UserError);
}

TEST(TrainOptions, ScalingTheScheduleScalesEveryStageAndEveryCycleByTheFirstStagesFactor) {
  TrainOptions o;
  o.schedule = {{100, 1e-3}, {50, 1e-4}, {10, 1e-2, 1e-6}};
  scale_schedule(o, 2e-3);
  EXPECT_DOUBLE_EQ(o.schedule[0].lr, 2e-3);
  EXPECT_DOUBLE_EQ(o.schedule[1].lr, 2e-4);
  EXPECT_DOUBLE_EQ(o.schedule[2].lr, 2e-2);
  EXPECT_DOUBLE_EQ(o.schedule[2].end_lr, 2e-6);
  EXPECT_EQ(o.schedule[1].end_lr, 0);  // a constant stage stays constant
}

TEST(TrainOptions, WeightAveragingStartsWithinTheScheduleAndIsAbsentFromTheJsonWhenOff) {
  TrainOptions o;  // 150 epochs
  EXPECT_FALSE(nlohmann::json(o).contains("swa_start"));  // recipes written before it keep their keys
  o.swa_start = 150;
  EXPECT_NO_THROW(validate(o));
  EXPECT_EQ(nlohmann::json(o).at("swa_start"), 150);
  o.swa_start = 151;
  EXPECT_THROW(validate(o), UserError);
  o.swa_start = -1;
  EXPECT_THROW(validate(o), UserError);
}

TEST(TrainOptions, PatchTrainingOfAnEnhancedInputRefusesDegradations) {
  // Degradations must reach the photograph before its enhancement; patches are cut from enhanced photographs.
  TrainOptions o;
  o.augment.degrade.p = 0.3;
  o.augment.degrade.jpeg_min = 10;
  o.input.enhance = "green-clahe";
  EXPECT_NO_THROW(validate(o));  // whole photographs
  o.patch.size = 64;
  o.patch.per_epoch = 100;
  try {
    validate(o);
    ADD_FAILURE() << "patch training of an enhanced input with degradations was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.augment.degrade.p"), std::string::npos) << e.what();
  }
  o.input.enhance = "none";
  EXPECT_NO_THROW(validate(o));
}

TEST(TrainOptions, AJitteredEnhancementNeedsAnEnhancedInputAndWholePhotographs) {
  TrainOptions o;
  o.augment.enhance_jitter = {1, 4, 1.2};
  // input.enhance "none": there is no clip limit to draw
  EXPECT_NE(test::user_error([&] { validate(o); }).find("train.input.enhance"), std::string::npos);
  o.input.enhance = "green-clahe";
  EXPECT_NO_THROW(validate(o));
  EXPECT_TRUE(enhances_per_batch(o));
  o.patch.size = 64;
  o.patch.per_epoch = 100;
  EXPECT_NE(test::user_error([&] { validate(o); }).find("train.patch.size"), std::string::npos);
  o.patch.size = 0;
  o.augment.enhance_jitter = {};
  EXPECT_FALSE(enhances_per_batch(o));  // enhanced once, as before
}

TEST(TrainOptions, TheContrastiveTermIsAbsentFromTheJsonWhenOffAndRefusedForACascade) {
  TrainOptions o;
  EXPECT_FALSE(nlohmann::json(o).contains("contrast"));  // recipes written before it keep their keys
  o.contrast.weight = 0.1;
  const nlohmann::json j = o;
  ASSERT_TRUE(j.contains("contrast"));
  EXPECT_EQ(j.get<TrainOptions>().contrast.weight, 0.1);
  validate(o);
  o.model.refiner_channels = 8;
  try {
    validate(o);
    ADD_FAILURE() << "a cascade with the contrastive term was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.contrast.weight"), std::string::npos) << e.what();
  }
}

}  // namespace vg
