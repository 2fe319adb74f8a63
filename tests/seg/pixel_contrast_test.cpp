#include "vesselgan/seg/pixel_contrast.h"

#include <gtest/gtest.h>

#include "vesselgan/core/error.h"

namespace vg {

namespace {

// A 1 x 1 x 8 x 8 scene: a vertical vessel two pixels wide in columns 3-4, its probability rising down the rows
// (row / 8, so the lower rows are the ones the network is sure of); everything else background at probability
// 0.01 * column. The FOV is the whole frame but its last row.
struct Scene {
  torch::Tensor label = torch::zeros({1, 1, 8, 8});
  torch::Tensor probability = torch::zeros({1, 1, 8, 8});
  torch::Tensor mask = torch::ones({1, 1, 8, 8});
  Scene() {
    label.index_put_({0, 0, torch::indexing::Slice(), torch::indexing::Slice(3, 5)}, 1);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        probability.index_put_({0, 0, r, c}, label[0][0][r][c].item<float>() > 0 ? r / 8.0 : 0.01 * c);
    mask.index_put_({0, 0, 7}, 0);
  }
};

// Features that say where each pixel is: channel 0 its row, 1 its column, 2 its label, 3 its probability.
torch::Tensor where_features(const Scene& s) {
  const auto rows = torch::arange(8).to(torch::kFloat).view({1, 1, 8, 1}).expand({1, 1, 8, 8});
  const auto cols = torch::arange(8).to(torch::kFloat).view({1, 1, 1, 8}).expand({1, 1, 8, 8});
  return torch::cat({rows, cols, s.label, s.probability}, 1);
}

PixelContrastOptions small(int64_t samples = 64) {
  PixelContrastOptions o;
  o.weight = 0.1;
  o.samples = samples;
  o.ring = 3;
  o.embedding = 8;
  return o;
}

}  // namespace

TEST(PixelContrast, DrawsSureAndUnsureVesselPixelsAndTheRingAroundTheVesselsInsideTheFov) {
  torch::manual_seed(1);
  const Scene s;
  const auto rows = sample_contrast_pixels(where_features(s), s.probability, s.label, s.mask, small());
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{4 * 64, 4}));
  const auto g = rows.chunk(4, 0);
  // Vessel pixels inside the FOV: rows 0-6 of columns 3-4, 14 of them; the sure half is rows 3.5 and below.
  for (int k : {0, 1}) {
    EXPECT_TRUE(torch::all(g[k].select(1, 2) == 1).item<bool>()) << "group " << k;
    EXPECT_TRUE(torch::all(g[k].select(1, 0) <= 6).item<bool>()) << "outside the FOV, group " << k;
  }
  EXPECT_GE(g[0].select(1, 3).min().item<float>(), g[1].select(1, 3).max().item<float>());
  EXPECT_LT(g[1].select(1, 3).max().item<float>(), g[0].select(1, 3).max().item<float>());
  // The ring of a 3 x 3 dilation: columns 2 and 5, background, inside the FOV; sure = the lower probability.
  for (int k : {2, 3}) {
    EXPECT_TRUE(torch::all(g[k].select(1, 2) == 0).item<bool>()) << "group " << k;
    const auto col = g[k].select(1, 1);
    EXPECT_TRUE(torch::all((col == 2) | (col == 5)).item<bool>()) << "group " << k;
    EXPECT_TRUE(torch::all(g[k].select(1, 0) <= 6).item<bool>()) << "group " << k;
  }
  EXPECT_TRUE(torch::all(g[2].select(1, 1) == 2).item<bool>());  // probability 0.02, below column 5's 0.05
  EXPECT_TRUE(torch::all(g[3].select(1, 1) == 5).item<bool>());
}

TEST(PixelContrast, ABatchWithoutVesselsHasNoPixelsToCompare) {
  Scene s;
  s.label.zero_();
  const auto rows = sample_contrast_pixels(where_features(s), s.probability, s.label, s.mask, small());
  EXPECT_FALSE(rows.defined());
}

TEST(PixelContrast, RefusesMapsThatDoNotMatchTheFeatures) {
  const Scene s;
  EXPECT_THROW(sample_contrast_pixels(where_features(s), s.probability.slice(2, 0, 4), s.label, s.mask, small()),
               c10::Error);
  EXPECT_THROW(sample_contrast_pixels(where_features(s)[0], s.probability, s.label, s.mask, small()), c10::Error);
}

TEST(PixelContrast, TheTermIsTheMeanPairwiseCosineOfUnsureAndSurePixelsBothWaysAndItsGradientReachesTheFeatures) {
  torch::manual_seed(2);
  PixelContrastHead head(4, small(16));
  head->eval();  // no dropout, so the term can be recomputed from the same head
  const auto rows = torch::randn({4 * 16, 4}).requires_grad_(true);
  const auto term = pixel_contrast_loss(head, rows);
  // SkelCon's form: the mean over every pair (unsure row, sure row) of their cosine, per class.
  auto unit = [](const torch::Tensor& x) { return x / x.norm(2, 1, true); };
  const auto p = unit(head->projector->forward(rows.detach()));
  const auto q = unit(head->predictor->forward(p));
  auto pairwise = [](const torch::Tensor& a, const torch::Tensor& b) {
    const auto ga = a.chunk(4, 0), gb = b.chunk(4, 0);
    return 2 - torch::mm(ga[1], gb[0].t()).mean() - torch::mm(ga[3], gb[2].t()).mean();
  };
  const double expected = (pairwise(q, p) + pairwise(p, q)).item<double>();
  EXPECT_NEAR(term.item<double>(), expected, 1e-5);
  EXPECT_GE(term.item<double>(), 0.0);
  EXPECT_LE(term.item<double>(), 8.0);
  term.backward();
  ASSERT_TRUE(rows.grad().defined());
  EXPECT_GT(rows.grad().abs().sum().item<double>(), 0.0);
  EXPECT_THROW(pixel_contrast_loss(head, torch::zeros({6, 4})), c10::Error);  // not four groups of >= 2
}

TEST(PixelContrast, TheHeadAndTheFeaturesCanLowerTheTerm) {
  torch::manual_seed(4);
  PixelContrastHead head(4, small(16));
  auto features = torch::randn({4 * 16, 4}).requires_grad_(true);
  std::vector<torch::Tensor> params = head->parameters();
  params.push_back(features);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-2));
  head->eval();
  const double before = pixel_contrast_loss(head, features).item<double>();
  head->train();
  for (int step = 0; step < 100; ++step) {
    adam.zero_grad();
    pixel_contrast_loss(head, features).backward();
    adam.step();
  }
  head->eval();
  const double after = pixel_contrast_loss(head, features).item<double>();
  EXPECT_LT(after, before * 0.5) << "before " << before << ", after " << after;
}

TEST(PixelContrast, TheHeadsTensorsRoundTripThroughACheckpointsExtraTensors) {
  torch::manual_seed(3);
  PixelContrastHead a(4, small()), b(4, small());
  a->train();
  a->projector->forward(torch::randn({16, 4}));  // moves the batch-norm statistics off their start
  auto slots = contrast_head_tensor_slots(*b);
  const auto saved = contrast_head_tensors(*a);
  ASSERT_EQ(slots.size(), saved.size());
  for (auto& [name, t] : slots) t = saved.at(name);
  read_contrast_head_tensors(slots, *b);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& x : ba) EXPECT_TRUE(torch::equal(x.value(), bb[x.key()])) << x.key();
  slots.erase(slots.begin());
  EXPECT_THROW(read_contrast_head_tensors(slots, *b), c10::Error);
}

TEST(PixelContrast, OptionsRoundTripAndBadValuesAreUserErrorsNamingTheField) {
  PixelContrastOptions o = small();
  nlohmann::json j = o;
  PixelContrastOptions back;
  from_json(j, back);
  EXPECT_EQ(back.weight, o.weight);
  EXPECT_EQ(back.samples, o.samples);
  EXPECT_EQ(back.ring, o.ring);
  EXPECT_EQ(back.embedding, o.embedding);
  auto refuses = [](nlohmann::json bad, const std::string& field) {
    PixelContrastOptions p;
    try {
      from_json(bad, p);
      validate(p);
      ADD_FAILURE() << "accepted " << bad.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("train.contrast." + field), std::string::npos) << e.what();
    }
  };
  refuses({{"weight", -0.1}}, "weight");
  refuses({{"samples", 4}}, "samples");
  refuses({{"ring", 4}}, "ring");
  refuses({{"embedding", 2}}, "embedding");
  refuses({{"weight", "high"}}, "weight");
  PixelContrastOptions p;
  EXPECT_THROW(from_json(nlohmann::json{{"temperature", 0.1}}, p), UserError);
}

}  // namespace vg
