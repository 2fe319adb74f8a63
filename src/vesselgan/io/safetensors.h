// Tensor files in the safetensors layout (https://github.com/huggingface/safetensors, "Format"), read and
// written here without a library: a little-endian uint64 N, N bytes of JSON, then the tensors' bytes. The JSON
// maps every tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (byte offsets into the data after
// the JSON; row-major, little-endian) and "__metadata__" to string -> string. Python reads and writes the same
// files with scripts/official/safetensors_io.py (no vesselgan code needed), which is why StyleGAN2 networks and
// the stylegan2-ada-pytorch equivalence fixtures travel in it (docs/official.md).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace vg {

struct TensorFile {
  std::map<std::string, torch::Tensor> tensors;  // CPU, contiguous
  std::map<std::string, std::string> metadata;
};

// dtypes F32, F64, I64, I32 and U8 (others are a UserError naming the tensor and the valid ones). UserError
// when the file is missing, truncated, or its JSON is not a safetensors header.
TensorFile read_safetensors(const std::filesystem::path& path);

// Writes atomically; tensors of another dtype than the five above are a broken invariant (TORCH_CHECK).
void write_safetensors(const std::filesystem::path& path, const TensorFile& file);

}  // namespace vg
