#include "vesselgan/io/image_codec.h"

#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/io/image_writers.h"

namespace vg {

namespace {
torch::Tensor smooth_rgb(int64_t h, int64_t w) {
  const auto y = torch::linspace(0, 1, h).view({1, h, 1}), x = torch::linspace(0, 1, w).view({1, 1, w});
  return torch::cat({x.expand({1, h, w}), y.expand({1, h, w}), (0.5 * (x + y)).expand({1, h, w})});
}
}  // namespace

TEST(ImageCodec, DecodeImageReadsBackEncodeJpegCloseToThePixels) {
  const auto pixels = smooth_rgb(40, 56);
  const Image back = decode_image(encode_jpeg(pixels, 95), "memory");
  ASSERT_EQ(back.pixels.sizes(), pixels.sizes());
  EXPECT_LT((back.pixels - pixels).abs().mean().item<double>(), 0.01);
}

TEST(ImageCodec, EncodeJpegGivesTheBytesWriteJpegStores) {
  test::ScratchDir dir("image_codec");
  const auto pixels = smooth_rgb(16, 24);
  write_jpeg(dir.path() / "a.jpg", pixels, 30);
  EXPECT_EQ(read_file(dir.path() / "a.jpg"), encode_jpeg(pixels, 30));
  EXPECT_TRUE(read_image(dir.path() / "a.jpg").pixels.equal(decode_image(encode_jpeg(pixels, 30), "x").pixels));
}

TEST(ImageCodec, DecodeImageNamesTheSourceOfBadBytes) {
  const std::string e = test::user_error([] { decode_image("not an image", "the shift buffer"); });
  EXPECT_TRUE(test::contains(e, "the shift buffer") && test::contains(e, "unknown format")) << e;
  EXPECT_TRUE(test::contains(test::user_error([] { decode_image("", "b"); }), "empty"));
}

}  // namespace vg
