#include "vesselgan/seg/weight_average.h"

#include "test_support.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/seg/batch_norm_statistics.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

namespace {

SAUNet tiny_net(uint64_t seed) {
  torch::manual_seed(seed);
  SAUNetOptions o;
  o.base_channels = 4;
  SAUNet net(o);
  net->eval();
  return net;
}

}  // namespace

TEST(WeightAverage, FoldingKeepsTheMeanOfEveryNetworkFoldedIn) {
  auto average = tiny_net(1);
  const auto a = tiny_net(2), b = tiny_net(3), c = tiny_net(4);
  fold_into_average(*average, *a, 0);  // count 0 copies: the initial weights do not count
  fold_into_average(*average, *b, 1);
  fold_into_average(*average, *c, 2);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters(), pm = average->parameters();
  ASSERT_EQ(pm.size(), pa.size());
  for (size_t i = 0; i < pm.size(); ++i)
    EXPECT_TRUE(torch::allclose(pm[i], (pa[i] + pb[i] + pc[i]) / 3, 1e-5, 1e-6)) << "parameter " << i;
}

TEST(WeightAverage, FoldingRefusesAnotherNetwork) {
  auto average = tiny_net(1);
  torch::manual_seed(2);
  SAUNetOptions wider;
  wider.base_channels = 8;
  SAUNet other(wider);
  EXPECT_THROW(fold_into_average(*average, *other, 1), c10::Error);
}

TEST(WeightAverage, RunningStatisticsAreTheMeanOfEachBatchsOwnAndDropBlockStaysOff) {
  auto net = tiny_net(5);
  torch::manual_seed(6);
  const std::vector<torch::Tensor> batches = {torch::rand({1, 3, 32, 32}), torch::rand({1, 3, 32, 32}) * 0.5 + 0.4};
  std::vector<BatchNormStatistics> own;
  for (const auto& x : batches) own.push_back(input_statistics(*net, [&] { net->forward(x); }));
  const auto before = rng_state(torch::kCPU);
  measure_running_statistics(*net, 2, [&](int64_t i) { net->forward(batches[i]); });
  EXPECT_TRUE(torch::equal(before, rng_state(torch::kCPU))) << "a DropBlock in training mode would draw";
  const auto measured = running_statistics(*net);
  ASSERT_EQ(measured.mean.size(), own[0].mean.size());
  for (size_t l = 0; l < measured.mean.size(); ++l) {
    EXPECT_TRUE(torch::allclose(measured.mean[l], (own[0].mean[l] + own[1].mean[l]) / 2, 1e-5, 1e-6)) << "layer " << l;
    EXPECT_TRUE(torch::allclose(measured.var[l], (own[0].var[l] + own[1].var[l]) / 2, 1e-5, 1e-6)) << "layer " << l;
  }
  EXPECT_FALSE(net->is_training());
}

TEST(WeightAverage, CheckpointTensorsRoundTripUnderTheirOwnPrefix) {
  const auto a = tiny_net(7);
  auto b = tiny_net(8);
  const auto tensors = average_tensors(*a);
  ASSERT_EQ(tensors.size(), a->parameters().size());
  for (const auto& [name, t] : tensors) EXPECT_EQ(name.rfind("swa/", 0), 0u) << name;
  EXPECT_EQ(average_tensor_slots(*a).size(), tensors.size());
  read_average_tensors(tensors, *b);
  const auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
  auto missing = tensors;
  missing.erase(missing.begin());
  EXPECT_THROW(read_average_tensors(missing, *b), c10::Error);
}

}  // namespace vg
