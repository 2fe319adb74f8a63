#include "vesselgan/io/checkpoint.h"

#include <fstream>

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

namespace {
struct TinyImpl : torch::nn::Module {
  TinyImpl() { lin = register_module("lin", torch::nn::Linear(3, 2)); }
  torch::nn::Linear lin{nullptr};
};
TORCH_MODULE(Tiny);
}  // namespace

TEST(Checkpoint, RoundTripsModelOptimizerHeaderAndExtras) {
  test::ScratchDir dir("ckpt_roundtrip");
  torch::manual_seed(0);
  Tiny a;
  torch::optim::Adam opt(a->parameters(), 1e-2);
  auto loss = a->lin(torch::randn({4, 3})).sum();
  loss.backward();
  opt.step();
  CheckpointHeader h;
  h.kind = "tiny";
  h.config = {{"width", 3}};
  h.state = {{"epoch", 5}};
  save_checkpoint(dir.path() / "c.pt", h, *a, &opt, {{"rng", torch::arange(4)}});

  Tiny b;
  torch::optim::Adam opt_b(b->parameters(), 1e-2);
  std::map<std::string, torch::Tensor> extra = {{"rng", {}}};
  const auto h2 = load_checkpoint(dir.path() / "c.pt", "tiny", *b, torch::kCPU, &opt_b, &extra);
  EXPECT_EQ(h2.state["epoch"], 5);
  EXPECT_EQ(h2.config["width"], 3);
  EXPECT_TRUE(torch::equal(a->lin->weight, b->lin->weight));
  EXPECT_TRUE(torch::equal(extra["rng"], torch::arange(4)));
  // The optimizer state came back too: one more identical step keeps the models identical.
  for (auto* m : {&a, &b}) {
    (*m)->zero_grad();
    (*m)->lin(torch::ones({1, 3})).sum().backward();
  }
  opt.step();
  opt_b.step();
  EXPECT_TRUE(torch::allclose(a->lin->weight, b->lin->weight));
}

TEST(Checkpoint, WrongKindIsAUserError) {
  test::ScratchDir dir("ckpt_kind");
  Tiny a;
  CheckpointHeader h;
  h.kind = "tiny";
  save_checkpoint(dir.path() / "c.pt", h, *a);
  EXPECT_THROW(read_checkpoint_header(dir.path() / "c.pt", "sa-unet"), UserError);
}

TEST(Checkpoint, GarbageAndTruncatedFilesAreUserErrors) {
  test::ScratchDir dir("ckpt_garbage");
  Tiny a;
  CheckpointHeader h;
  h.kind = "tiny";
  const auto good = dir.path() / "c.pt";
  save_checkpoint(good, h, *a);
  const auto size = std::filesystem::file_size(good);
  std::filesystem::copy_file(good, dir.path() / "t.pt");
  std::filesystem::resize_file(dir.path() / "t.pt", size / 2);
  EXPECT_THROW(read_checkpoint_header(dir.path() / "t.pt"), UserError);
  std::ofstream(dir.path() / "g.pt") << "not a checkpoint";
  EXPECT_THROW(read_checkpoint_header(dir.path() / "g.pt"), UserError);
  EXPECT_THROW(read_checkpoint_header(dir.path() / "missing.pt"), UserError);
}

}  // namespace vg
