#include "vesselgan/seg/patch_sampler.h"

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/seg/train_options.h"

namespace vg {

namespace {

// An image whose pixel value encodes its position (row * W + col), so a crop says where it came from.
torch::Tensor position_image(int64_t H, int64_t W) {
  return torch::arange(H * W, torch::kFloat).reshape({1, H, W}).expand({3, H, W}).contiguous();
}

}  // namespace

TEST(PatchSampler, DrawsCropsOfOneSizeFromImagesOfAnySize) {
  const auto big = position_image(40, 56), small = position_image(16, 16);
  PatchSampler s({big, small}, {torch::zeros({1, 40, 56}), torch::ones({1, 16, 16})},
                 {torch::ones({1, 40, 56}), torch::ones({1, 16, 16})}, 16, 0.5);
  torch::manual_seed(1);
  torch::Tensor im, lb, mk;
  s.draw(64, &im, &lb, &mk);
  EXPECT_EQ(im.sizes(), (std::vector<int64_t>{64, 3, 16, 16}));
  EXPECT_EQ(lb.sizes(), (std::vector<int64_t>{64, 1, 16, 16}));
  EXPECT_EQ(mk.sizes(), (std::vector<int64_t>{64, 1, 16, 16}));
  int small_seen = 0;
  for (int64_t k = 0; k < 64; ++k) {
    if (lb[k].min().item<float>() == 1) {  // the small image: always whole, never shifted
      ++small_seen;
      EXPECT_TRUE(im[k].equal(small));
    } else {  // a crop of the big one: contiguous positions, rows W apart
      const float first = im[k][0][0][0].item<float>();
      EXPECT_EQ(im[k][0][0][15].item<float>(), first + 15);
      EXPECT_EQ(im[k][0][15][0].item<float>(), first + 15 * 56);
    }
  }
  EXPECT_GT(small_seen, 10);  // the image is chosen uniformly
  EXPECT_LT(small_seen, 54);
}

TEST(PatchSampler, PadsAnImageSmallerThanTheCropWithZerosOutsideItsMask) {
  PatchSampler s({torch::ones({3, 8, 8})}, {torch::ones({1, 8, 8})}, {torch::ones({1, 8, 8})}, 16, 1.0);
  torch::Tensor im, lb, mk;
  s.draw(2, &im, &lb, &mk);
  EXPECT_EQ(im.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_EQ(mk.sum().item<float>(), 2 * 64);
  EXPECT_EQ(im[0][0][4][4].item<float>(), 1);
  EXPECT_EQ(im[0][0][0][0].item<float>(), 0);
}

TEST(PatchSampler, CentresCropsOnTheFovWhenFovShareIsOne) {
  // A 96x96 image whose FOV is a 6x6 square in one corner: a uniform crop would miss it most of the time.
  auto mask = torch::zeros({1, 96, 96});
  mask.slice(1, 80, 86).slice(2, 2, 8).fill_(1);
  PatchSampler s({torch::zeros({3, 96, 96})}, {torch::zeros({1, 96, 96})}, {mask}, 16, 1.0);
  torch::manual_seed(2);
  torch::Tensor im, lb, mk;
  s.draw(32, &im, &lb, &mk);
  for (int64_t k = 0; k < 32; ++k) EXPECT_GT(mk[k].sum().item<float>(), 0) << "crop " << k;

  PatchSampler uniform({torch::zeros({3, 96, 96})}, {torch::zeros({1, 96, 96})}, {mask}, 16, 0.0);
  uniform.draw(64, &im, &lb, &mk);
  int64_t missed = 0;
  for (int64_t k = 0; k < 64; ++k) missed += mk[k].sum().item<float>() == 0;
  EXPECT_GT(missed, 32);
}

TEST(PatchSampler, IsReproducibleUnderTheTorchSeed) {
  const auto img = position_image(50, 50);
  PatchSampler s({img}, {torch::zeros({1, 50, 50})}, {torch::ones({1, 50, 50})}, 16, 0.9);
  torch::Tensor a, b, l, m;
  torch::manual_seed(7);
  s.draw(8, &a, &l, &m);
  torch::manual_seed(7);
  s.draw(8, &b, &l, &m);
  EXPECT_TRUE(a.equal(b));
}

TEST(PatchOptions, ValidationNamesTheFieldAndItsValidValues) {
  TrainOptions o;
  o.patch.size = 60;  // depth 3: a multiple of 8 is needed
  o.patch.per_epoch = 10;
  EXPECT_TRUE(test::contains(test::user_error([&] { validate(o); }), "train.patch.size"));
  o.patch.size = 64;
  o.patch.per_epoch = 0;
  EXPECT_TRUE(test::contains(test::user_error([&] { validate(o); }), "train.patch.per_epoch"));
  o.patch.per_epoch = 10;
  o.patch.fov_share = 1.5;
  EXPECT_TRUE(test::contains(test::user_error([&] { validate(o); }), "train.patch.fov_share"));
  o.patch.fov_share = 0.9;
  EXPECT_NO_THROW(validate(o));
  EXPECT_TRUE(test::contains(test::user_error([&] { nlohmann::json({{"patch", {{"sise", 64}}}}).get<TrainOptions>(); }), "train.patch: unknown key 'sise'"));
}

}  // namespace vg
