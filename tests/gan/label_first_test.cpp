// The label-first route: a StyleGAN2 that learns vessel maps alone (label-patch mode), a painter that learns to
// paint a photograph around a map, and the generator file that holds both and samples images with their labels.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/gan/augment_pipe.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/painter_trainer.h"
#include "vesselgan/gan/procedural_maps.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

std::vector<Sample> phantoms(int n, int64_t size) { return test::phantom_samples(n, size, 500); }

using test::tiny_painter;

// Mean brightness of the background minus that of the vessels: how dark the vessels are painted.
double vessel_contrast(const torch::Tensor& rgb, const torch::Tensor& label) {
  const auto y = rgb.mean(1, true);
  const auto v = label.gt(0);
  return y.masked_select(v.logical_not()).mean().item<double>() - y.masked_select(v).mean().item<double>();
}

TEST(GanImageSource, LabelPatchModeServesTheJointModesVesselChannelAlone) {
  auto samples = phantoms(2, 96);
  GanTrainOptions joint = test::tiny_gan("joint64", 32, 0.016, 0.008, 3);
  GanTrainOptions label = test::tiny_gan("label64", 32, 0.016, 0.008, 3);
  EXPECT_EQ(image_channels(label), 1);
  EXPECT_EQ(label.generator.img_channels, 1);
  seed_everything(7);
  auto j = GanImageSource(samples, joint, torch::kCPU).batch(16);
  seed_everything(7);
  auto l = GanImageSource(samples, label, torch::kCPU).batch(16);
  ASSERT_EQ(l.sizes(), torch::IntArrayRef({16, 1, 32, 32}));
  EXPECT_TRUE(torch::equal(l, j.narrow(1, 3, 1)));
}

TEST(AugmentPipe, VesselMapsAloneGetTheGeometryButNoColour) {
  AugmentPipeOptions o;  // every op on, colour included
  AugmentPipe pipe(o);
  seed_everything(3);
  const auto maps = torch::rand({8, 1, 32, 32}).gt(0.8).to(torch::kFloat).mul(2).sub(1);
  const auto out = pipe(maps, 1.0);
  ASSERT_EQ(out.sizes(), maps.sizes());
  EXPECT_GT((out - maps).abs().max().item<double>(), 0.5);  // moved
  // Bilinear resampling stays within the input's range; a brightness or contrast op would leave it.
  EXPECT_GE(out.min().item<double>(), -1 - 1e-4);
  EXPECT_LE(out.max().item<double>(), 1 + 1e-4);
}

TEST(Painter, ChecksItsInputs) {
  Painter p(tiny_painter(1));
  const auto label = torch::zeros({2, 1, 32, 32});
  EXPECT_EQ(p->forward(label, torch::zeros({2, 3}), torch::zeros({2, 1, 32, 32})).sizes(),
            torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_THROW(p->forward(torch::zeros({2, 1, 30, 30}), torch::zeros({2, 3}), torch::zeros({2, 1, 30, 30})),
               c10::Error);
  EXPECT_THROW(p->forward(label, torch::zeros({2, 4}), torch::zeros({2, 1, 32, 32})), c10::Error);
  PainterOptions bad = tiny_painter(1);
  bad.resolution = 34;
  EXPECT_NE(test::user_error([&] { validate(bad); }).find("painter.resolution"), std::string::npos);
}

TEST(PainterTrainer, LearnsToPaintTheVesselsOfItsMapDark) {
  test::ScratchDir dir("painter_learns");
  auto samples = phantoms(3, 128);
  PainterOptions o = tiny_painter(60);
  o.lr = 1e-3;
  GanTrainOptions crops;
  crops.mode = "joint-patch";
  crops.resolution = 32;
  crops.patch_min_fov = 1;
  crops.label_blur = 0;
  seed_everything(9);
  const auto real = GanImageSource(samples, crops, torch::kCPU).batch(64);
  const auto rgb = real.narrow(1, 0, 3), label = real.narrow(1, 3, 1);
  const double real_contrast = vessel_contrast(rgb, label);
  ASSERT_GT(real_contrast, 0.05);

  auto paint = [&](Painter& p) {
    torch::NoGradGuard no_grad;
    return p->forward(label, rgb.mean({2, 3}), torch::zeros_like(label));
  };
  seed_everything(o.seed);
  Painter untrained(o);
  const double before = vessel_contrast(paint(untrained), label);
  train_painter(samples, o, dir.path(), torch::kCPU);
  Painter trained = load_painter(dir.path(), torch::kCPU);
  const double after = vessel_contrast(paint(trained), label);
  EXPECT_LT(std::abs(before), 0.25 * real_contrast);
  EXPECT_GT(after, 0.5 * real_contrast) << "before " << before << ", real " << real_contrast;
}

TEST(PainterTrainer, ResumesBitForBit) {
  test::ScratchDir a("painter_resume_a"), b("painter_resume_b");
  auto samples = phantoms(2, 96);
  const PainterOptions o = tiny_painter(6);
  train_painter(samples, o, a.path(), torch::kCPU);
  PainterRunControl stop;
  stop.stop_after_steps = 3;
  EXPECT_FALSE(train_painter(samples, o, b.path(), torch::kCPU, stop).finished);
  EXPECT_NE(test::user_error([&] { train_painter(samples, o, b.path(), torch::kCPU); }).find("--resume"),
            std::string::npos);
  PainterRunControl resume;
  resume.resume = true;
  EXPECT_TRUE(train_painter(samples, o, b.path(), torch::kCPU, resume).finished);
  auto pa = load_painter(a.path(), torch::kCPU)->named_parameters();
  auto pb = load_painter(b.path(), torch::kCPU)->named_parameters();
  for (const auto& kv : pa) EXPECT_TRUE(torch::equal(kv.value(), pb[kv.key()])) << kv.key();
}

TEST(LabelFirstGenerator, ExportedFileDrawsMapsAndPaintsThem) {
  test::ScratchDir dir("label_first_export");
  auto samples = phantoms(2, 96);
  const GanTrainOptions lo = test::tiny_gan("label64", 32, 0.016, 0.008, 3);
  const GanTrainOptions jo = test::tiny_gan("joint64", 32, 0.008, 0.008, 3);
  train_gan(samples, lo, dir.path() / "labels", torch::kCPU);
  train_gan(samples, jo, dir.path() / "joint", torch::kCPU);
  train_painter(samples, tiny_painter(2), dir.path() / "painter", torch::kCPU);

  // A label-patch run alone cannot make photographs; a painter does not go with a joint run.
  EXPECT_NE(test::user_error([&] { export_generator(dir.path() / "labels", dir.path() / "x.pt"); }).find("--painter"),
            std::string::npos);
  EXPECT_NE(test::user_error([&] {
              export_generator(dir.path() / "joint", dir.path() / "x.pt", dir.path() / "painter");
            }).find("label-patch"),
            std::string::npos);
  EXPECT_NE(test::user_error([&] {
              generate_images(load_generator(dir.path() / "labels", torch::kCPU), dir.path() / "g0", {}, torch::kCPU);
            }).find("painter"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "x.pt"));

  const fs::path file = dir.path() / "label-first.pt";
  export_generator(dir.path() / "labels", file, dir.path() / "painter");
  const LoadedGenerator g = load_generator(file, torch::kCPU);
  ASSERT_TRUE(g.painter);
  const auto x = sample_with_labels(g, 0, 3, 1.0, 5, torch::kCPU);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({3, 4, 32, 32}));
  // The vessel channel is the label generator's own map; image i depends only on (seed, i).
  Generator G = g.G;
  EXPECT_TRUE(torch::equal(x.narrow(1, 3, 1), sample_images(G, 0, 3, 1.0, 5, torch::kCPU)));
  EXPECT_TRUE(torch::allclose(x[2], sample_with_labels(g, 2, 1, 1.0, 5, torch::kCPU)[0], 1e-5, 1e-5));

  GenerateOptions go;
  go.count = 3;
  go.seed = 5;
  const auto r = generate_images(g, dir.path() / "g", go, torch::kCPU);
  EXPECT_EQ(r.written, 3);
  for (const char* sub : {"images", "labels", "masks", "probs"})
    EXPECT_TRUE(fs::exists(dir.path() / "g" / sub / "000002.png")) << sub;
}

TEST(ProceduralMaps, AreSeededBinaryCropsHoldingVessels) {
  ProceduralMapOptions o;
  o.photo_size = 256;
  const auto a = procedural_vessel_maps(3, 0, 4, 64, o);
  ASSERT_EQ(a.sizes(), torch::IntArrayRef({4, 1, 64, 64}));
  EXPECT_TRUE(a.eq(-1).logical_or(a.eq(1)).all().item<bool>());
  EXPECT_TRUE(torch::equal(a[2], procedural_vessel_maps(3, 2, 1, 64, o)[0]));  // map i depends on (seed, i) only
  EXPECT_FALSE(torch::equal(a[0], a[1]));
  EXPECT_FALSE(torch::equal(a, procedural_vessel_maps(4, 0, 4, 64, o)));
  const double fraction = a.gt(0).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(fraction, 0.03);
  EXPECT_LT(fraction, 0.5);
}

TEST(LabelFirstGenerator, ProceduralFilePaintsGrownTrees) {
  test::ScratchDir dir("label_first_procedural");
  train_painter(phantoms(2, 96), tiny_painter(2), dir.path() / "painter", torch::kCPU);
  ProceduralMapOptions maps;
  maps.photo_size = 256;
  EXPECT_NE(test::user_error([&] {
              export_procedural_generator(dir.path() / "painter", 48, maps, dir.path() / "x.pt");
            }).find("generator size"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "x.pt"));
  const fs::path file = dir.path() / "procedural.pt";
  export_procedural_generator(dir.path() / "painter", 64, maps, file);
  const LoadedGenerator g = load_generator(file, torch::kCPU);
  ASSERT_TRUE(g.painter);
  EXPECT_FALSE(g.G);
  EXPECT_EQ(g.maps, "procedural");
  const auto x = sample_with_labels(g, 0, 2, 1.0, 8, torch::kCPU);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({2, 4, 64, 64}));
  EXPECT_TRUE(torch::equal(x.narrow(1, 3, 1), procedural_vessel_maps(8, 0, 2, 64, maps)));
  GenerateOptions go;
  go.count = 2;
  go.grid = 2;
  EXPECT_EQ(generate_images(g, dir.path() / "g", go, torch::kCPU).written, 2);
  EXPECT_TRUE(fs::exists(dir.path() / "g" / "labels" / "000001.png"));
  // One row of 8 tiles (2 images, 6 blank) above the row of their labels.
  EXPECT_EQ(read_image(dir.path() / "g" / "grid.png").pixels.sizes(), torch::IntArrayRef({3, 128, 512}));
}

// A label-first generator file lends its painter to another export (e.g. learned 32 px maps painted by the
// shipped painter); a generator file without a painter cannot.
TEST(LabelFirstGenerator, AGeneratorFileLendsItsPainterToAnotherExport) {
  test::ScratchDir dir("label_first_lend");
  train_painter(phantoms(2, 96), tiny_painter(2), dir.path() / "painter", torch::kCPU);
  ProceduralMapOptions maps;
  maps.photo_size = 256;
  export_procedural_generator(dir.path() / "painter", 64, maps, dir.path() / "first.pt");
  export_procedural_generator(dir.path() / "first.pt", 32, maps, dir.path() / "second.pt");
  const LoadedGenerator first = load_generator(dir.path() / "first.pt", torch::kCPU),
                        second = load_generator(dir.path() / "second.pt", torch::kCPU);
  ASSERT_TRUE(second.painter);
  EXPECT_EQ(second.options.resolution, 32);
  for (const auto& p : first.painter->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), second.painter->named_parameters()[p.key()])) << p.key();
  // An image-only GAN's file has no painter to lend.
  const GanTrainOptions image_only = test::tiny_gan("toy", 32, 0.008, 0.008, 1);
  train_gan(phantoms(2, 64), image_only, dir.path() / "gan", torch::kCPU);
  export_generator(dir.path() / "gan", dir.path() / "image-only.pt");
  EXPECT_NE(test::user_error([&] {
              export_procedural_generator(dir.path() / "image-only.pt", 32, maps, dir.path() / "x.pt");
            }).find("without a painter"),
            std::string::npos);
}

}  // namespace
}  // namespace vg
