#include "vesselgan/data/phantom.h"

#include <torch/torch.h>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

namespace {
PhantomOptions small(int64_t size = 96) {
  PhantomOptions o;
  o.size = size;
  return o;
}
}  // namespace

TEST(Phantom, IsDeterministicPerSeedAndLeavesTheTorchRngAlone) {
  torch::manual_seed(5);
  const torch::Tensor r1 = torch::rand({4});
  torch::manual_seed(5);
  const PhantomSample a = make_phantom(small(), 17);
  const torch::Tensor r2 = torch::rand({4});
  EXPECT_TRUE(torch::equal(r1, r2));  // the global generator was not advanced
  const PhantomSample b = make_phantom(small(), 17);
  EXPECT_TRUE(torch::equal(a.image, b.image));
  EXPECT_TRUE(torch::equal(a.label, b.label));
  EXPECT_TRUE(torch::equal(a.mask, b.mask));
  const PhantomSample c = make_phantom(small(), 18);
  EXPECT_FALSE(torch::equal(a.label, c.label));
  EXPECT_GT((a.image - c.image).abs().mean().item<double>(), 0.01);
}

TEST(Phantom, HasDocumentedShapesRangesAndFov) {
  const PhantomOptions o = small(80);
  const PhantomSample s = make_phantom(o, 3);
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 80, 80}));
  ASSERT_EQ(s.label.sizes(), torch::IntArrayRef({1, 80, 80}));
  ASSERT_EQ(s.mask.sizes(), torch::IntArrayRef({1, 80, 80}));
  EXPECT_EQ(s.image.scalar_type(), torch::kFloat);
  EXPECT_GE(s.image.min().item<double>(), 0.0);
  EXPECT_LE(s.image.max().item<double>(), 1.0);
  for (const auto& t : {s.label, s.mask}) EXPECT_TRUE(((t == 0) | (t == 1)).all().item<bool>());
  EXPECT_EQ((s.label * (1 - s.mask)).sum().item<double>(), 0.0);        // label inside the FOV only
  EXPECT_EQ((s.image * (1 - s.mask)).abs().sum().item<double>(), 0.0);  // black outside the FOV
  // The FOV is the disc of radius fov_radius * size: pi r^2 pixels, up to the rim's quantisation.
  const double r = o.fov_radius * o.size;
  EXPECT_NEAR(s.mask.sum().item<double>(), M_PI * r * r, 2 * M_PI * r * 0.5);
}

TEST(Phantom, VesselFractionInFovIsLikeDrive) {
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const PhantomSample s = make_phantom(PhantomOptions{}, seed);  // 128 px
    const double frac = s.label.sum().item<double>() / s.mask.sum().item<double>();
    EXPECT_GE(frac, 0.05) << "seed " << seed;
    EXPECT_LE(frac, 0.25) << "seed " << seed;
  }
}

TEST(Phantom, VesselsAreDarkerThanTheBackgroundInGreen) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const PhantomSample s = make_phantom(small(), seed);
    const torch::Tensor g = s.image[1], lab = s.label[0], bg = s.mask[0] * (1 - lab);
    const double vessel = (g * lab).sum().item<double>() / lab.sum().item<double>();
    const double back = (g * bg).sum().item<double>() / bg.sum().item<double>();
    EXPECT_LT(vessel, 0.9 * back) << "seed " << seed;
  }
}

TEST(Phantom, ImageIsReddishLikeAFundus) {
  const PhantomSample s = make_phantom(small(), 9);
  const torch::Tensor m = s.mask[0];
  auto mean = [&](int c) { return (s.image[c] * m).sum().item<double>() / m.sum().item<double>(); };
  EXPECT_GT(mean(0), mean(1));
  EXPECT_GT(mean(1), mean(2));
}

TEST(PhantomOptions, JsonRoundTripAndValidation) {
  PhantomOptions o;
  o.size = 200;
  o.tortuosity = 0.5;
  const nlohmann::json j = o;
  EXPECT_EQ(nlohmann::json(j.get<PhantomOptions>()), j);
  EXPECT_THROW(nlohmann::json({{"sizes", 3}}).get<PhantomOptions>(), UserError);
  o.num_trees = 1;
  EXPECT_THROW(validate(o), UserError);
  o = PhantomOptions{};
  o.size = 8;
  EXPECT_THROW(make_phantom(o, 0), UserError);
}

TEST(PhantomDataset, WritesTheExpectedFilesWithExactLabels) {
  test::ScratchDir dir("phantom_dataset");
  const PhantomOptions o = small(48);
  write_phantom_dataset(dir.path(), 3, 2, o, 99);
  for (const char* sub : {"images", "labels", "masks"}) {
    for (const char* id : {"01", "02", "03"})
      EXPECT_TRUE(fs::exists(dir.path() / "train" / sub / (std::string(id) + ".png")));
    for (const char* id : {"04", "05"})
      EXPECT_TRUE(fs::exists(dir.path() / "test" / sub / (std::string(id) + ".png")));
    EXPECT_FALSE(fs::exists(dir.path() / "train" / sub / "04.png"));
  }
  // Test image 05 is dataset index 4.
  const PhantomSample s = make_phantom(o, phantom_seed(99, 4));
  const Image image = read_image(dir.path() / "test" / "images" / "05.png");
  const Image label = read_image(dir.path() / "test" / "labels" / "05.png");
  const Image mask = read_image(dir.path() / "test" / "masks" / "05.png");
  ASSERT_EQ(image.pixels.sizes(), torch::IntArrayRef({3, 48, 48}));
  ASSERT_EQ(label.pixels.sizes(), torch::IntArrayRef({1, 48, 48}));
  EXPECT_LE((image.pixels - s.image).abs().max().item<double>(), 0.5 / 255 + 1e-6);
  EXPECT_TRUE(torch::equal(label.pixels, s.label));
  EXPECT_TRUE(torch::equal(mask.pixels, s.mask));
}

}  // namespace vg
