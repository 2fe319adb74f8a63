#include "vesselgan/io/safetensors.h"

#include <cstring>
#include <fstream>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {

TEST(Safetensors, RoundTripsTensorsOfEveryDtypeAndMetadata) {
  test::ScratchDir dir("safetensors_roundtrip");
  TensorFile f;
  f.tensors["a.weight"] = torch::randn({3, 4, 2});
  f.tensors["b"] = torch::tensor(2.5, torch::kDouble);  // a 0-d tensor
  f.tensors["c"] = torch::arange(7, torch::kLong);
  f.tensors["d"] = torch::arange(5, torch::kInt);
  f.tensors["e"] = torch::arange(3, torch::kByte);
  f.tensors["empty"] = torch::zeros({0, 3});
  f.tensors["strided"] = torch::randn({4, 3}).t();  // written contiguous
  f.metadata = {{"format", "x"}, {"json", "{\"a\": 1}"}};
  const auto path = dir.path() / "t.safetensors";
  write_safetensors(path, f);
  const TensorFile g = read_safetensors(path);
  EXPECT_EQ(g.metadata, f.metadata);
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (const auto& [k, t] : f.tensors) {
    ASSERT_TRUE(g.tensors.count(k)) << k;
    EXPECT_EQ(g.tensors.at(k).scalar_type(), t.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(g.tensors.at(k), t)) << k;
  }
  // The layout: 8-byte little-endian header length, the JSON padded so the data starts 8-byte aligned.
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
}

TEST(Safetensors, RejectsTruncatedAndMalformedFiles) {
  test::ScratchDir dir("safetensors_bad");
  TensorFile f;
  f.tensors["w"] = torch::randn({16});
  const auto good = dir.path() / "good.safetensors";
  write_safetensors(good, f);
  const std::string bytes = read_file(good);
  const auto expect_user_error = [&](const std::string& content, const std::string& needle) {
    const auto p = dir.path() / "bad.safetensors";
    write_file_atomic(p, content);
    try {
      read_safetensors(p);
      ADD_FAILURE() << "expected a UserError mentioning " << needle;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_user_error(bytes.substr(0, bytes.size() - 4), "'w'");       // data cut short
  expect_user_error(bytes.substr(0, 5), "shorter than");             // no header length
  expect_user_error(std::string("\xff\0\0\0\0\0\0\0{}", 10), "runs past the end");
  std::string not_json(8, '\0');
  not_json[0] = 2;
  expect_user_error(not_json + "[[", "not JSON");
  EXPECT_THROW(read_safetensors(dir.path() / "missing.safetensors"), UserError);
}

}  // namespace vg
