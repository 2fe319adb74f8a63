// CUDA paths of SA-UNet: training with bf16 and channels-last, resume after a kill, and inference that agrees with
// the CPU. Skipped where no CUDA device is present (the development machine and CI); run on the GPU machine by
// scripts/gpu_run.sh.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/trainer.h"

namespace vg {
namespace {

// A narrow SA-UNet whose output depends on its input (weights scaled past the initialization's), seeded.
SAUNet seeded_net(uint64_t seed) {
  torch::manual_seed(seed);
  SAUNetOptions o;
  o.base_channels = 8;
  SAUNet m(o);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.mul_(p.dim() == 4 ? 4.0 : 1.0);
  return m;
}

struct KillAfterEpoch {};

}  // namespace

TEST(CudaTraining, Bf16AndChannelsLastTrainAndResumeAfterAKill) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  test::ScratchDir dir("cuda_train_resume");
  const auto train = test::phantom_samples(4, 64, 10), val = test::phantom_samples(1, 64, 50);
  TrainOptions opt;
  opt.schedule = {{2, 2e-3}, {1, 1e-3}};
  opt.batch_size = 2;
  opt.model.base_channels = 8;
  opt.bf16 = true;
  opt.channels_last = true;
  opt.seed = 3;
  const torch::Device cuda(torch::kCUDA);
  auto killer = [](const Progress& p) {
    if (p.stage == "epoch" && p.done == 2) throw KillAfterEpoch{};
  };
  EXPECT_THROW(train_sa_unet(train, val, opt, dir.path() / "run", cuda, false, killer), KillAfterEpoch);
  const auto r = train_sa_unet(train, val, opt, dir.path() / "run", cuda, true);
  EXPECT_EQ(r.epochs_done, 3);
  const auto rows = read_jsonl(dir.path() / "run/stats.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) EXPECT_TRUE(std::isfinite(row.at("train_loss").get<double>())) << row.dump();
  // A checkpoint written on the GPU segments on the CPU.
  const Segmenter s = Segmenter::load(dir.path() / "run/checkpoints/best.pt", torch::kCPU);
  const auto p = s.probability(val.front().image);
  EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
}

TEST(CudaInference, SegmenterAgreesWithTheCpuInFloat32AndCloselyInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const Segmenter cpu(seeded_net(7), InputOptions{}, torch::kCPU);
  const Segmenter gpu(seeded_net(7), InputOptions{}, torch::Device(torch::kCUDA));
  const auto image = test::phantom_samples(1, 96, 70).front().image;
  PredictOptions fp32;
  fp32.bf16 = false;
  const auto want = cpu.probability(image, fp32);
  EXPECT_GT((want - want.mean()).abs().mean().item<double>(), 1e-3) << "a constant map would prove nothing";
  // TF32 convolutions (cuDNN's default on recent GPUs) keep about 3 decimal digits.
  EXPECT_LT((gpu.probability(image, fp32) - want).abs().max().item<double>(), 2e-2);
  PredictOptions bf16;
  bf16.bf16 = true;
  EXPECT_LT((gpu.probability(image, bf16) - want).abs().mean().item<double>(), 2e-2);
}

}  // namespace vg
