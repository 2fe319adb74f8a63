#include "vesselgan/io/safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {

namespace {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float and double expected");

bool little_endian_host() {
  const uint16_t one = 1;
  unsigned char b = 0;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

const std::map<std::string, torch::ScalarType>& dtypes() {
  static const std::map<std::string, torch::ScalarType> d = {{"F32", torch::kFloat}, {"F64", torch::kDouble},
                                                             {"I64", torch::kLong},  {"I32", torch::kInt},
                                                             {"U8", torch::kByte}};
  return d;
}

std::string dtype_name(torch::ScalarType t) {
  for (const auto& [name, type] : dtypes())
    if (type == t) return name;
  TORCH_CHECK(false, "write_safetensors: dtype ", t, " has no safetensors name here (F32, F64, I64, I32, U8)");
  return {};
}

}  // namespace

TensorFile read_safetensors(const std::filesystem::path& path) {
  TORCH_CHECK(little_endian_host(), "read_safetensors: a big-endian host is not supported");
  const std::string bytes = read_file(path);
  const auto bad = [&](const std::string& why) {
    return UserError(path.string() + " is not a readable safetensors file: " + why);
  };
  if (bytes.size() < 8) throw bad("shorter than its 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8) throw bad("header length " + std::to_string(n) + " runs past the end of the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw bad("header is not a JSON object");
  const size_t data_begin = 8 + n, data_size = bytes.size() - data_begin;
  TensorFile file;
  for (const auto& [name, e] : header.items()) {
    if (name == "__metadata__") {
      if (!e.is_object()) throw bad("__metadata__ is not an object");
      for (const auto& [k, v] : e.items()) {
        if (!v.is_string()) throw bad("metadata '" + k + "' is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      const auto dtype_str = e.at("dtype").get<std::string>();
      const auto it = dtypes().find(dtype_str);
      if (it == dtypes().end())
        throw bad("tensor '" + name + "' has dtype " + dtype_str + " (readable: F32, F64, I64, I32, U8)");
      const auto shape = e.at("shape").get<std::vector<int64_t>>();
      const auto offsets = e.at("data_offsets").get<std::vector<uint64_t>>();
      int64_t numel = 1;
      for (int64_t s : shape) {
        if (s < 0) throw bad("tensor '" + name + "' has a negative size");
        numel *= s;
      }
      const size_t nbytes = static_cast<size_t>(numel) * torch::elementSize(it->second);
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size ||
          offsets[1] - offsets[0] != nbytes)
        throw bad("tensor '" + name + "' has data_offsets that do not fit its shape and the file");
      auto t = torch::empty(shape, torch::TensorOptions().dtype(it->second));
      if (nbytes > 0) std::memcpy(t.data_ptr(), bytes.data() + data_begin + offsets[0], nbytes);
      file.tensors.emplace(name, t);
    } catch (const nlohmann::json::exception& ex) {
      throw bad("entry '" + name + "' is malformed (" + ex.what() + ")");
    }
  }
  return file;
}

void write_safetensors(const std::filesystem::path& path, const TensorFile& file) {
  TORCH_CHECK(little_endian_host(), "write_safetensors: a big-endian host is not supported");
  nlohmann::json header = nlohmann::json::object();
  std::vector<torch::Tensor> blobs;
  uint64_t offset = 0;
  for (const auto& [name, t0] : file.tensors) {
    TORCH_CHECK(name != "__metadata__", "write_safetensors: '__metadata__' is not a tensor name");
    const auto t = t0.detach().to(torch::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    blobs.push_back(t);
  }
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& t : blobs) out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  write_file_atomic(path, out);
}

}  // namespace vg
