#include "vesselgan/seg/ensemble_checkpoint.h"

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/image_codec.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {
namespace {

// A trained-looking member: a tiny SA-UNet with seeded weights and BatchNorm statistics moved away from their
// defaults (so a member whose buffers were not copied would give another map).
EnsembleMember tiny_member(uint64_t seed, int64_t base_channels = 4, double fov_diameter = 100) {
  torch::manual_seed(seed);
  TrainOptions t;
  t.model.base_channels = base_channels;
  t.seed = seed;
  EnsembleMember m;
  m.source = "member-" + std::to_string(seed) + ".pt";
  m.model = SAUNet(t.model);
  m.model->train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) m.model->forward(torch::rand({1, 3, 32, 32}));  // updates running stats
  }
  m.model->eval();
  m.header.kind = kSegCheckpointKind;
  m.header.config = {
      {"train", t}, {"fov_diameter", fov_diameter}, {"train_ids", {"a", "b"}}, {"val_ids", {"c"}}};
  m.header.state = {{"epoch", seed}};
  return m;
}

}  // namespace

TEST(EnsembleCheckpoint, LoadsAsOneSegmenterWhoseProbabilityIsTheWeightedMeanOfItsMembers) {
  test::ScratchDir dir("ensemble_ckpt_mean");
  const EnsembleMember a = tiny_member(1), b = tiny_member(2);
  save_ensemble_checkpoint(dir.path() / "ens.pt", {a, b}, {1.0, 3.0});
  const Segmenter ens = Segmenter::load(dir.path() / "ens.pt", torch::kCPU);
  ASSERT_EQ(ens.member_count(), 2u);
  EXPECT_DOUBLE_EQ(ens.weights()[0], 0.25);
  EXPECT_DOUBLE_EQ(ens.weights()[1], 0.75);
  EXPECT_EQ(ens.training_fov_diameter(), 100.0);

  const Segmenter sa(a.model, InputOptions{}, torch::kCPU), sb(b.model, InputOptions{}, torch::kCPU);
  torch::manual_seed(3);
  const auto img = torch::rand({3, 40, 56});
  PredictOptions opt;
  for (bool tta : {false, true}) {
    opt.tta = tta;
    const auto pa = sa.probability(img, opt), pb = sb.probability(img, opt);
    ASSERT_GT((pa - pb).abs().max().item<float>(), 1e-3) << "members too alike for the test to mean anything";
    const auto expected = 0.25 * pa + 0.75 * pb;
    EXPECT_LT((ens.probability(img, opt) - expected).abs().max().item<float>(), 1e-5) << "tta " << tta;
  }
}

TEST(EnsembleCheckpoint, EqualWeightsByDefaultAndTheHeaderNamesEveryMember) {
  test::ScratchDir dir("ensemble_ckpt_header");
  save_ensemble_checkpoint(dir.path() / "ens.pt", {tiny_member(1), tiny_member(2), tiny_member(5)});
  const CheckpointHeader h = read_checkpoint_header(dir.path() / "ens.pt", kSegEnsembleKind);
  const auto w = ensemble_weights(h, dir.path() / "ens.pt");
  ASSERT_EQ(w.size(), 3u);
  for (double x : w) EXPECT_DOUBLE_EQ(x, 1.0 / 3);
  ASSERT_EQ(h.config.at("ensemble").at("members").size(), 3u);
  EXPECT_EQ(h.config["ensemble"]["members"][2]["source"], "member-5.pt");
  EXPECT_EQ(h.config["ensemble"]["members"][2]["seed"], 5);
  EXPECT_EQ(h.config["ensemble"]["members"][1]["state"]["epoch"], 2);
  EXPECT_EQ(h.config.at("train").at("model").at("base_channels"), 4);  // the shared recipe stays readable
}

TEST(EnsembleCheckpoint, RefusesMembersThatDoNotShareArchitectureOrScaleAndBadWeights) {
  test::ScratchDir dir("ensemble_ckpt_refuse");
  const auto out = dir.path() / "ens.pt";
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1)}), UserError);
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2, /*base_channels=*/8)}),
               UserError);
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2, 4, /*fov=*/120)}), UserError);
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {1.0}), UserError);
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {1.0, -1.0}), UserError);
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {0.0, 0.0}), UserError);
  EnsembleMember gan = tiny_member(2);
  gan.header.kind = "stylegan2";
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), gan}), UserError);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a refused ensemble must leave no file";
  try {
    save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2, 8)});
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("member-2.pt"), std::string::npos) << e.what();
  }
}

TEST(EnsembleCheckpoint, AHeavilyCompressedPhotographIsReadWithTheCompressionGatesWeights) {
  test::ScratchDir dir("ensemble_ckpt_gate");
  const EnsembleMember a = tiny_member(1), b = tiny_member(2);
  CompressionGate gate;
  gate.weights = {0.0, 2.0};
  save_ensemble_checkpoint(dir.path() / "ens.pt", {a, b}, {1.0, 0.0}, gate);
  const Segmenter ens = Segmenter::load(dir.path() / "ens.pt", torch::kCPU);
  ASSERT_TRUE(active(ens.compression_gate()));
  EXPECT_DOUBLE_EQ(ens.compression_gate().above, kCompressedAboveDefault);
  EXPECT_DOUBLE_EQ(ens.compression_gate().weights[1], 1.0);  // normalized

  const Segmenter sa(a.model, InputOptions{}, torch::kCPU), sb(b.model, InputOptions{}, torch::kCPU);
  // A smooth photograph (blockiness about 1), and the same through JPEG at quality 10 (blocks).
  const auto ramp = torch::linspace(0.1, 0.9, 64);
  const auto clean = (0.5 * ramp.unsqueeze(1) + 0.5 * ramp.unsqueeze(0) +
                      0.05 * torch::sin(torch::arange(64).to(torch::kFloat) * 0.7).unsqueeze(0))
                         .expand({3, 64, 64})
                         .contiguous();
  const auto compressed = decode_image(encode_jpeg(clean, 10), "q10").pixels;
  const PredictOptions opt;
  ScaleInfo si;
  const auto p_clean = ens.probability(clean, torch::Tensor(), opt, &si);
  EXPECT_FALSE(si.compressed) << "blockiness " << si.blockiness;
  EXPECT_LT((p_clean - sa.probability(clean, opt)).abs().max().item<float>(), 1e-6);
  const auto p_compressed = ens.probability(compressed, torch::Tensor(), opt, &si);
  EXPECT_TRUE(si.compressed) << "blockiness " << si.blockiness;
  EXPECT_GT(si.blockiness, kCompressedAboveDefault);
  const auto pb = sb.probability(compressed, opt);
  ASSERT_GT((sa.probability(compressed, opt) - pb).abs().max().item<float>(), 1e-3) << "members too alike";
  EXPECT_LT((p_compressed - pb).abs().max().item<float>(), 1e-6);
}

TEST(EnsembleCheckpoint, RefusesACompressionGateThatDoesNotFitItsMembers) {
  test::ScratchDir dir("ensemble_ckpt_gate_refuse");
  const auto out = dir.path() / "ens.pt";
  CompressionGate gate;
  gate.weights = {1.0};  // one weight for two members
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {}, gate), UserError);
  gate.weights = {0.0, 0.0};
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {}, gate), UserError);
  gate.weights = {1.0, 1.0};
  gate.above = 0.9;  // a clean photograph measures about 1
  EXPECT_THROW(save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {}, gate), UserError);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a refused ensemble must leave no file";
  // A file whose recorded gate was damaged is refused when loaded, naming it.
  gate.above = 2;
  save_ensemble_checkpoint(out, {tiny_member(1), tiny_member(2)}, {}, gate);
  CheckpointHeader h = read_checkpoint_header(out, kSegEnsembleKind);
  h.config["ensemble"]["compressed"]["weights"] = {1.0, 1.0, 1.0};
  try {
    ensemble_compression_gate(h, out);
    ADD_FAILURE() << "a gate of three weights for two members was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(out.string()), std::string::npos) << e.what();
  }
}

TEST(EnsembleCheckpoint, MembersOfDifferentEnhancementsEachSeeThePhotographTheirOwnWay) {
  test::ScratchDir dir("ensemble_ckpt_enhance");
  EnsembleMember a = tiny_member(1), b = tiny_member(2), c = tiny_member(3);
  InputOptions clahe;
  clahe.enhance = "green-clahe";
  clahe.clahe_tile = 16;
  TrainOptions tb = b.header.config.at("train").get<TrainOptions>();
  tb.input = clahe;
  b.header.config["train"] = tb;
  save_ensemble_checkpoint(dir.path() / "ens.pt", {a, b, c});
  const CheckpointHeader h = read_checkpoint_header(dir.path() / "ens.pt", kSegEnsembleKind);
  ASSERT_EQ(h.config.at("ensemble").at("inputs").size(), 3u);
  EXPECT_EQ(h.config["ensemble"]["inputs"][1]["enhance"], "green-clahe");
  const Segmenter ens = Segmenter::load(dir.path() / "ens.pt", torch::kCPU);
  EXPECT_EQ(ens.member_input(0).enhance, "none");
  EXPECT_EQ(ens.member_input(1).enhance, "green-clahe");

  const Segmenter sa(a.model, InputOptions{}, torch::kCPU), sb(b.model, clahe, torch::kCPU),
      sc(c.model, InputOptions{}, torch::kCPU);
  torch::manual_seed(4);
  const auto img = torch::rand({3, 40, 56}) * 0.4 + 0.3;
  PredictOptions opt;
  for (bool tta : {false, true}) {
    opt.tta = tta;
    const auto expected = (sa.probability(img, opt) + sb.probability(img, opt) + sc.probability(img, opt)) / 3;
    EXPECT_LT((ens.probability(img, opt) - expected).abs().max().item<float>(), 1e-5) << "tta " << tta;
  }
  // Members of one input record none, so files written before stay as they were.
  save_ensemble_checkpoint(dir.path() / "plain.pt", {a, c});
  EXPECT_FALSE(read_checkpoint_header(dir.path() / "plain.pt").config.at("ensemble").contains("inputs"));
}

TEST(EnsembleCheckpoint, RefusesMembersOfAnotherInputGeometry) {
  test::ScratchDir dir("ensemble_ckpt_geometry");
  EnsembleMember a = tiny_member(1), b = tiny_member(2);
  b.header.config["train"]["input"]["pad_to"] = 64;
  try {
    save_ensemble_checkpoint(dir.path() / "ens.pt", {a, b});
    ADD_FAILURE() << "members of different canvases were accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.input"), std::string::npos) << e.what();
  }
  Segmenter s({a.model, b.model}, {1.0, 1.0}, InputOptions{}, torch::kCPU);
  InputOptions padded;
  padded.pad_to = 64;
  EXPECT_THROW(s.set_member_inputs({InputOptions{}, padded}), UserError);
  EXPECT_THROW(s.set_member_inputs({InputOptions{}}), UserError);
}

TEST(Segmenter, LoadRefusesACheckpointOfAnotherKindNamingIt) {
  test::ScratchDir dir("segmenter_kind");
  EnsembleMember m = tiny_member(1);
  m.header.kind = "stylegan2";
  save_checkpoint(dir.path() / "g.pt", m.header, *m.model);
  try {
    Segmenter::load(dir.path() / "g.pt", torch::kCPU);
    FAIL() << "loaded a stylegan2 checkpoint as a segmenter";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("stylegan2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sa-unet-ensemble"), std::string::npos) << e.what();
  }
}

}  // namespace vg
