#include "vesselgan/seg/losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "vesselgan/core/error.h"

namespace vg {
namespace {

namespace F = torch::nn::functional;

TEST(Losses, BceEqualsTorchBinaryCrossEntropyWithLogits) {
  torch::manual_seed(0);
  const torch::Tensor z = torch::randn({2, 1, 8, 8}) * 3;
  const torch::Tensor hard = (torch::rand({2, 1, 8, 8}) > 0.7).to(torch::kFloat);
  const torch::Tensor soft = torch::rand({2, 1, 8, 8});
  for (const auto& t : {hard, soft}) {
    EXPECT_NEAR(bce_loss(z, t).item<double>(), F::binary_cross_entropy_with_logits(z, t).item<double>(),
                1e-6);
    LossOptions o;
    o.kind = "bce";
    EXPECT_NEAR(segmentation_loss(z, t, o).item<double>(),
                F::binary_cross_entropy_with_logits(z, t).item<double>(), 1e-6);
  }
}

TEST(Losses, BceOfOnePixelIsTheClosedForm) {
  // z = 0.3, t = 1: -log sigmoid(0.3) = log(1 + e^-0.3); with pos_weight 2 the term doubles.
  const torch::Tensor z = torch::full({1, 1, 1, 1}, 0.3), t = torch::ones({1, 1, 1, 1});
  EXPECT_NEAR(bce_loss(z, t).item<double>(), std::log1p(std::exp(-0.3)), 1e-6);
  EXPECT_NEAR(bce_loss(z, t, 2.0).item<double>(), 2.0 * std::log1p(std::exp(-0.3)), 1e-6);
  // A negative pixel is unaffected by pos_weight: -log(1 - sigmoid(0.3)) = log(1 + e^0.3).
  EXPECT_NEAR(bce_loss(z, torch::zeros({1, 1, 1, 1}), 2.0).item<double>(), std::log1p(std::exp(0.3)), 1e-6);
}

TEST(Losses, DiceMatchesTheClosedFormWithSmoothingOne) {
  // Logits 0 give p = 0.5 everywhere. 4 pixels, 1 positive:
  // 1 - (2 * 0.5 + 1) / (4 * 0.5 + 1 + 1) = 1 - 2 / 4 = 0.5.
  const torch::Tensor z = torch::zeros({1, 1, 2, 2});
  const torch::Tensor t = torch::tensor({1.f, 0.f, 0.f, 0.f}).reshape({1, 1, 2, 2});
  EXPECT_DOUBLE_EQ(kDiceSmooth, 1.0);
  EXPECT_NEAR(dice_loss(z, t).item<double>(), 0.5, 1e-6);
  // Mixed logits: p = sigmoid(2), sigmoid(-1) on the positives; sigmoid(0), sigmoid(-3) on the negatives.
  const torch::Tensor z2 = torch::tensor({2.f, -1.f, 0.f, -3.f}).reshape({1, 1, 2, 2});
  const torch::Tensor t2 = torch::tensor({1.f, 1.f, 0.f, 0.f}).reshape({1, 1, 2, 2});
  auto s = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const double inter = s(2) + s(-1), psum = s(2) + s(-1) + s(0) + s(-3);
  EXPECT_NEAR(dice_loss(z2, t2).item<double>(), 1.0 - (2.0 * inter + 1.0) / (psum + 2.0 + 1.0), 1e-6);
  // A perfect, confident prediction has a loss near zero.
  EXPECT_NEAR(dice_loss(t2 * 40 - 20, t2).item<double>(), 0.0, 1e-6);
}

TEST(Losses, CombinationIsTheMeanOfBceAndDice) {
  torch::manual_seed(1);
  const torch::Tensor z = torch::randn({2, 1, 6, 5});
  const torch::Tensor t = (torch::rand({2, 1, 6, 5}) > 0.5).to(torch::kFloat);
  const LossOptions both;  // default kind: bce+dice
  EXPECT_EQ(both.kind, "bce+dice");
  const double expected = 0.5 * bce_loss(z, t).item<double>() + 0.5 * dice_loss(z, t).item<double>();
  EXPECT_NEAR(segmentation_loss(z, t, both).item<double>(), expected, 1e-6);
  LossOptions dice;
  dice.kind = "dice";
  EXPECT_NEAR(segmentation_loss(z, t, dice).item<double>(), dice_loss(z, t).item<double>(), 1e-7);
}

TEST(Losses, WeightMaskExcludesPixels) {
  torch::manual_seed(2);
  const torch::Tensor z = torch::randn({1, 1, 4, 6});
  const torch::Tensor t = (torch::rand({1, 1, 4, 6}) > 0.5).to(torch::kFloat);
  // Keep only the left half: the loss must equal the loss of the left half alone, whatever the right half.
  torch::Tensor w = torch::zeros({1, 1, 4, 6});
  w.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(),
                torch::indexing::Slice(0, 3)},
               1.0);
  const torch::Tensor zl = z.narrow(3, 0, 3).contiguous(), tl = t.narrow(3, 0, 3).contiguous();
  const torch::Tensor z_garbage = torch::where(w > 0, z, torch::full_like(z, 50.0));
  const torch::Tensor t_garbage = torch::where(w > 0, t, 1 - t);
  for (const char* kind : {"bce", "dice", "bce+dice"}) {
    LossOptions o;
    o.kind = kind;
    const double left = segmentation_loss(zl, tl, o).item<double>();
    EXPECT_NEAR(segmentation_loss(z, t, o, w).item<double>(), left, 1e-6) << kind;
    EXPECT_NEAR(segmentation_loss(z_garbage, t_garbage, o, w).item<double>(), left, 1e-6) << kind;
  }
  // No pixel counts: defined as zero.
  LossOptions o;
  EXPECT_NEAR(segmentation_loss(z, t, o, torch::zeros_like(w)).item<double>(), 0.0, 1e-7);
}

TEST(Losses, PosWeightIncreasesTheLossOnPositives) {
  torch::manual_seed(3);
  const torch::Tensor z = torch::randn({1, 1, 8, 8});
  const torch::Tensor t = (torch::rand({1, 1, 8, 8}) > 0.6).to(torch::kFloat);
  LossOptions o;
  o.kind = "bce";
  const double base = segmentation_loss(z, t, o).item<double>();
  o.pos_weight = 3.0;
  const double weighted = segmentation_loss(z, t, o).item<double>();
  EXPECT_GT(weighted, base);
  // Exactly: the positives' share of the mean is multiplied by 3.
  const torch::Tensor per_pixel = F::binary_cross_entropy_with_logits(
      z, t, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  const double pos = (per_pixel * t).sum().item<double>() / 64.0;
  EXPECT_NEAR(weighted - base, 2.0 * pos, 1e-5);
  // On an all-negative target pos_weight changes nothing.
  const torch::Tensor zero = torch::zeros_like(t);
  o.pos_weight = 1.0;
  const double neg = segmentation_loss(z, zero, o).item<double>();
  o.pos_weight = 3.0;
  EXPECT_NEAR(segmentation_loss(z, zero, o).item<double>(), neg, 1e-7);
}

TEST(Losses, GradientsFlowToLogits) {
  torch::manual_seed(4);
  const torch::Tensor z = torch::randn({1, 1, 4, 4}).requires_grad_(true);
  const torch::Tensor t = (torch::rand({1, 1, 4, 4}) > 0.5).to(torch::kFloat);
  segmentation_loss(z, t, LossOptions{}).backward();
  ASSERT_TRUE(z.grad().defined());
  // Raising a positive pixel's logit lowers both terms; raising a negative's raises them.
  const torch::Tensor g = z.grad();
  EXPECT_TRUE(torch::all(g.masked_select(t > 0) < 0).item<bool>());
  EXPECT_TRUE(torch::all(g.masked_select(t == 0) > 0).item<bool>());
}

TEST(Losses, OptionsRoundTripThroughJsonAndValidate) {
  LossOptions o;
  o.kind = "dice";
  o.pos_weight = 2.5;
  const auto back = nlohmann::json(o).get<LossOptions>();
  EXPECT_EQ(back.kind, "dice");
  EXPECT_DOUBLE_EQ(back.pos_weight, 2.5);
  EXPECT_THROW(nlohmann::json::parse(R"({"knd": "bce"})").get<LossOptions>(), UserError);
  EXPECT_THROW(nlohmann::json::parse(R"({"pos_weight": "x"})").get<LossOptions>(), UserError);
  EXPECT_NO_THROW(validate(LossOptions{}));
  EXPECT_THROW(validate(LossOptions{"focal", 1.0}), UserError);
  EXPECT_THROW(validate(LossOptions{"bce", 0.0}), UserError);
  EXPECT_THROW(validate(LossOptions{"bce", std::nan("")}), UserError);

  // clDice: written only when on, read back, validated.
  EXPECT_FALSE(nlohmann::json(LossOptions{}).contains("cldice_weight"));
  LossOptions c;
  c.cldice_weight = 0.3;
  c.cldice_iterations = 7;
  const auto cback = nlohmann::json(c).get<LossOptions>();
  EXPECT_DOUBLE_EQ(cback.cldice_weight, 0.3);
  EXPECT_EQ(cback.cldice_iterations, 7);
  c.cldice_weight = 1.0;
  EXPECT_THROW(validate(c), UserError);
  c.cldice_weight = 0.3;
  c.cldice_iterations = 0;
  EXPECT_THROW(validate(c), UserError);

  // The thin-vessel weight: written only when on, read back, validated with a message naming it.
  EXPECT_FALSE(nlohmann::json(LossOptions{}).contains("thin_weight"));
  LossOptions thin;
  thin.thin_weight = 4;
  EXPECT_DOUBLE_EQ(nlohmann::json(thin).get<LossOptions>().thin_weight, 4.0);
  for (double bad : {0.5, 101.0, std::nan("")}) {
    thin.thin_weight = bad;
    try {
      validate(thin);
      ADD_FAILURE() << bad << " accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("thin_weight"), std::string::npos) << e.what();
    }
  }
}

// A horizontal bar of the given thickness, rows centred on row 32 of a 64x64 map, columns [2, 62).
torch::Tensor bar(int64_t thickness) {
  torch::Tensor m = torch::zeros({1, 1, 64, 64});
  m.slice(2, 32 - thickness / 2, 32 - thickness / 2 + thickness).slice(3, 2, 62).fill_(1);
  return m;
}

TEST(Losses, ThinVesselPixelsAreTheVesselsUnderThreePixelsWide) {
  // Bars 1, 2 and 3 px thick, and a soft label: only the 1 and 2 px bars are thin, all of their pixels.
  for (int64_t t : {1, 2, 3}) {
    const torch::Tensor thin = thin_vessel_pixels(bar(t));
    EXPECT_EQ(thin.sum().item<double>(), t < 3 ? bar(t).sum().item<double>() : 0.0) << t << " px";
    EXPECT_TRUE(torch::equal(thin * bar(t), thin)) << t << " px: a thin pixel outside the vessel";
  }
  // A 1 px vessel running off a 7 px one: the junction's thick part is not thin, the branch is.
  torch::Tensor map = bar(7);
  map.slice(2, 0, 29).slice(3, 40, 41).fill_(1);
  const torch::Tensor thin = thin_vessel_pixels(map * 0.9);  // a soft label counts where it is >= 0.5
  EXPECT_EQ(thin.sum().item<double>(), 29);
  EXPECT_EQ(thin.slice(2, 29, 36).sum().item<double>(), 0);
}

TEST(Losses, ThinWeightMultipliesTheBceOfThinVesselPixelsOnly) {
  torch::manual_seed(1);
  torch::Tensor truth = bar(5);
  truth.slice(2, 0, 20).slice(3, 10, 11).fill_(1);  // a 1 px vessel
  const torch::Tensor z = torch::randn({1, 1, 64, 64});
  const torch::Tensor fov = (torch::rand({1, 1, 64, 64}) > 0.2).to(torch::kFloat);
  const torch::Tensor per_pixel = F::binary_cross_entropy_with_logits(
      z, truth, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  const torch::Tensor emphasis = 1 + 3 * thin_vessel_pixels(truth);
  LossOptions o;
  o.kind = "bce";
  o.thin_weight = 4;
  EXPECT_NEAR(segmentation_loss(z, truth, o).item<double>(), (per_pixel * emphasis).mean().item<double>(), 1e-6);
  EXPECT_NEAR(segmentation_loss(z, truth, o, fov).item<double>(),
              (per_pixel * emphasis * fov).sum().item<double>() / fov.sum().item<double>(), 1e-6);
  // Off, it is the plain loss; Dice never sees it.
  o.thin_weight = 1;
  EXPECT_NEAR(segmentation_loss(z, truth, o).item<double>(), per_pixel.mean().item<double>(), 1e-6);
  LossOptions dice;
  dice.kind = "dice";
  LossOptions dice_thin = dice;
  dice_thin.thin_weight = 4;
  EXPECT_EQ(segmentation_loss(z, truth, dice).item<double>(), segmentation_loss(z, truth, dice_thin).item<double>());
}

TEST(Losses, SoftSkeletonOfABarIsItsCentreRow) {
  const torch::Tensor skel = soft_skeleton(bar(5), 10);
  const torch::Tensor rows = skel.sum({0, 1, 3});  // mass per row
  EXPECT_GT(rows[32].item<double>(), 0.8 * rows.sum().item<double>()) << rows.slice(0, 28, 37);
  EXPECT_EQ(skel.slice(2, 0, 30).sum().item<double>(), 0);
  EXPECT_EQ(skel.slice(2, 35, 64).sum().item<double>(), 0);
}

TEST(Losses, ClDiceCountsAGapInAVesselMoreThanAThickerVesselAndDiceTheOtherWay) {
  const torch::Tensor truth = bar(3);
  const torch::Tensor thicker = bar(5);
  torch::Tensor broken = bar(3);
  broken.slice(3, 29, 35).zero_();  // a 6 px gap: 18 pixels lost
  auto logits = [](const torch::Tensor& m) { return (m * 2 - 1) * 30; };  // hard maps
  EXPECT_LT(cldice_loss(logits(truth), truth, 10).item<double>(), 1e-3);
  const double cl_broken = cldice_loss(logits(broken), truth, 10).item<double>();
  const double cl_thicker = cldice_loss(logits(thicker), truth, 10).item<double>();
  const double dice_broken = dice_loss(logits(broken), truth).item<double>();
  const double dice_thicker = dice_loss(logits(thicker), truth).item<double>();
  EXPECT_GT(cl_broken, cl_thicker + 0.03);  // 0.05 (a tenth of the centreline missing) against ~0
  EXPECT_LT(dice_broken, dice_thicker - 0.1);  // 0.05 against 0.25 (120 extra pixels)

  // Blended into segmentation_loss, with gradients.
  LossOptions o;
  o.cldice_weight = 0.5;
  const torch::Tensor z = (logits(broken) * 0.1).requires_grad_(true);
  const torch::Tensor l = segmentation_loss(z, truth, o);
  EXPECT_NEAR(l.item<double>(),
              0.5 * segmentation_loss(z, truth, LossOptions{}).item<double>() +
                  0.5 * cldice_loss(z, truth, 10).item<double>(),
              1e-6);
  l.backward();
  // The gap's pixels are pushed up.
  EXPECT_LT(z.grad().slice(2, 31, 34).slice(3, 29, 35).max().item<double>(), 0);
}

}  // namespace
}  // namespace vg
