// Finding a data set's files on disk (DRIVE as distributed, or a plain folder layout) and loading its
// samples as tensors. Only file names are interpreted here; pixel formats live in io/image_io.h.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace vg {

struct SampleFiles {
  std::string id;                            // "21" for DRIVE, the image's file stem otherwise
  std::filesystem::path image, label, mask;  // label / mask empty when absent
};

struct DatasetFiles {
  std::string layout;                // resolved: "drive" or "folder"
  std::filesystem::path root;        // as given
  std::string split;                 // "train", "test" or "all"
  std::vector<SampleFiles> samples;  // sorted by id, ids unique
};

// Layouts:
// - "drive": ROOT/training|test|testing/{images,1st_manual,mask}/ with NN_training.tif, NN_manual1.gif,
//   NN_training_mask.gif / NN_test_mask.gif; id = the leading number. ROOT may also be one split folder
//   (ROOT/images + ROOT/1st_manual), which is then used whatever `split` says. Labels are always 1st_manual.
// - "folder": ROOT/images/ (+ optional labels/, masks/; matched by stem, also "<id>_label" / "<id>_mask"),
//   or split folders ROOT/train|training/images/... and ROOT/test|testing/images/... Any image format.
// - "auto": "drive" when a 1st_manual folder exists, "folder" when an images/ folder exists.
// split "all" takes both splits (when ids collide across them, every id gets its split folder's name as a
// prefix, "train_001"). Throws UserError naming the folder for a bad split/layout, no data set, no images.
DatasetFiles find_dataset(const std::filesystem::path& root, const std::string& split,
                          const std::string& layout = "auto");

struct Sample {
  std::string id;
  torch::Tensor image;  // [3, H, W] float in [0, 1]
  torch::Tensor label;  // [1, H, W] float in {0, 1}; undefined when the sample has no label
  torch::Tensor mask;   // [1, H, W] float in {0, 1}; all ones when the sample has no mask file
  bool has_mask = false;
};

// Reads one sample: a gray photograph is repeated to 3 channels; label and mask become 1 channel (the
// maximum over colour channels, so a coloured annotation counts) binarised at >= 0.5. Throws UserError
// naming both files and sizes when a label or mask does not match the photograph's size.
Sample load_sample(const SampleFiles& f);

// Loads every sample; with require_labels, a sample without a label is a UserError naming its image
// (checked for all samples before any file is read).
std::vector<Sample> load_samples(const DatasetFiles& d, bool require_labels);

// The image file in `dir` for sample `id`: stem == id, else stem == id + "_prob", else a stem starting with
// id + "_" or id + "." (DRIVE style "01_manual2.gif", STARE style "im0001.ah.ppm"). Only image files count.
// Throws UserError when `dir` is missing, no file matches, or several match at the best level.
std::filesystem::path find_file_for_id(const std::filesystem::path& dir, const std::string& id);

}  // namespace vg
