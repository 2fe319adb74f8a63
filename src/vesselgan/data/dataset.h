// Finding a data set's files on disk (DRIVE, CHASE_DB1, STARE and HRF as distributed, a plain folder layout,
// or a folder of photographs) and loading its samples as tensors. Only file names are interpreted here;
// pixel formats live in io/image_io.h, FOV estimation in data/fov.h.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace vg {

struct SampleFiles {
  std::string id;                            // "21" for DRIVE, the image's file stem otherwise
  std::filesystem::path image, label, mask;  // label / mask empty when absent
  // Without a mask file: true = estimate the FOV from the photograph (data/fov.h; CHASE_DB1, STARE,
  // photographs), false = the whole image is the FOV (folder layout without masks/).
  bool estimate_fov = false;
};

struct DatasetFiles {
  std::string layout;                // resolved: "drive", "chase", "stare", "hrf", "folder" or "photos"
  std::filesystem::path root;        // as given
  std::string split;                 // "train", "test" or "all" ("all" for photos, which have no split)
  std::vector<SampleFiles> samples;  // sorted by id, ids unique
  std::string annotation;            // the ground truth used, e.g. "1st_manual"; empty when unlabelled
  std::string split_rule;            // how the split was chosen, for reports
};

// Layouts (docs/protocol.md, "Data notes"):
// - "drive": ROOT/training|test|testing/{images,1st_manual,mask}/ with NN_training.tif, NN_manual1.gif,
//   NN_training_mask.gif / NN_test_mask.gif; id = the leading number. ROOT may also be one split folder
//   (ROOT/images + ROOT/1st_manual), which is then used whatever `split` says. Labels are always 1st_manual.
// - "chase" (CHASE_DB1): one flat folder, Image_01L.jpg .. Image_14R.jpg with labels Image_01L_1stHO.png
//   (ground truth; _2ndHO.png is the second observer); id = the image's stem. No FOV masks: estimated.
//   Standard split: the first 20 images train, the last 8 test.
// - "stare": ROOT/stare-images/im0001.ppm, labels ROOT/labels-ah/im0001.ah.ppm (ground truth; labels-vk/ is
//   the second observer); id = "im0001". When labels-ah/ exists only its labelled images are the data set
//   (the full download holds 400 photographs, 20 labelled). No FOV masks: estimated. Standard split: the
//   first 10 (by id) train, the last 10 test. Gzipped files (as STARE is served) are a UserError: gunzip.
// - "hrf": ROOT/images/01_h.jpg, 01_dr.JPG, 01_g.jpg (healthy, diabetic retinopathy, glaucoma),
//   ROOT/manual1/01_h.tif, ROOT/mask/01_h_mask.tif; id = "01_h". Standard split "15 / 30": within each
//   category, the first 5 (by id) train and the other 10 test.
// - "folder": ROOT/images/ (+ optional labels/, masks/; matched by stem, also "<id>_label" / "<id>_mask"),
//   or split folders ROOT/train|training/images/... and ROOT/test|testing/images/... Any image format.
//   Without masks the whole image is the FOV.
// - "photos": a plain folder of photographs and nothing else; id = stem; no labels; FOV estimated; there
//   is no split: every photograph whatever `split` says.
// - "auto": the first that fits of drive (a 1st_manual folder), stare (stare-images/), hrf (images/ and
//   manual1/), chase (a *_1stHO file), folder (images/), photos (image files directly inside ROOT).
// When a data set has another number of images than the standard one, its split keeps the proportions
// (CHASE_DB1 20/28 train, STARE 1/2, HRF 1/3 per category; rounded, at least one image on each side).
// split "all" takes both splits (when ids collide across them, every id gets its split folder's name as a
// prefix, "train_001"). Throws UserError naming the folder for a bad split/layout, no data set, no images.
DatasetFiles find_dataset(const std::filesystem::path& root, const std::string& split,
                          const std::string& layout = "auto");

struct Sample {
  std::string id;
  torch::Tensor image;  // [3, H, W] float in [0, 1]
  torch::Tensor label;  // [1, H, W] float in {0, 1} (or [0, 1]: LabelValues::probability); undefined if none
  torch::Tensor mask;   // [1, H, W] float in {0, 1}: the FOV (from the mask file, estimated, or all ones)
  bool has_mask = false;        // the mask came from a file
  bool mask_estimated = false;  // the mask was estimated from the photograph (data/fov.h)
};

// How label pixels are read: binarised at >= 0.5 (annotations), or kept as probabilities in [0, 1] (soft
// pseudo-labels, seg/pseudo_label.h mode "soft", trained as soft targets).
enum class LabelValues { binary, probability };

// Reads one sample: a gray photograph is repeated to 3 channels; label and mask become 1 channel (the
// maximum over colour channels, so a coloured annotation counts), the mask binarised at >= 0.5 and the
// label as `values` says. Without a mask file
// the FOV is estimated (f.estimate_fov) or the whole image. Throws UserError naming both files and sizes
// when a label or mask does not match the photograph's size.
Sample load_sample(const SampleFiles& f, LabelValues values = LabelValues::binary);

// Loads every sample; with require_labels, a sample without a label is a UserError naming its image
// (checked for all samples before any file is read).
std::vector<Sample> load_samples(const DatasetFiles& d, bool require_labels,
                                 LabelValues values = LabelValues::binary);

// The image file in `dir` for sample `id`: stem == id, else stem == id + "_prob", else a stem starting with
// id + "_" and ending in "_prob" (`segment`'s "01_test_prob.png" for DRIVE's 01_test.tif), else a stem
// starting with id + "_" or id + "." (DRIVE style "01_manual2.gif", STARE style "im0001.ah.ppm"). Only image
// files count.
// Throws UserError when `dir` is missing, no file matches, or several match at the best level.
std::filesystem::path find_file_for_id(const std::filesystem::path& dir, const std::string& id);

}  // namespace vg
