// The StyleGAN2 networks give the same outputs on CUDA as on the CPU. Skipped where no CUDA device is present.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/gan/discriminator.h"
#include "vesselgan/gan/generator.h"

namespace vg {

TEST(CudaNetworks, GeneratorAndDiscriminatorAgreeWithTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  GeneratorOptions go;
  go.z_dim = go.w_dim = 16;
  go.mapping_layers = 2;
  go.resolution = 32;
  go.channel_base = 256;
  go.channel_max = 16;
  DiscriminatorOptions dopt;
  dopt.resolution = 32;
  dopt.channel_base = 256;
  dopt.channel_max = 16;
  torch::manual_seed(11);
  Generator G(go);
  Discriminator D(dopt);
  G->eval();
  D->eval();
  torch::NoGradGuard no_grad;
  const auto z = torch::randn({4, 16});
  const auto ws = G->mapping(z);
  const auto img = G->synthesis(ws, NoiseMode::kConst);
  const auto logits = D->forward(img);
  const torch::Device cuda(torch::kCUDA);
  G->to(cuda);
  D->to(cuda);
  const auto img_cuda = G->synthesis(ws.to(cuda), NoiseMode::kConst).cpu();
  // TF32 matrix products (the default on recent GPUs) keep about 3 decimal digits.
  const double scale = img.abs().max().item<double>();
  EXPECT_LT((img_cuda - img).abs().max().item<double>(), 1e-2 * scale + 1e-4);
  EXPECT_LT((D->forward(img.to(cuda)).cpu() - logits).abs().max().item<double>(),
            1e-2 * logits.abs().max().item<double>() + 1e-3);
}

}  // namespace vg
