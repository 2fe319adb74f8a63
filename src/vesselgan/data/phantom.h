// A procedurally drawn fundus "phantom": a colour fundus-like photograph with an EXACT vessel label and FOV
// mask, deterministic per seed. It powers tests and the embedded demo (no data set needed).
//
// Drawn like a real fundus photograph: a circular FOV (black outside), a reddish-orange background with
// low-frequency texture and vignetting, a darker macula, a bright optic disc off-center (diameter ~1/7 of
// the FOV's) from which vessel trees (veins and arteries along the superior/inferior temporal arcades and
// nasal directions) grow as smoothed random walks, bifurcating with Murray's-law width decay
// (w_parent^3 = w_a^3 + w_b^3, Murray 1926), always extending the widest pending branch, until the vessels
// cover the target share of the FOV (so thin vessels appear as resolution allows). Vessels are
// darker than the background, most in green, and are rasterised with anti-aliased tapered capsules; the
// label is exactly the pixels whose coverage is >= 0.5 (pixel center inside a vessel), inside the FOV.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vg {

struct PhantomOptions {
  int64_t size = 128;             // square side in pixels
  double fov_radius = 0.46;       // FOV disc radius, fraction of size (DRIVE: ~270 px at 565 px width)
  int64_t num_trees = 8;          // vessel trees leaving the optic disc, in [2, 8]
  double vessel_width = 0.016;    // width of the widest trunk, fraction of size (DRIVE: ~9 px at 565)
  double min_width_px = 0.8;      // thinnest drawn width in pixels; a branch ends below 0.7 of it
  double vessel_fraction = 0.12;  // growth (widest branch first) stops once this share of the FOV is vessel,
                                  // +-15% per image (DRIVE: ~12%); fewer when the trees run out first
  double branch_spacing = 0.06;   // mean distance between bifurcations along a vessel, fraction of FOV radius
  double tortuosity = 1.0;        // scale of the random curvature (0 = smooth arcs)
  // Branches narrower than this fraction of the widest trunk end where a drawn vessel lies just ahead (2 widths
  // + 3 px), instead of crossing it (0 = every vessel crosses what it meets). In a 2-D picture each crossing
  // encloses background and adds branch points; in DRIVE's labels the thin vessels rarely cross (docs/gan.md).
  double end_before_crossing = 0;
  double noise_std = 0.012;       // additive gaussian pixel noise
  double blur = 0.002;            // gaussian blur sigma, fraction of size
};
void to_json(nlohmann::json& j, const PhantomOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, PhantomOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const PhantomOptions& o);

// Where a phantom's anatomy lies, in pixels of its S x S square (x right, y down).
struct PhantomGeometry {
  double fov_x = 0, fov_y = 0, fov_r = 0;     // the FOV disc
  double disc_x = 0, disc_y = 0, disc_r = 0;  // the optic disc, where the trees leave from
  double macula_x = 0, macula_y = 0;          // the fovea (no vessel enters 0.1 fov_r around it)
};

struct PhantomSample {
  torch::Tensor image;  // [3, S, S] float in [0, 1], 0 outside the FOV
  torch::Tensor label;  // [1, S, S] float {0, 1}, vessels, inside the FOV only
  torch::Tensor mask;   // [1, S, S] float {0, 1}, the FOV disc
  PhantomGeometry geometry;
};

// Deterministic per (opt, seed) for a given build and libm: draws from its own std::mt19937_64 (with our own
// uniform / normal conversions), never from the global torch RNG.
// CPU tensors.
PhantomSample make_phantom(const PhantomOptions& opt, uint64_t seed);

// x: [C, S, S] -> [C, fh, fw], centred: cropped where the frame is smaller, black-padded where larger (a
// phantom framed as a camera's photograph; the crop starts at ((S - fh) / 2, (S - fw) / 2)).
torch::Tensor frame_centred(const torch::Tensor& x, int64_t fh, int64_t fw);

// Seed of image `index` (0-based, train first, then test) of write_phantom_dataset(..., seed).
uint64_t phantom_seed(uint64_t seed, int64_t index);

// Writes n_train + n_test phantoms as 8-bit PNGs: DIR/train/{images,labels,masks}/<id>.png, then
// DIR/test/{images,labels,masks}/<id>.png, ids 1-based and zero-padded to max(2, digits) ("01".."20" for 20
// images), test ids continuing after the training ones. Labels and masks are single-channel 0/255. Image
// `index` is make_phantom(opt, phantom_seed(seed, index)).
void write_phantom_dataset(const std::filesystem::path& dir, int n_train, int n_test,
                           const PhantomOptions& opt, uint64_t seed);

// Writes n phantoms laid out as a public data set is distributed (file names, folders, formats, frame
// shape), so every reader path runs without the data set (layouts in data/dataset.h):
//   "chase":  DIR/Image_01L.jpg, Image_01R.jpg, Image_02L.jpg, ...; Image_01L_1stHO.png (the exact label),
//             Image_01L_2ndHO.png (the label dilated by one pixel: an observer who draws wider). Frame
//             999:960 (black columns added at the sides), no masks.
//   "stare":  DIR/stare-images/im0001.ppm (STARE's own ids: im0001..im0005, im0044, ..., then im1001 ...),
//             labels-ah/im0001.ah.ppm (exact), labels-vk/im0001.vk.ppm (dilated). Frame 700:605: the FOV is
//             clipped at the top and bottom. No masks.
//   "hrf":    DIR/images/01_h.jpg, 01_dr.JPG, 01_g.jpg, 02_h.jpg, ... (the categories in turn),
//             manual1/01_h.tif (exact), mask/01_h_mask.tif. Frame 3:2, the FOV clipped at top and bottom.
//   "photos": DIR/photo_01.jpg, ...: JPEG photographs only, frame 4:3 (columns added), the square's side
//             cycling through 1, 1.5 and 0.75 times opt.size (within 32..4096).
// Labels and masks are 0/255 gray (STARE's PPM labels gray in RGB). Image i is make_phantom(opt with its
// size, phantom_seed(seed, i)), centered in its frame (cropped or padded with black). n in 1..200.
void write_phantom_layout(const std::filesystem::path& dir, const std::string& layout, int n,
                          const PhantomOptions& opt, uint64_t seed);

// The ids write_phantom_layout gives its first n images in `layout` ("Image_01L", "im0001", "01_h", "photo_01").
std::vector<std::string> phantom_layout_ids(const std::string& layout, int n);

}  // namespace vg
