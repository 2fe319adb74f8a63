// The image decoder fuzz targets (fuzz_targets.h): one per format, each feeding decode_image the bytes of
// one candidate file and checking the image that comes back.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/image_codec.h"

namespace vg::fuzz {
namespace {

// Whether `b` starts like a file of `format`: a prefix of the signatures decode_image dispatches on
// (io/image_io.cpp), short enough that truncated signatures still reach the decoders' own checks.
bool looks_like(const std::string& format, const std::string& b) {
  auto starts = [&b](const char* sig, size_t n) { return b.size() >= n && b.compare(0, n, sig, n) == 0; };
  if (format == "png") return starts("\x89P", 2);
  if (format == "jpeg") return starts("\xff\xd8", 2);
  if (format == "tiff") return starts("II", 2) || starts("MM", 2);
  if (format == "gif") return starts("GIF", 3);
  if (format == "pnm") return b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6';
  throw std::invalid_argument("unknown image fuzz target '" + format + "'");
}

[[noreturn]] void broken(const std::string& what) { throw std::logic_error("decode_image: " + what); }

// What image_io.h promises: [C, H, W] float32 on the CPU, C = 1 or 3, values in [0, 1], bit depth 8 or 16.
void check_image(const Image& image) {
  const torch::Tensor& p = image.pixels;
  if (!p.defined()) broken("undefined pixels");
  if (p.dim() != 3 || (p.size(0) != 1 && p.size(0) != 3) || p.size(1) < 1 || p.size(2) < 1) {
    broken("pixels of shape " + c10::str(p.sizes()));
  }
  if (p.scalar_type() != torch::kFloat || !p.device().is_cpu() || !p.is_contiguous()) broken("pixels not CPU float32");
  if (image.bit_depth != 8 && image.bit_depth != 16) broken("bit depth " + std::to_string(image.bit_depth));
  const float* v = p.data_ptr<float>();
  for (int64_t i = 0; i < p.numel(); ++i) {
    if (!(v[i] >= 0.0f && v[i] <= 1.0f)) broken("sample " + std::to_string(v[i]) + " outside [0, 1]");
  }
}

}  // namespace

std::vector<std::string> image_targets() { return {"png", "jpeg", "tiff", "gif", "pnm"}; }

bool fuzz_image(const std::string& format, const std::string& bytes) {
  if (!looks_like(format, bytes)) return false;
  Image image;
  try {
    image = decode_image(bytes, "fuzz-input");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    if (msg.rfind("cannot read image fuzz-input: ", 0) != 0 || msg.find('\n') != std::string::npos) {
      broken("UserError not of the form 'cannot read image <source>: <reason>' on one line: " + msg);
    }
    return true;
  }
  check_image(image);
  return true;
}

}  // namespace vg::fuzz
