// The converter between vesselgan's GAN checkpoints and the plain networks file of stylegan2-ada-pytorch's
// networks (gan/official_networks.h). Its agreement with the official networks themselves is
// official_equivalence_test.cpp's.
#include "vesselgan/gan/official_networks.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/error.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/safetensors.h"

namespace vg {

TEST(OfficialNetworks, OfficialNamesDifferOnlyInTheMeanW) {
  EXPECT_EQ(official_tensor_name("w_avg"), "mapping.w_avg");
  EXPECT_EQ(official_tensor_name("synthesis.b8.conv0.affine.weight"), "synthesis.b8.conv0.affine.weight");
  EXPECT_EQ(official_tensor_name("b4.fc.bias"), "b4.fc.bias");
}

TEST(OfficialNetworks, CheckpointToFileAndBackKeepsEveryTensor) {
  test::ScratchDir dir("official_networks_roundtrip");
  const GanTrainOptions o = test::tiny_gan("toy", 32, 1, 1, 3);
  torch::manual_seed(3);
  GanModels models(o);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : models->G_ema->parameters()) p.add_(torch::randn_like(p));  // G_ema != G
    models->G->w_avg.normal_();
  }
  CheckpointHeader h;
  h.kind = kGanCheckpointKind;
  h.config = {{"gan", o}};
  h.state = {{"nimg", 0}, {"kimg", 0.0}, {"step", 0}};
  save_checkpoint(dir.path() / "run.pt", h, *models);

  convert_checkpoint_to_official(dir.path() / "run.pt", dir.path() / "nets.safetensors");
  const TensorFile f = read_safetensors(dir.path() / "nets.safetensors");
  EXPECT_EQ(f.metadata.at("format"), kOfficialNetworksFormat);
  EXPECT_TRUE(torch::equal(f.tensors.at("G.mapping.w_avg"), models->G->w_avg));
  EXPECT_EQ(f.tensors.count("D.b32.conv1.resample_filter"), 0u);

  const GanTrainOptions back = convert_official_to_checkpoint(dir.path() / "nets.safetensors", dir.path() / "back.pt");
  EXPECT_EQ(back.mode, "full");
  EXPECT_EQ(back.generator.channel_base, o.generator.channel_base);
  EXPECT_EQ(back.discriminator.mbstd_group, o.discriminator.mbstd_group);
  GanModels loaded(back);
  load_checkpoint(dir.path() / "back.pt", kGanCheckpointKind, *loaded, torch::Device(torch::kCPU));
  const auto theirs = loaded->named_parameters(true);
  for (const auto& p : models->named_parameters(true))
    EXPECT_TRUE(torch::equal(theirs[p.key()], p.value())) << p.key();
  EXPECT_TRUE(torch::equal(loaded->G->w_avg, models->G->w_avg));
  EXPECT_DOUBLE_EQ(read_checkpoint_header(dir.path() / "back.pt").state.at("kimg").get<double>(), 0.0);

  // An official training snapshot's kimg (metadata "kimg", from official_state.py) becomes the checkpoint's.
  TensorFile snapshot = f;
  snapshot.metadata["kimg"] = "120";
  write_safetensors(dir.path() / "snapshot.safetensors", snapshot);
  convert_official_to_checkpoint(dir.path() / "snapshot.safetensors", dir.path() / "snapshot.pt");
  const auto state = read_checkpoint_header(dir.path() / "snapshot.pt").state;
  EXPECT_DOUBLE_EQ(state.at("kimg").get<double>(), 120.0);
  EXPECT_EQ(state.at("nimg").get<int64_t>(), 120000);
  snapshot.metadata["kimg"] = "many";
  write_safetensors(dir.path() / "bad-kimg.safetensors", snapshot);
  EXPECT_THROW(convert_official_to_checkpoint(dir.path() / "bad-kimg.safetensors", dir.path() / "bad.pt"), UserError);

  // A file of other networks is refused with the tensor named.
  TensorFile other = f;
  other.tensors["D.b4.fc.weight"] = torch::zeros({3, 3});
  write_safetensors(dir.path() / "other.safetensors", other);
  try {
    convert_official_to_checkpoint(dir.path() / "other.safetensors", dir.path() / "other.pt");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("D.b4.fc.weight"), std::string::npos) << e.what();
  }
  // A file that is not a networks file.
  TensorFile plain;
  plain.tensors["x"] = torch::zeros({1});
  write_safetensors(dir.path() / "plain.safetensors", plain);
  EXPECT_THROW(convert_official_to_checkpoint(dir.path() / "plain.safetensors", dir.path() / "plain.pt"), UserError);
}

}  // namespace vg
