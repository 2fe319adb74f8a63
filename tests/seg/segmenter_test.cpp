#include "vesselgan/seg/segmenter.h"

#include "test_support.h"

namespace vg {

namespace {
SAUNet tiny_model() {
  torch::manual_seed(0);
  SAUNetOptions o;
  o.base_channels = 4;
  return SAUNet(o);
}
}  // namespace

TEST(Segmenter, ReturnsAProbabilityOfThePhotographsSizeForOddSizes) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  const auto p = s.probability(torch::rand({3, 37, 53}));
  EXPECT_EQ(p.sizes(), torch::IntArrayRef({1, 37, 53}));
  EXPECT_GE(p.min().item<float>(), 0.f);
  EXPECT_LE(p.max().item<float>(), 1.f);
}

TEST(Segmenter, ResizedInputMapsBackToTheOriginalSize) {
  InputOptions in;
  in.resize = 32;
  Segmenter s(tiny_model(), in, torch::kCPU);
  EXPECT_EQ(s.probability(torch::rand({3, 70, 50})).sizes(), torch::IntArrayRef({1, 70, 50}));
}

TEST(Segmenter, TilingAgreesWithOnePassAwayFromTileBorders) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  torch::manual_seed(1);
  const auto img = torch::rand({3, 96, 160});
  PredictOptions whole;
  PredictOptions tiled;
  tiled.tile = 64;
  tiled.tile_overlap = 32;
  const auto a = s.probability(img, whole), b = s.probability(img, tiled);
  EXPECT_EQ(b.sizes(), a.sizes());
  EXPECT_LT((a - b).abs().mean().item<float>(), 0.05f);
}

TEST(Segmenter, FlipTTAIsInvariantToFlippingTheInput) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  PredictOptions tta;
  tta.tta = true;
  const auto img = torch::rand({3, 32, 48});
  const auto a = s.probability(img, tta);
  const auto b = s.probability(img.flip({2}), tta).flip({2});
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5));
}

}  // namespace vg
