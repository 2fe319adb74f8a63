#include "vesselgan/data/jpeg_blockiness.h"

#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/io/image_codec.h"

namespace vg {

namespace {

// A fundus phantom (vessels on a textured background inside a round FOV), 8-bit as a photograph file is.
Sample photograph() {
  Sample s = test::phantom_samples(1, 192)[0];
  s.image = (s.image * 255).round() / 255;
  return s;
}

torch::Tensor through_jpeg(const torch::Tensor& image, int quality) {
  return decode_image(encode_jpeg(image, quality), "test").pixels;
}

}  // namespace

TEST(JpegBlockiness, GrowsAsTheJpegQualityFalls) {
  const Sample s = photograph();
  const double clean = jpeg_blockiness(s.image, s.mask);
  const double q90 = jpeg_blockiness(through_jpeg(s.image, 90), s.mask);
  const double q50 = jpeg_blockiness(through_jpeg(s.image, 50), s.mask);
  const double q10 = jpeg_blockiness(through_jpeg(s.image, 10), s.mask);
  EXPECT_NEAR(clean, 1.0, 0.15);
  EXPECT_LT(clean, q90);
  EXPECT_LT(q90, q50);
  EXPECT_LT(q50, q10);
  EXPECT_GT(q10, 2.0);
}

TEST(JpegBlockiness, FindsTheGridOfACroppedPhotograph) {
  const Sample s = photograph();
  const auto compressed = through_jpeg(s.image, 10);
  // Cropping 3 rows and 5 columns moves the block grid off the corner.
  const auto crop = [](const torch::Tensor& x) { return x.narrow(1, 3, x.size(1) - 3).narrow(2, 5, x.size(2) - 5); };
  EXPECT_NEAR(jpeg_blockiness(crop(compressed), crop(s.mask)), jpeg_blockiness(compressed, s.mask), 0.5);
  EXPECT_GT(jpeg_blockiness(crop(compressed), crop(s.mask)), 2.0);
}

TEST(JpegBlockiness, CountsOnlyStepsInsideTheFov) {
  // Smooth inside a centred square FOV, an 8 px checkerboard outside it.
  auto image = torch::full({3, 64, 64}, 0.5);
  const auto block = torch::div(torch::arange(64), 8, "floor");
  const auto checker = ((block.unsqueeze(1) + block.unsqueeze(0)) % 2).to(torch::kFloat);
  image.copy_((0.3 + 0.4 * checker).expand({3, 64, 64}));
  auto fov = torch::zeros({1, 64, 64});
  fov.narrow(1, 16, 32).narrow(2, 16, 32).fill_(1);
  const auto ramp = (torch::arange(32).to(torch::kFloat) / 128).unsqueeze(0);
  image.narrow(1, 16, 32).narrow(2, 16, 32).copy_((0.2 + ramp + ramp.t()).expand({3, 32, 32}));
  EXPECT_GT(jpeg_blockiness(image), 2.0);  // the checkerboard's steps all lie on its grid
  EXPECT_NEAR(jpeg_blockiness(image, fov), 1.0, 1e-6);  // a linear ramp steps alike everywhere
}

TEST(JpegBlockiness, IsOneForAFlatOrTinyImageAndRefusesOtherShapes) {
  EXPECT_EQ(jpeg_blockiness(torch::full({3, 32, 32}, 0.4)), 1.0);
  EXPECT_EQ(jpeg_blockiness(torch::rand({1, 12, 12})), 1.0);  // under two blocks along both axes
  EXPECT_THROW(jpeg_blockiness(torch::rand({2, 32, 32})), c10::Error);
  EXPECT_THROW(jpeg_blockiness(torch::rand({3, 32, 32}), torch::ones({1, 16, 32})), c10::Error);
}

}  // namespace vg
