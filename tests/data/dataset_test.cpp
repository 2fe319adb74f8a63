#include "vesselgan/data/dataset.h"

#include <fstream>
#include <string>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::user_error;
using test::contains;
using test::ScratchDir;

// A small gray PNG whose pixel (0, 0) is `value` and the rest 0.
void put_png(const fs::path& path, int h = 4, int w = 5, float value = 1.0f) {
  torch::Tensor x = torch::zeros({1, h, w});
  x[0][0][0] = value;
  write_png(path, x);
}

void touch(const fs::path& path) { std::ofstream(path) << "not an image"; }

std::vector<std::string> ids_of(const DatasetFiles& d) {
  std::vector<std::string> ids;
  for (const auto& s : d.samples) ids.push_back(s.id);
  return ids;
}

// ----------------------------------------------------------------------------------------- folder layout

TEST(Dataset, FolderLayoutMatchesLabelsAndMasksByStem) {
  ScratchDir dir("dataset_folder");
  const auto r = dir.path();
  put_png(r / "images" / "b.png");
  put_png(r / "images" / "a.png");
  put_png(r / "images" / "c.png");
  touch(r / "images" / "notes.txt");  // not an image: skipped
  put_png(r / "labels" / "a.png");
  put_png(r / "labels" / "b_label.png");  // "<id>_label" also matches
  put_png(r / "masks" / "a_mask.png");
  const DatasetFiles d = find_dataset(r, "train");
  EXPECT_EQ(d.layout, "folder");
  EXPECT_EQ(d.root, r);
  ASSERT_EQ(ids_of(d), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d.samples[0].label, r / "labels" / "a.png");
  EXPECT_EQ(d.samples[0].mask, r / "masks" / "a_mask.png");
  EXPECT_EQ(d.samples[1].label, r / "labels" / "b_label.png");
  EXPECT_TRUE(d.samples[1].mask.empty());
  EXPECT_TRUE(d.samples[2].label.empty());
  EXPECT_EQ(find_dataset(r, "all", "folder").samples.size(), 3u);
}

TEST(Dataset, LabelFilesGoToTheIdTheyNameMostSpecifically) {
  ScratchDir dir("dataset_claims");
  const auto r = dir.path();
  put_png(r / "images" / "1.png");
  put_png(r / "images" / "1_a.png");
  put_png(r / "labels" / "1_a_label.png");  // names "1_a", not "1"
  const DatasetFiles d = find_dataset(r, "all");
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_TRUE(d.samples[0].label.empty());
  EXPECT_EQ(d.samples[1].label, r / "labels" / "1_a_label.png");
}

TEST(Dataset, FolderLayoutWithSplitFolders) {
  ScratchDir dir("dataset_splits");
  const auto r = dir.path();
  put_png(r / "train" / "images" / "t1.png");
  put_png(r / "train" / "images" / "t2.png");
  put_png(r / "train" / "labels" / "t2.png");
  put_png(r / "testing" / "images" / "s1.png");
  EXPECT_EQ(ids_of(find_dataset(r, "train")), (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(ids_of(find_dataset(r, "test")), (std::vector<std::string>{"s1"}));
  const DatasetFiles all = find_dataset(r, "all");
  EXPECT_EQ(ids_of(all), (std::vector<std::string>{"s1", "t1", "t2"}));
  EXPECT_EQ(all.samples[2].label, r / "train" / "labels" / "t2.png");
}

TEST(Dataset, IdsCollidingAcrossSplitsGetTheSplitAsPrefix) {
  ScratchDir dir("dataset_collide");
  const auto r = dir.path();
  put_png(r / "train" / "images" / "001.png");
  put_png(r / "test" / "images" / "001.png");
  put_png(r / "test" / "images" / "002.png");
  EXPECT_EQ(ids_of(find_dataset(r, "all")), (std::vector<std::string>{"test_001", "test_002", "train_001"}));
  EXPECT_EQ(ids_of(find_dataset(r, "test")), (std::vector<std::string>{"001", "002"}));
}

TEST(Dataset, MissingSplitEmptyFolderAndUnknownLayoutAreUserErrors) {
  ScratchDir dir("dataset_errors");
  const auto r = dir.path();
  std::string msg = user_error([&] { find_dataset(r, "train"); });
  EXPECT_TRUE(contains(msg, "no data set found in " + r.string())) << msg;
  EXPECT_TRUE(contains(msg, "expected DRIVE (training/images, training/1st_manual, ...) or a folder layout"))
      << msg;
  fs::create_directories(r / "images");
  msg = user_error([&] { find_dataset(r, "train"); });
  EXPECT_TRUE(contains(msg, "no images in " + (r / "images").string())) << msg;
  msg = user_error([&] { find_dataset(r, "train", "drive"); });
  EXPECT_TRUE(contains(msg, "no DRIVE data set in " + r.string())) << msg;
  msg = user_error([&] { find_dataset(r, "train", "csv"); });
  EXPECT_TRUE(contains(msg, "unknown data set layout 'csv' (valid: auto, drive, chase, stare, hrf, folder, photos)")) << msg;
  msg = user_error([&] { find_dataset(r, "val"); });
  EXPECT_TRUE(contains(msg, "unknown split 'val' (valid: train, test, all)")) << msg;
  msg = user_error([&] { find_dataset(r / "nope", "train"); });
  EXPECT_TRUE(contains(msg, (r / "nope").string() + " does not exist")) << msg;
  fs::remove_all(r / "images");
  put_png(r / "train" / "images" / "a.png");
  msg = user_error([&] { find_dataset(r, "test"); });
  EXPECT_TRUE(contains(msg, "no test split in " + r.string())) << msg;
  put_png(r / "training" / "images" / "a.png");
  msg = user_error([&] { find_dataset(r, "train"); });
  EXPECT_TRUE(contains(msg, "ambiguous train split")) << msg;
}

TEST(Dataset, DuplicateIdsAreUserErrors) {
  ScratchDir dir("dataset_dupes");
  const auto r = dir.path();
  put_png(r / "images" / "a.png");
  put_png(r / "labels" / "a.png");
  put_png(r / "labels" / "a_label.png");  // a worse match than a.png: fine
  EXPECT_EQ(find_dataset(r, "all").samples[0].label, r / "labels" / "a.png");
  put_png(r / "labels" / "a.jpg.png");  // stem "a.jpg": rank 2, still worse than exact
  EXPECT_EQ(find_dataset(r, "all").samples[0].label, r / "labels" / "a.png");
  put_png(r / "images" / "a.tif");  // written as PNG bytes; the extension only selects the file
  const std::string msg = user_error([&] { find_dataset(r, "all"); });
  EXPECT_TRUE(contains(msg, "two images for sample a")) << msg;
}

// ---------------------------------------------------------------------------------------------- loading

TEST(Dataset, LoadSampleExpandsGrayBinarisesAndDefaultsTheMask) {
  ScratchDir dir("dataset_load");
  const auto r = dir.path();
  put_png(r / "images" / "a.png", 3, 4, 0.25f);
  // Label in RGB: red 0.6 at (0, 0) counts as vessel (max over channels), 0.49 gray at (0, 1) does not.
  torch::Tensor label = torch::zeros({3, 3, 4});
  label[0][0][0] = 0.6f;
  label.select(2, 1).select(1, 0).fill_(0.49f);
  write_png(r / "labels" / "a.png", label);
  const DatasetFiles d = find_dataset(r, "all");
  const Sample s = load_sample(d.samples[0]);
  EXPECT_EQ(s.id, "a");
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 3, 4}));
  EXPECT_TRUE(torch::equal(s.image[0], s.image[2]));
  EXPECT_FLOAT_EQ(s.image[1][0][0].item<float>(), 64.0f / 255.0f);
  ASSERT_EQ(s.label.sizes(), torch::IntArrayRef({1, 3, 4}));
  EXPECT_EQ(s.label.sum().item<float>(), 1.0f);
  EXPECT_EQ(s.label[0][0][0].item<float>(), 1.0f);
  EXPECT_FALSE(s.has_mask);
  EXPECT_TRUE(torch::equal(s.mask, torch::ones({1, 3, 4})));
}

TEST(Dataset, ProbabilityLabelsKeepTheirValuesAndTheMaskStaysBinary) {
  ScratchDir dir("dataset_soft");
  const auto r = dir.path();
  put_png(r / "images" / "a.png", 2, 2, 0.5f);
  write_png(r / "labels" / "a.png", torch::full({1, 2, 2}, 0.3f), 16);  // a soft pseudo-label
  write_png(r / "masks" / "a.png", torch::full({1, 2, 2}, 0.7f));
  const DatasetFiles d = find_dataset(r, "all");
  const Sample soft = load_sample(d.samples[0], LabelValues::probability);
  EXPECT_NEAR(soft.label.min().item<float>(), 0.3f, 1e-4);
  EXPECT_NEAR(soft.label.max().item<float>(), 0.3f, 1e-4);
  EXPECT_EQ(soft.mask.min().item<float>(), 1.0f);
  EXPECT_EQ(load_sample(d.samples[0]).label.max().item<float>(), 0.0f);  // binary by default
  EXPECT_NEAR(load_samples(d, true, LabelValues::probability)[0].label.mean().item<float>(), 0.3f, 1e-4);
}

TEST(Dataset, LabelOrMaskSizeMismatchNamesBothFilesAndSizes) {
  ScratchDir dir("dataset_mismatch");
  const auto r = dir.path();
  put_png(r / "images" / "a.png", 4, 5);
  put_png(r / "masks" / "a.png", 4, 6);
  const DatasetFiles d = find_dataset(r, "all");
  const std::string msg = user_error([&] { load_sample(d.samples[0]); });
  EXPECT_TRUE(contains(msg, "mask " + (r / "masks" / "a.png").string() + " is 6x4")) << msg;
  EXPECT_TRUE(contains(msg, "its image " + (r / "images" / "a.png").string() + " is 5x4")) << msg;
}

TEST(Dataset, LoadSamplesRequiringLabelsNamesTheUnlabelledImage) {
  ScratchDir dir("dataset_require");
  const auto r = dir.path();
  put_png(r / "images" / "a.png");
  put_png(r / "images" / "b.png");
  put_png(r / "labels" / "a.png");
  put_png(r / "masks" / "b_mask.png");
  const DatasetFiles d = find_dataset(r, "all");
  const std::string msg = user_error([&] { load_samples(d, true); });
  EXPECT_TRUE(contains(msg, "no label for image " + (r / "images" / "b.png").string())) << msg;
  const std::vector<Sample> s = load_samples(d, false);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].label.defined());
  EXPECT_FALSE(s[1].label.defined());
  EXPECT_TRUE(s[1].has_mask);
  EXPECT_EQ(s[1].mask.sum().item<float>(), 1.0f);
}

// ------------------------------------------------------------------------------------- find_file_for_id

TEST(Dataset, FindFileForIdPrefersExactThenProbThenPrefix) {
  ScratchDir dir("dataset_pred");
  const auto r = dir.path();
  put_png(r / "1_prob.png");
  put_png(r / "1_other.png");
  put_png(r / "10_prob.png");  // not a file for id "1"
  touch(r / "1.json");         // not an image
  EXPECT_EQ(find_file_for_id(r, "1"), r / "1_prob.png");
  put_png(r / "1.png");
  EXPECT_EQ(find_file_for_id(r, "1"), r / "1.png");
  EXPECT_EQ(find_file_for_id(r, "10"), r / "10_prob.png");
  put_png(r / "2_a.png");
  put_png(r / "2_b.png");
  std::string msg = user_error([&] { find_file_for_id(r, "2"); });
  EXPECT_TRUE(contains(msg, "several files for sample 2 in " + r.string() + ": 2_a.png, 2_b.png")) << msg;
  msg = user_error([&] { find_file_for_id(r, "3"); });
  EXPECT_TRUE(contains(msg, "no file for sample 3 in " + r.string())) << msg;
  msg = user_error([&] { find_file_for_id(r / "missing", "3"); });
  EXPECT_TRUE(contains(msg, (r / "missing").string() + " does not exist")) << msg;
}

// ------------------------------------------------------------------------------------------------ DRIVE

TEST(Dataset, FindsDriveTrainAndTestWithLabelsAndMasks) {
  VG_REQUIRE_DRIVE(drive);
  const DatasetFiles train = find_dataset(drive, "train");
  EXPECT_EQ(train.layout, "drive");
  ASSERT_EQ(train.samples.size(), 20u);
  const DatasetFiles test = find_dataset(drive, "test");
  ASSERT_EQ(test.samples.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    char want_train[3], want_test[3];
    std::snprintf(want_train, sizeof(want_train), "%02d", 21 + i);
    std::snprintf(want_test, sizeof(want_test), "%02d", 1 + i);
    EXPECT_EQ(train.samples[i].id, want_train);
    EXPECT_EQ(test.samples[i].id, want_test);
    for (const auto* s : {&train.samples[i], &test.samples[i]}) {
      EXPECT_EQ(s->image.parent_path().filename(), "images");
      EXPECT_EQ(s->label.filename(), s->id + "_manual1.gif");  // always the first observer
      EXPECT_FALSE(s->mask.empty()) << s->id;
    }
  }
  EXPECT_EQ(train.samples[0].mask.filename(), "21_training_mask.gif");
  EXPECT_EQ(test.samples[0].mask.filename(), "01_test_mask.gif");
  EXPECT_EQ(find_dataset(drive, "all").samples.size(), 40u);
  // Pointing at one split folder directly works too.
  const auto split_dir = train.samples[0].image.parent_path().parent_path();
  EXPECT_EQ(find_dataset(split_dir, "test").samples.size(), 20u);
}

TEST(Dataset, LoadsADriveSample) {
  VG_REQUIRE_DRIVE(drive);
  const Sample s = load_sample(find_dataset(drive, "test").samples[0]);
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 584, 565}));
  ASSERT_EQ(s.label.sizes(), torch::IntArrayRef({1, 584, 565}));
  EXPECT_TRUE(s.has_mask);
  const int64_t fov = s.mask.sum().item<float>();
  EXPECT_GT(fov, 200000);
  EXPECT_LT(fov, 584 * 565);
  // DRIVE's vessels cover roughly an eighth of the FOV.
  const float vessel_fraction = (s.label * s.mask).sum().item<float>() / fov;
  EXPECT_GT(vessel_fraction, 0.05f);
  EXPECT_LT(vessel_fraction, 0.25f);
}

TEST(Dataset, FindFileForIdOnDriveSecondObserver) {
  VG_REQUIRE_DRIVE(drive);
  const fs::path second =
      fs::is_directory(drive / "testing") ? drive / "testing" / "2nd_manual" : drive / "test" / "2nd_manual";
  EXPECT_EQ(find_file_for_id(second, "01"), second / "01_manual2.gif");
  EXPECT_EQ(find_file_for_id(second, "20"), second / "20_manual2.gif");
  EXPECT_THROW(find_file_for_id(second, "21"), UserError);
}

}  // namespace
}  // namespace vg
