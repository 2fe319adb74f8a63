#include "vesselgan/seg/pseudo_label.h"

#include <algorithm>
#include <set>

#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace {

using test::contains;

constexpr int kImages = 4;

// A tiny untrained SA-UNet whose output logit is shifted so that about half the FOV pixels of the phantoms
// are >= 0.5: the vessel fractions and confidences then differ from image to image.
Segmenter tiny_segmenter(const DatasetFiles& data) {
  torch::manual_seed(0);
  SAUNetOptions o;
  o.base_channels = 4;
  SAUNet model(o);
  Segmenter seg(model, InputOptions{}, torch::kCPU);
  std::vector<torch::Tensor> logits;
  for (const auto& f : data.samples) {
    const Sample s = load_sample(f);
    const auto p = seg.probability(s.image).clamp(1e-6, 1 - 1e-6);
    logits.push_back(torch::log(p / (1 - p)).masked_select(s.mask.gt(0.5)));
  }
  torch::NoGradGuard no_grad;
  for (auto& np : model->named_parameters())
    if (np.key() == "head.bias") np.value().sub_(torch::cat(logits).median());
  return seg;
}

struct Fixture {
  explicit Fixture(const std::string& name) : dir("ens_" + name) {
    PhantomOptions po;
    po.size = 32;
    write_phantom_dataset(dir.path() / "data", kImages, 0, po, 11);
    data = find_dataset(dir.path() / "data", "train", "folder");
  }
  test::ScratchDir dir;
  DatasetFiles data;
};

// What pseudo_label must have computed for sample f (the segmenter with the options' TTA, given mask).
torch::Tensor expected_prob(const Segmenter& seg, const SampleFiles& f, bool tta) {
  const Sample s = load_sample(f);
  PredictOptions p;
  p.tta = tta;
  return seg.probability(s.image, s.mask, p);
}

}  // namespace

TEST(PseudoLabel, HardLabelsAreBinaryModelDecisionsInsideTheFovAndReadBackAsAFolderDataSet) {
  Fixture fx("hard");
  const Segmenter seg = tiny_segmenter(fx.data);
  const fs::path out = fx.dir.path() / "out";
  const auto r = pseudo_label(seg, fx.data, out, PseudoLabelOptions{});
  EXPECT_EQ(r.accepted, kImages);
  EXPECT_EQ(r.rejected + r.skipped, 0);
  for (const auto& f : fx.data.samples) {
    const Image label = read_image(out / "labels" / (f.id + ".png"));
    EXPECT_EQ(label.bit_depth, 8);
    const Sample s = load_sample(f);
    const auto expected = expected_prob(seg, f, true).ge(0.5).to(torch::kFloat) * s.mask;
    EXPECT_TRUE(torch::equal(label.pixels, expected)) << f.id;
    EXPECT_GT(expected.sum().item<float>(), 0) << f.id;                          // not trivially empty
    EXPECT_EQ(read_file(out / "images" / (f.id + ".png")), read_file(f.image));  // PNG copied as is
    EXPECT_TRUE(torch::equal(read_image(out / "masks" / (f.id + ".png")).pixels, s.mask));
  }
  const DatasetFiles back = find_dataset(out, "all", "folder");
  ASSERT_EQ(back.samples.size(), static_cast<size_t>(kImages));
  for (size_t i = 0; i < back.samples.size(); ++i) {
    EXPECT_EQ(back.samples[i].id, fx.data.samples[i].id);
    EXPECT_FALSE(back.samples[i].label.empty());
    EXPECT_FALSE(back.samples[i].mask.empty());
  }
  const auto j = nlohmann::json::parse(read_file(out / "pseudo_label.json"));
  EXPECT_EQ(j["options"]["mode"], "hard");
  EXPECT_EQ(j["accepted"], kImages);
  EXPECT_EQ(j["images"].size(), static_cast<size_t>(kImages));
  EXPECT_EQ(j["images"][0]["fov"], "given");
}

TEST(PseudoLabel, SoftLabelsAre16BitProbabilitiesAndStatisticsMatchTheirDefinitions) {
  Fixture fx("soft");
  const Segmenter seg = tiny_segmenter(fx.data);
  PseudoLabelOptions o;
  o.mode = "soft";
  o.tta = false;
  const fs::path out = fx.dir.path() / "out";
  const auto r = pseudo_label(seg, fx.data, out, o);
  ASSERT_EQ(r.records.size(), static_cast<size_t>(kImages));
  for (size_t i = 0; i < fx.data.samples.size(); ++i) {
    const auto& f = fx.data.samples[i];
    const Image label = read_image(out / "labels" / (f.id + ".png"));
    EXPECT_EQ(label.bit_depth, 16);
    const Sample s = load_sample(f);
    const auto p = expected_prob(seg, f, false);
    EXPECT_LE((label.pixels - p * s.mask).abs().max().item<float>(), 0.51f / 65535) << f.id;
    // confidence = mean |2p - 1| and vessel fraction = share of p >= 0.5, both over FOV pixels.
    const auto pf = p.masked_select(s.mask.gt(0.5)).to(torch::kDouble);
    EXPECT_NEAR(r.records[i].confidence, (2 * pf - 1).abs().mean().item<double>(), 1e-12);
    EXPECT_NEAR(r.records[i].vessel_fraction, pf.ge(0.5).to(torch::kDouble).mean().item<double>(), 1e-12);
  }
}

TEST(PseudoLabel, FiltersRejectLowConfidenceAndImplausibleVesselFractions) {
  Fixture fx("filters");
  const Segmenter seg = tiny_segmenter(fx.data);
  const auto all = pseudo_label(seg, fx.data, fx.dir.path() / "all", PseudoLabelOptions{});
  std::vector<double> conf, frac;
  for (const auto& rec : all.records) conf.push_back(rec.confidence), frac.push_back(rec.vessel_fraction);
  auto sorted = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto sc = sorted(conf), sf = sorted(frac);
  ASSERT_LT(sc[0], sc[1]);  // distinct, so thresholds between them split the images
  ASSERT_LT(sf[kImages - 2], sf[kImages - 1]);

  // Reject the least confident image, and (by fraction) the one with most vessels.
  PseudoLabelOptions o;
  o.min_confidence = (sc[0] + sc[1]) / 2;
  o.max_vessel_fraction = (sf[kImages - 2] + sf[kImages - 1]) / 2;
  const fs::path out = fx.dir.path() / "out";
  const auto r = pseudo_label(seg, fx.data, out, o);
  std::set<std::string> rejected;
  for (size_t i = 0; i < r.records.size(); ++i) {
    const auto& rec = r.records[i];
    const bool low_conf = conf[i] == sc[0], most_vessels = frac[i] == sf[kImages - 1];
    EXPECT_EQ(rec.accepted, !low_conf && !most_vessels) << rec.id;
    if (low_conf) {
      EXPECT_TRUE(contains(rec.reason, "confidence")) << rec.reason;
    } else if (most_vessels) {
      EXPECT_TRUE(contains(rec.reason, "vessel fraction")) << rec.reason;
    }
    if (!rec.accepted) rejected.insert(rec.id);
    for (const char* sub : {"images", "labels", "masks"})
      EXPECT_EQ(fs::exists(out / sub / (rec.id + ".png")), rec.accepted) << sub << " " << rec.id;
  }
  EXPECT_EQ(r.rejected, static_cast<int64_t>(rejected.size()));
  EXPECT_EQ(r.accepted + r.rejected, kImages);
  EXPECT_GE(r.rejected, 1);
  // The folder holds the accepted images only; the json lists the rejected with their reasons.
  EXPECT_EQ(find_dataset(out, "all", "folder").samples.size(), static_cast<size_t>(r.accepted));
  const auto j = nlohmann::json::parse(read_file(out / "pseudo_label.json"));
  int64_t listed_rejected = 0;
  for (const auto& rec : j["images"])
    if (rec["status"] == "rejected") {
      ++listed_rejected;
      EXPECT_TRUE(rejected.count(rec["id"].get<std::string>()));
    }
  EXPECT_EQ(listed_rejected, r.rejected);
}

TEST(PseudoLabel, RerunSkipsFinishedImagesAndRedoesOnlyMissingLabels) {
  Fixture fx("resume");
  const Segmenter seg = tiny_segmenter(fx.data);
  const fs::path out = fx.dir.path() / "out";
  PseudoLabelOptions o;
  o.tta = false;
  const auto first = pseudo_label(seg, fx.data, out, o);
  ASSERT_EQ(first.accepted, kImages);
  const auto stamp = fs::last_write_time(out / "labels" / (fx.data.samples[0].id + ".png"));

  auto again = pseudo_label(seg, fx.data, out, o);
  EXPECT_EQ(again.skipped, kImages);
  EXPECT_EQ(again.accepted + again.rejected, 0);
  EXPECT_EQ(fs::last_write_time(out / "labels" / (fx.data.samples[0].id + ".png")), stamp);
  ASSERT_EQ(again.records.size(), first.records.size());
  EXPECT_EQ(again.records[1].confidence, first.records[1].confidence);  // carried over from the json

  fs::remove(out / "labels" / (fx.data.samples[2].id + ".png"));  // as if killed before this label
  again = pseudo_label(seg, fx.data, out, o);
  EXPECT_EQ(again.skipped, kImages - 1);
  EXPECT_EQ(again.accepted, 1);
  EXPECT_TRUE(fs::exists(out / "labels" / (fx.data.samples[2].id + ".png")));

  // Other options into the same folder would mix two labellings: refused.
  o.mode = "soft";
  const std::string msg = test::user_error([&] { pseudo_label(seg, fx.data, out, o); });
  EXPECT_TRUE(contains(msg, "pseudo_label.json")) << msg;
  EXPECT_TRUE(contains(msg, "new folder")) << msg;
}

TEST(PseudoLabel, RejectedImagesStayRejectedOnRerun) {
  Fixture fx("rerun_rejected");
  const Segmenter seg = tiny_segmenter(fx.data);
  PseudoLabelOptions o;
  o.tta = false;
  o.min_confidence = 1;  // nothing is that sure: all rejected
  const fs::path out = fx.dir.path() / "out";
  EXPECT_EQ(pseudo_label(seg, fx.data, out, o).rejected, kImages);
  const auto again = pseudo_label(seg, fx.data, out, o);
  EXPECT_EQ(again.skipped, kImages);
  EXPECT_EQ(again.rejected, 0);
  for (const auto& rec : again.records) EXPECT_FALSE(rec.accepted);
}

TEST(PseudoLabel, EstimatesTheFovOfPhotographsWithoutMasks) {
  Fixture fx("estimated");
  fs::remove_all(fx.dir.path() / "data/train/masks");
  const DatasetFiles data = find_dataset(fx.dir.path() / "data", "train", "folder");
  ASSERT_TRUE(data.samples[0].mask.empty());
  PseudoLabelOptions o;
  o.tta = false;
  const fs::path out = fx.dir.path() / "out";
  const auto r = pseudo_label(tiny_segmenter(data), data, out, o);
  ASSERT_EQ(r.accepted, kImages);
  PhantomOptions po;
  po.size = 32;
  for (int i = 0; i < kImages; ++i) {
    EXPECT_EQ(r.records[i].fov, "estimated");
    const auto truth = make_phantom(po, phantom_seed(11, i)).mask;
    EXPECT_GT(mask_dice(read_image(out / "masks" / (data.samples[i].id + ".png")).pixels, truth), 0.9);
  }
}

TEST(PseudoLabel, RefusesToWriteIntoTheInputFolder) {
  Fixture fx("same_folder");
  const Segmenter seg = tiny_segmenter(fx.data);
  const std::string msg = test::user_error(
      [&] { pseudo_label(seg, fx.data, fx.dir.path() / "data/train", PseudoLabelOptions{}); });
  EXPECT_TRUE(contains(msg, "overwrite")) << msg;
}

TEST(PseudoLabel, BadOptionsAreOneLineUserErrorsNamingTheField) {
  auto expect_error = [](const PseudoLabelOptions& o, const std::string& field) {
    const std::string msg = test::user_error([&] { validate(o); });
    EXPECT_TRUE(contains(msg, field)) << msg;
    EXPECT_FALSE(contains(msg, "\n")) << msg;
  };
  PseudoLabelOptions o;
  o.mode = "fuzzy";
  expect_error(o, "pseudo_label.mode");
  o = {};
  o.min_confidence = 1.5;
  expect_error(o, "pseudo_label.min_confidence");
  o = {};
  o.min_vessel_fraction = 0.2;
  o.max_vessel_fraction = 0.1;
  expect_error(o, "pseudo_label.max_vessel_fraction");
  o = {};
  o.fov_diameter = -2;
  expect_error(o, "pseudo_label.fov_diameter");
  // JSON round trip and strictness.
  o = {};
  o.mode = "soft";
  o.min_confidence = 0.25;
  const auto back = nlohmann::json(o).get<PseudoLabelOptions>();
  EXPECT_EQ(back.mode, "soft");
  EXPECT_EQ(back.min_confidence, 0.25);
  EXPECT_TRUE(contains(test::user_error([] {
                         nlohmann::json{{"modes", "hard"}}.get<PseudoLabelOptions>();
                       }),
                       "modes"));
}

TEST(VesselFractionRange, IsTheMinAndMaxLabelShareInsideTheFov) {
  Fixture fx("fraction_range");
  double lo = 1, hi = 0;
  for (const auto& f : fx.data.samples) {
    const Sample s = load_sample(f);
    const double frac = (s.label * s.mask).sum().item<double>() / s.mask.sum().item<double>();
    lo = std::min(lo, frac), hi = std::max(hi, frac);
  }
  const auto range = vessel_fraction_range(fx.data);
  EXPECT_DOUBLE_EQ(range.first, lo);
  EXPECT_DOUBLE_EQ(range.second, hi);
  EXPECT_LT(range.first, range.second);
  DatasetFiles unlabelled = fx.data;
  for (auto& s : unlabelled.samples) s.label.clear();
  EXPECT_TRUE(contains(test::user_error([&] { vessel_fraction_range(unlabelled); }), "labels"));
}

}  // namespace vg
