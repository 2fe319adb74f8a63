#include "vesselgan/seg/ensemble.h"

#include "test_support.h"
#include "vesselgan/eval/confusion.h"

namespace vg {

namespace {

using test::contains;

EnsembleOptions method(const std::string& m, std::vector<double> w = {}) {
  EnsembleOptions o;
  o.method = m;
  o.weights = std::move(w);
  return o;
}

// [1, 1, 5] from five values.
torch::Tensor row(std::vector<float> v) { return torch::tensor(v).reshape({1, 1, 5}); }

}  // namespace

TEST(Ensemble, MeanOfTwoConstantMapsIsTheirAverage) {
  const auto out = combine({torch::full({1, 4, 6}, 0.2f), torch::full({1, 4, 6}, 0.6f)}, method("mean"));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({1, 4, 6}));
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(out, torch::full({1, 4, 6}, 0.4f), 0, 1e-7));
  // [H, W] maps stay [H, W].
  EXPECT_EQ(combine({torch::zeros({3, 2}), torch::ones({3, 2})}, method("mean")).sizes(),
            torch::IntArrayRef({3, 2}));
}

TEST(Ensemble, WeightedWithWeightsOneZeroReturnsTheFirstModelExactly) {
  torch::manual_seed(0);
  const auto a = torch::rand({1, 8, 9}), b = torch::rand({1, 8, 9});
  EXPECT_TRUE(torch::equal(combine({a, b}, method("weighted", {1, 0})), a));
  EXPECT_TRUE(torch::equal(combine({a, b}, method("weighted", {0, 2.5})), b));
}

TEST(Ensemble, WeightedNormalizesTheWeights) {
  // (3 * 0 + 1 * 1) / 4 and (3 * 0.5 + 1 * 0.9) / 4.
  const auto out = combine({row({0, 0.5f, 0, 0, 0}), row({1, 0.9f, 0, 0, 0})}, method("weighted", {3, 1}));
  EXPECT_NEAR(out[0][0][0].item<float>(), 0.25f, 1e-7);
  EXPECT_NEAR(out[0][0][1].item<float>(), 0.6f, 1e-7);
}

TEST(Ensemble, MaxIsThePixelwiseMaximum) {
  const auto out =
      combine({row({0.1f, 0.9f, 0.5f, 0, 1}), row({0.3f, 0.2f, 0.5f, 0, 0}), row({0.2f, 0, 0.4f, 0, 0.7f})},
              method("max"));
  EXPECT_TRUE(torch::equal(out, row({0.3f, 0.9f, 0.5f, 0, 1})));
}

TEST(Ensemble, VoteOfThreeModelsIsTheFractionAtOrAboveTheThreshold) {
  // Per pixel, models >= 0.5: {1,1,0} {0,1,1} {1,0,1 (0.5 counts)} {0,0,0} {1,1,1}.
  const auto out = combine({row({0.9f, 0.2f, 0.6f, 0.1f, 0.5f}), row({0.8f, 0.7f, 0.3f, 0.2f, 0.5f}),
                            row({0.4f, 0.6f, 0.5f, 0.3f, 0.5f})},
                           method("vote"));
  const float t = 2.0f / 3.0f;
  EXPECT_TRUE(torch::allclose(out, row({t, t, t, 0, 1}), 0, 1e-7)) << out;
  // At the evaluation threshold 0.5 a two-thirds majority is vessel, one third is not.
  EXPECT_TRUE(torch::equal(binarize(out), torch::tensor({true, true, true, false, true}).reshape({1, 5})));
}

TEST(Ensemble, VoteTieOfTwoModelsCountsAsVessel) {
  EnsembleOptions o = method("vote");
  o.threshold = 0.3;
  const auto out = combine({row({0.7f, 0.2f, 0.31f, 0, 0}), row({0.2f, 0.29f, 0.1f, 0, 0.3f})}, o);
  EXPECT_TRUE(torch::equal(out, row({0.5f, 0, 0.5f, 0, 0.5f})));
  EXPECT_EQ(binarize(out).sum().item<int64_t>(), 3);  // every tie is vessel at 0.5
}

TEST(Ensemble, MalformedMapsAreRejectedWithTheirShapes) {
  EXPECT_THROW(combine({torch::zeros({1, 4, 4}), torch::zeros({1, 4, 5})}, method("mean")), c10::Error);
  EXPECT_THROW(combine({torch::zeros({2, 4, 4}), torch::zeros({2, 4, 4})}, method("mean")), c10::Error);
  EXPECT_THROW(combine({torch::full({4, 4}, 1.5f), torch::zeros({4, 4})}, method("max")), c10::Error);
  EXPECT_THROW(combine({torch::zeros({4, 4}, torch::kLong), torch::zeros({4, 4})}, method("max")),
               c10::Error);
  EXPECT_THROW(combine({}, method("mean")), c10::Error);
  try {
    combine({torch::zeros({1, 4, 4}), torch::zeros({1, 4, 5})}, method("mean"));
  } catch (const c10::Error& e) {
    EXPECT_TRUE(contains(e.what_without_backtrace(), "[1, 4, 5]")) << e.what_without_backtrace();
  }
}

TEST(Ensemble, BadOptionsAreOneLineUserErrorsNamingTheField) {
  auto expect_error = [](const EnsembleOptions& o, const std::string& field, const std::string& valid) {
    const std::string msg = test::user_error([&] { validate(o); });
    EXPECT_TRUE(contains(msg, field)) << msg;
    EXPECT_TRUE(contains(msg, valid)) << msg;
    EXPECT_FALSE(contains(msg, "\n")) << msg;
  };
  expect_error(method("median"), "ensemble.method", "mean, weighted, max, vote");
  expect_error(method("weighted"), "ensemble.weights", "one weight per model");
  expect_error(method("weighted", {0.5, -0.1}), "ensemble.weights", ">= 0");
  expect_error(method("weighted", {0, 0}), "ensemble.weights", "positive sum");
  expect_error(method("mean", {0.5, 0.5}), "ensemble.weights", "weighted");
  EnsembleOptions t = method("vote");
  t.threshold = 1;
  expect_error(t, "ensemble.threshold", "0 < threshold < 1");
  // The number of weights must match the number of models.
  const std::string msg = test::user_error([] {
    combine({torch::zeros({2, 2}), torch::zeros({2, 2})}, method("weighted", {1, 2, 3}));
  });
  EXPECT_TRUE(contains(msg, "3 values for 2 models")) << msg;
}

TEST(Ensemble, OptionsRoundTripThroughJsonAndUnknownKeysAreRejected) {
  const EnsembleOptions o = method("weighted", {0.7, 0.3});
  const auto back = nlohmann::json(o).get<EnsembleOptions>();
  EXPECT_EQ(back.method, "weighted");
  EXPECT_EQ(back.weights, (std::vector<double>{0.7, 0.3}));
  const std::string msg = test::user_error([] { nlohmann::json{{"metod", "max"}}.get<EnsembleOptions>(); });
  EXPECT_TRUE(contains(msg, "metod")) << msg;
}

TEST(SimplexGrid, ListsEveryWeightVectorOnTheGridInOrder) {
  const auto g = simplex_grid(3, 2);
  const std::vector<std::vector<double>> expected = {{1, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5},
                                                     {0, 1, 0}, {0, 0.5, 0.5}, {0, 0, 1}};
  EXPECT_EQ(g, expected);
  EXPECT_EQ(simplex_grid(2, 10).size(), 11u);
  EXPECT_EQ(simplex_grid(4, 10).size(), 286u);  // C(13, 3)
}

namespace {

// Two models on two 16x16 images: "good" says 0.9 on vessels and 0.1 elsewhere inside the FOV (but 0.95
// on the non-vessel pixels outside it, the first 4 rows), "noise" is uniform. Combined w * good +
// (1 - w) * noise with w = 0.6 separates exactly (vessels >= 0.54 > 0.46 >= background), w = 0.5 does not
// (background 0.05 + 0.5 n reaches 0.5), so the best grid point nearest to equal weights is (0.6, 0.4).
std::vector<std::vector<EvalItem>> good_and_noise(bool good_first) {
  torch::manual_seed(3);
  std::vector<EvalItem> good, noise;
  for (int i = 0; i < 2; ++i) {
    const auto label = torch::rand({1, 16, 16}).lt(0.3).to(torch::kFloat);
    auto mask = torch::ones({1, 16, 16});
    mask.slice(1, 0, 4).zero_();
    label.slice(1, 0, 4).zero_();
    auto g = 0.1f + 0.8f * label;
    g.slice(1, 0, 4).fill_(0.95f);
    const std::string id = "0" + std::to_string(i);
    good.push_back({id, g, label, mask});
    noise.push_back({id, torch::rand({1, 16, 16}), label, mask});
  }
  if (good_first) return {good, noise};
  return {noise, good};
}

}  // namespace

TEST(ChooseWeights, FavoursTheModelThatMatchesTheLabelOverNoise) {
  for (const char* metric : {"f1", "auc"}) {
    WeightSearchOptions o;
    o.metric = metric;
    double score = 0;
    const auto w = choose_weights(good_and_noise(true), o, &score);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NEAR(w[0], 0.6, 1e-12) << metric;
    EXPECT_NEAR(w[1], 0.4, 1e-12) << metric;
    EXPECT_DOUBLE_EQ(score, 1.0) << metric;  // only FOV pixels count: outside, "good" is wrong
    const auto swapped = choose_weights(good_and_noise(false), o);
    EXPECT_NEAR(swapped[0], 0.4, 1e-12) << metric;
    EXPECT_NEAR(swapped[1], 0.6, 1e-12) << metric;
  }
}

TEST(ChooseWeights, TiesPreferEqualWeights) {
  auto items = good_and_noise(true);
  items[1] = items[0];  // two identical models: every grid point scores the same
  const auto w = choose_weights(items);
  EXPECT_NEAR(w[0], 0.5, 1e-12);
  EXPECT_NEAR(w[1], 0.5, 1e-12);
  // Three identical models on a grid without (1/3, 1/3, 1/3): the nearest points are the (0.4, 0.3, 0.3)
  // permutations; the first in enumeration order wins.
  items.push_back(items[0]);
  const auto w3 = choose_weights(items);
  EXPECT_NEAR(w3[0], 0.4, 1e-12);
  EXPECT_NEAR(w3[1], 0.3, 1e-12);
  EXPECT_NEAR(w3[2], 0.3, 1e-12);
}

TEST(ChooseWeights, TheChosenWeightsReproduceTheScoredCombination) {
  const auto items = good_and_noise(true);
  const auto w = choose_weights(items);
  std::vector<EvalItem> combined;
  for (size_t i = 0; i < items[0].size(); ++i)
    combined.push_back({items[0][i].id, combine({items[0][i].prob, items[1][i].prob}, method("weighted", w)),
                        items[0][i].label, items[0][i].mask});
  EXPECT_DOUBLE_EQ(evaluate(combined).fov_pooled.f1, 1.0);
}

TEST(ChooseWeights, RejectsBadSearchOptionsAndMismatchedItems) {
  WeightSearchOptions o;
  o.step = 0.3;
  EXPECT_TRUE(
      contains(test::user_error([&] { choose_weights(good_and_noise(true), o); }), "weight_search.step"));
  o = {};
  o.metric = "dice";
  EXPECT_TRUE(contains(test::user_error([&] { choose_weights(good_and_noise(true), o); }), "f1, auc"));
  EXPECT_TRUE(contains(test::user_error([] { choose_weights({}); }), "no models"));
  auto items = good_and_noise(true);
  items[1][0].id = "other";
  EXPECT_THROW(choose_weights(items), c10::Error);
}

}  // namespace vg
