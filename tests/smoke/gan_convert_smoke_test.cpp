// `gan convert` as a user meets it: a networks file of stylegan2-ada-pytorch's layout (as
// scripts/official/official_state.py writes it) becomes a checkpoint `gan generate` samples from, and back.
#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/official_networks.h"
#include "vesselgan/io/safetensors.h"

namespace vg {
namespace {

TEST(GanConvertSmoke, NetworksFileToCheckpointGeneratesAndConvertsBack) {
  test::ScratchDir dir("gan_convert");
  GanTrainOptions o = gan_preset("toy");
  o.generator.z_dim = o.generator.w_dim = 16;
  o.generator.channel_base = o.discriminator.channel_base = 256;
  o.generator.channel_max = o.discriminator.channel_max = 16;
  finalize(o);
  torch::manual_seed(5);
  GanModels models(o);
  const TensorFile f = official_networks_file(*models, "gan_convert_smoke_test");
  const fs::path nets = dir.path() / "nets.safetensors", pt = dir.path() / "nets.pt",
                 back = dir.path() / "back.safetensors", gen = dir.path() / "gen";
  write_safetensors(nets, f);

  auto r = test::run_vesselgan("gan convert --from " + nets.string() + " --to " + pt.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = test::run_vesselgan("gan generate --model " + pt.string() + " --n 2 --out " + gen.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(gen / "images" / "000001.png"));
  r = test::run_vesselgan("gan convert --from " + pt.string() + " --to " + back.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const TensorFile b = read_safetensors(back);
  ASSERT_EQ(b.tensors.size(), f.tensors.size());
  for (const auto& [k, t] : f.tensors) EXPECT_TRUE(torch::equal(b.tensors.at(k), t)) << k;

  // Two checkpoints, or an existing --to: one-line errors.
  r = test::run_vesselgan("gan convert --from " + pt.string() + " --to " + (dir.path() / "x.pt").string(), dir);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("networks file (.safetensors)"), std::string::npos) << r.err;
  r = test::run_vesselgan("gan convert --from " + nets.string() + " --to " + pt.string(), dir);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vg
