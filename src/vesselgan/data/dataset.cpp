#include "vesselgan/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "vesselgan/core/error.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

const char* const kNoDataSet =
    "expected DRIVE (training/images, training/1st_manual, ...) or a folder layout (images/, labels/, "
    "masks/); or CHASE_DB1 (Image_01L.jpg, Image_01L_1stHO.png), STARE (stare-images/, labels-ah/), HRF "
    "(images/, manual1/, mask/), or a folder of photographs";
const char* const kLayouts = "auto, drive, chase, stare, hrf, folder, photos";

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Image files directly inside `dir` (hidden files skipped), sorted by name.
std::vector<fs::path> image_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code ec_file;
    if (p.filename().string().rfind('.', 0) == 0 || !it->is_regular_file(ec_file) ||
        !has_image_extension(p)) {
      continue;
    }
    out.push_back(p);
  }
  if (ec) throw UserError("cannot list folder " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// How well a file stem names sample `id`: 0 exactly, 1 as id + one of `suffixes`, 2 as "<id>_..." or
// "<id>....", -1 not at all.
int match_rank(const std::string& stem, const std::string& id, const std::vector<std::string>& suffixes) {
  if (stem == id) return 0;
  for (const auto& s : suffixes) {
    if (stem == id + s) return 1;
  }
  if (stem.size() > id.size() + 1 && stem.compare(0, id.size(), id) == 0 &&
      (stem[id.size()] == '_' || stem[id.size()] == '.')) {
    return 2;
  }
  return -1;
}

std::string join_names(const std::vector<fs::path>& files) {
  std::string s;
  for (const auto& f : files) s += (s.empty() ? "" : ", ") + f.filename().string();
  return s;
}

// For each id, the file in `dir` that names it best (empty path when none). A file belongs to the id it
// names best (longest id on ties), so "1_a_label.png" goes to id "1_a", never to id "1". Several files
// naming one id equally well is a UserError.
std::map<std::string, fs::path> match_files(const fs::path& dir, const std::vector<std::string>& ids,
                                            const std::vector<std::string>& suffixes,
                                            const std::string& what) {
  std::map<std::string, fs::path> best;
  if (!is_dir(dir)) return best;
  std::map<std::string, std::pair<int, std::vector<fs::path>>> claims;  // id -> (rank, files)
  for (const auto& file : image_files(dir)) {
    const std::string stem = file.stem().string();
    int owner_rank = -1;
    const std::string* owner = nullptr;
    for (const auto& id : ids) {
      const int r = match_rank(stem, id, suffixes);
      if (r < 0) continue;
      if (owner == nullptr || r < owner_rank || (r == owner_rank && id.size() > owner->size())) {
        owner = &id;
        owner_rank = r;
      }
    }
    if (owner == nullptr) continue;
    auto& claim = claims[*owner];
    if (claim.second.empty() || owner_rank < claim.first) claim = {owner_rank, {}};
    if (owner_rank == claim.first) claim.second.push_back(file);
  }
  for (const auto& [id, claim] : claims) {
    if (claim.second.size() > 1) {
      throw UserError("several " + what + " files for sample " + id + " in " + dir.string() + ": " +
                      join_names(claim.second) + " (keep one)");
    }
    best[id] = claim.second.front();
  }
  return best;
}

std::string leading_number(const std::string& stem) {
  size_t n = 0;
  while (n < stem.size() && std::isdigit(static_cast<unsigned char>(stem[n]))) ++n;
  return n > 0 ? stem.substr(0, n) : stem;
}

// One split folder's samples (folder holds images/ plus the label and mask folders of the layout).
std::vector<SampleFiles> scan_split(const fs::path& folder, bool drive) {
  const fs::path images_dir = folder / "images";
  const std::vector<fs::path> images = image_files(images_dir);
  if (images.empty()) {
    throw UserError("no images in " + images_dir.string() +
                    " (expected .png, .jpg, .tif, .gif or .ppm/.pgm photographs)");
  }
  std::vector<SampleFiles> samples;
  std::map<std::string, fs::path> seen;
  std::vector<std::string> ids;
  for (const auto& image : images) {
    const std::string stem = image.stem().string();
    const std::string id = drive ? leading_number(stem) : stem;
    const auto [it, fresh] = seen.emplace(id, image);
    if (!fresh) {
      throw UserError("two images for sample " + id + " in " + images_dir.string() + ": " +
                      it->second.filename().string() + " and " + image.filename().string() + " (keep one)");
    }
    samples.push_back({id, image, {}, {}});
    ids.push_back(id);
  }
  const fs::path labels_dir = drive ? folder / "1st_manual" : folder / "labels";
  fs::path masks_dir = folder / (drive ? "mask" : "masks");
  if (!drive && !is_dir(masks_dir)) masks_dir = folder / "mask";
  const auto labels = match_files(labels_dir, ids, {"_label", "_manual1"}, "label");
  const auto masks = match_files(masks_dir, ids, {"_mask"}, "mask");
  for (auto& s : samples) {
    if (auto it = labels.find(s.id); it != labels.end()) s.label = it->second;
    if (auto it = masks.find(s.id); it != masks.end()) s.mask = it->second;
  }
  return samples;
}

// The split folders of `root` for `split` that hold images/ ("train" -> training/ or train/, "test" ->
// test/ or testing/). Two spellings of one split both present is ambiguous.
std::vector<fs::path> split_folders(const fs::path& root, const std::string& split) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> names = {
      {"train", {"training", "train"}}, {"test", {"test", "testing"}}};
  std::vector<fs::path> out;
  for (const auto& [name, spellings] : names) {
    if (split != "all" && split != name) continue;
    std::vector<fs::path> found;
    for (const auto& s : spellings) {
      if (is_dir(root / s / "images")) found.push_back(root / s);
    }
    if (found.size() > 1) {
      throw UserError("ambiguous " + name + " split in " + root.string() + ": both " +
                      found[0].filename().string() + "/ and " + found[1].filename().string() +
                      "/ hold images (keep one)");
    }
    if (found.empty() && split != "all") {
      throw UserError("no " + name + " split in " + root.string() + ": expected " + spellings[0] +
                      "/images/ or " + spellings[1] + "/images/");
    }
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

bool any_split_has(const fs::path& root, const std::string& sub) {
  for (const char* s : {"training", "train", "test", "testing"}) {
    if (is_dir(root / s / sub)) return true;
  }
  return false;
}

// ---- the data sets distributed without split folders (CHASE_DB1, STARE, HRF) and plain photographs ----

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The first round(n * num / den) of n sorted samples train, the rest test; at least one on each side
// when n >= 2. Returns the index where the test part starts.
size_t standard_cut(size_t n, size_t num, size_t den) {
  size_t cut = (2 * n * num + den) / (2 * den);  // round(n * num / den)
  if (n >= 2) cut = std::clamp<size_t>(cut, 1, n - 1);
  return std::min(cut, n);
}

// Keeps the train part [0, cut) or the test part [cut, n) of `v` ("all": everything).
std::vector<SampleFiles> take_split(std::vector<SampleFiles> v, size_t cut, const std::string& split) {
  if (split == "train") v.erase(v.begin() + static_cast<std::ptrdiff_t>(cut), v.end());
  if (split == "test") v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cut));
  return v;
}

// One sample per image file in `files`, id = stem (a repeated stem is a UserError naming `dir`).
std::vector<SampleFiles> samples_by_stem(const std::vector<fs::path>& files, const fs::path& dir, bool estimate) {
  std::map<std::string, fs::path> seen;
  std::vector<SampleFiles> out;
  for (const auto& f : files) {
    const std::string id = f.stem().string();
    const auto [it, fresh] = seen.emplace(id, f);
    if (!fresh) {
      throw UserError("two images for sample " + id + " in " + dir.string() + ": " + it->second.filename().string() +
                      " and " + f.filename().string() + " (keep one)");
    }
    SampleFiles s;
    s.id = id;
    s.image = f;
    s.estimate_fov = estimate;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const SampleFiles& a, const SampleFiles& b) { return a.id < b.id; });
  return out;
}

std::vector<std::string> ids_of(const std::vector<SampleFiles>& v) {
  std::vector<std::string> ids;
  for (const auto& s : v) ids.push_back(s.id);
  return ids;
}

bool has_chase_labels(const fs::path& root) {
  for (const auto& f : image_files(root)) {
    if (ends_with(f.stem().string(), "_1stHO")) return true;
  }
  return false;
}

void scan_chase(const fs::path& root, DatasetFiles& d) {
  std::vector<fs::path> images;
  std::map<std::string, fs::path> first_observer;  // id -> label file
  for (const auto& f : image_files(root)) {
    const std::string stem = f.stem().string();
    if (ends_with(stem, "_1stHO")) first_observer[stem.substr(0, stem.size() - 6)] = f;
    else if (!ends_with(stem, "_2ndHO")) images.push_back(f);
  }
  if (images.empty()) {
    throw UserError("no CHASE_DB1 photographs in " + root.string() +
                    " (expected Image_01L.jpg .. Image_14R.jpg next to their Image_01L_1stHO.png labels)");
  }
  std::vector<SampleFiles> all = samples_by_stem(images, root, /*estimate=*/true);
  for (auto& s : all) {
    if (auto it = first_observer.find(s.id); it != first_observer.end()) s.label = it->second;
  }
  const size_t cut = standard_cut(all.size(), 20, 28);
  d.samples = take_split(std::move(all), cut, d.split);
  d.annotation = "1stHO (first human observer)";
  d.split_rule = "CHASE_DB1 standard split: the first " + std::to_string(cut) + " images (by id) train, the other " +
                 std::to_string(images.size() - cut) + " test (20 / 8 of 28)";
}

void scan_stare(const fs::path& root, DatasetFiles& d) {
  const fs::path dir = root / "stare-images", labels_dir = root / "labels-ah";
  const std::vector<fs::path> images = image_files(dir);
  if (images.empty()) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (lower(it->path().extension().string()) == ".gz") {
        throw UserError("STARE photographs in " + dir.string() + " are gzip-compressed (" +
                        it->path().filename().string() + "): run gunzip on stare-images/ and labels-ah/ first");
      }
    }
    throw UserError("no photographs in " + dir.string() + " (expected im0001.ppm ...)");
  }
  std::vector<SampleFiles> all = samples_by_stem(images, dir, /*estimate=*/true);
  if (is_dir(labels_dir)) {
    const auto labels = match_files(labels_dir, ids_of(all), {".ah"}, "label");
    if (labels.empty()) {
      throw UserError("no labels in " + labels_dir.string() + " for the photographs in " + dir.string() +
                      " (expected im0001.ah.ppm ...; gunzip them if they end in .gz)");
    }
    std::vector<SampleFiles> labelled;
    for (auto& s : all) {
      if (auto it = labels.find(s.id); it != labels.end()) {
        s.label = it->second;
        labelled.push_back(std::move(s));
      }
    }
    all = std::move(labelled);
  }
  const size_t n = all.size(), cut = standard_cut(n, 1, 2);
  d.samples = take_split(std::move(all), cut, d.split);
  d.annotation = is_dir(labels_dir) ? "labels-ah (first observer, A. Hoover)" : "";
  d.split_rule = "STARE standard split: the first " + std::to_string(cut) + " labelled images (by id) train, the other " +
                 std::to_string(n - cut) + " test (10 / 10 of 20)";
}

void scan_hrf(const fs::path& root, DatasetFiles& d) {
  const fs::path dir = root / "images";
  const std::vector<fs::path> images = image_files(dir);
  if (images.empty()) throw UserError("no photographs in " + dir.string() + " (expected 01_h.jpg, 01_dr.JPG, 01_g.jpg ...)");
  std::vector<SampleFiles> all = samples_by_stem(images, dir, /*estimate=*/true);
  const auto labels = match_files(root / "manual1", ids_of(all), {}, "label");
  const auto masks = match_files(root / "mask", ids_of(all), {"_mask"}, "mask");
  // Per category (the stem's part after its last '_': h, dr, g), the first third by id train.
  std::map<std::string, std::vector<SampleFiles>> by_category;
  for (auto& s : all) {
    if (auto it = labels.find(s.id); it != labels.end()) s.label = it->second;
    if (auto it = masks.find(s.id); it != masks.end()) s.mask = it->second;
    const size_t us = s.id.rfind('_');
    by_category[lower(us == std::string::npos ? std::string() : s.id.substr(us + 1))].push_back(std::move(s));
  }
  std::string counts;
  for (auto& [category, v] : by_category) {
    const size_t cut = standard_cut(v.size(), 1, 3);
    counts += (counts.empty() ? "" : ", ") + (category.empty() ? std::string("(none)") : category) + " " +
              std::to_string(cut) + "/" + std::to_string(v.size() - cut);
    for (auto& s : take_split(std::move(v), cut, d.split)) d.samples.push_back(std::move(s));
  }
  d.annotation = "manual1";
  d.split_rule = "HRF standard split \"15 / 30\": within each category the first third (by id) train, the rest test (" +
                 counts + " train/test; 5/10 each of 15)";
}

void scan_photos(const fs::path& root, DatasetFiles& d) {
  const std::vector<fs::path> images = image_files(root);
  if (images.empty()) throw UserError("no photographs in " + root.string() + " (expected .jpg, .png, .tif ... files)");
  d.samples = samples_by_stem(images, root, /*estimate=*/true);
  d.split = "all";
  d.split_rule = "a folder of photographs: all of them";
}

}  // namespace

DatasetFiles find_dataset(const fs::path& root, const std::string& split, const std::string& layout) {
  if (split != "train" && split != "test" && split != "all") {
    throw UserError("unknown split '" + split + "' (valid: train, test, all)");
  }
  const std::set<std::string> layouts = {"auto", "drive", "chase", "stare", "hrf", "folder", "photos"};
  if (!layouts.count(layout)) {
    throw UserError("unknown data set layout '" + layout + "' (valid: " + kLayouts + ")");
  }
  if (!is_dir(root)) throw UserError("data set folder " + root.string() + " does not exist");
  const bool drive_here = is_dir(root / "1st_manual") || any_split_has(root, "1st_manual");
  const bool stare_here = is_dir(root / "stare-images");
  const bool hrf_here = is_dir(root / "images") && is_dir(root / "manual1");
  const bool folder_here = is_dir(root / "images") || any_split_has(root, "images");
  const bool photos_here = !image_files(root).empty();
  std::string resolved = layout;
  if (layout == "auto") {
    if (drive_here) resolved = "drive";
    else if (stare_here) resolved = "stare";
    else if (hrf_here) resolved = "hrf";
    else if (has_chase_labels(root)) resolved = "chase";
    else if (folder_here) resolved = "folder";
    else if (photos_here) resolved = "photos";
    else throw UserError("no data set found in " + root.string() + ": " + kNoDataSet);
  } else if (layout == "drive" && !drive_here) {
    throw UserError("no DRIVE data set in " + root.string() +
                    ": expected training/images and training/1st_manual (or test/, testing/, or images/ and "
                    "1st_manual/ directly inside)");
  } else if (layout == "folder" && !folder_here) {
    throw UserError("no folder data set in " + root.string() +
                    ": expected images/ (+ labels/, masks/) directly inside or in train/ and test/ folders");
  } else if (layout == "stare" && !stare_here) {
    throw UserError("no STARE data set in " + root.string() + ": expected stare-images/ (+ labels-ah/)");
  } else if (layout == "hrf" && !is_dir(root / "images")) {
    throw UserError("no HRF data set in " + root.string() + ": expected images/, manual1/ and mask/");
  }

  DatasetFiles d;
  d.layout = resolved;
  d.root = root;
  d.split = split;
  if (resolved == "chase") {
    scan_chase(root, d);
  } else if (resolved == "stare") {
    scan_stare(root, d);
  } else if (resolved == "hrf") {
    scan_hrf(root, d);
  } else if (resolved == "photos") {
    scan_photos(root, d);
  } else {
    const bool drive = resolved == "drive";
    // ROOT is itself one split folder: use it whatever the split.
    const bool single = is_dir(root / "images") && (!drive || is_dir(root / "1st_manual"));
    const std::vector<fs::path> folders = single ? std::vector<fs::path>{root} : split_folders(root, split);
    if (folders.empty()) throw UserError("no data set found in " + root.string() + ": " + kNoDataSet);

    std::vector<std::vector<SampleFiles>> per_folder;
    std::set<std::string> ids;
    bool collision = false;
    for (const auto& folder : folders) {
      per_folder.push_back(scan_split(folder, drive));
      for (const auto& s : per_folder.back()) collision |= !ids.insert(s.id).second;
    }
    for (size_t i = 0; i < folders.size(); ++i) {
      for (auto& s : per_folder[i]) {
        if (collision) s.id = folders[i].filename().string() + "_" + s.id;
        d.samples.push_back(std::move(s));
      }
    }
    d.annotation = drive ? "1st_manual (first observer)" : "labels/";
    d.split_rule = single ? "one split folder: all of it" : "the data set's own " + split + " folder(s)";
  }
  if (d.samples.empty()) {
    throw UserError("the " + split + " split of " + root.string() + " (" + resolved +
                    " layout) holds no images (try --split all)");
  }
  std::sort(d.samples.begin(), d.samples.end(),
            [](const SampleFiles& a, const SampleFiles& b) { return a.id < b.id; });
  if (std::none_of(d.samples.begin(), d.samples.end(), [](const SampleFiles& s) { return !s.label.empty(); }))
    d.annotation.clear();
  return d;
}

Sample load_sample(const SampleFiles& f, LabelValues values) {
  Sample s;
  s.id = f.id;
  torch::Tensor image = read_image(f.image).pixels;
  if (image.size(0) == 1) image = image.repeat({3, 1, 1});
  s.image = image;
  const int64_t h = image.size(1), w = image.size(2);
  auto read_channel = [&](const fs::path& path, const std::string& what, bool binarize) {
    const torch::Tensor x = read_image(path).pixels;
    if (x.size(1) != h || x.size(2) != w) {
      throw UserError(what + " " + path.string() + " is " + std::to_string(x.size(2)) + "x" +
                      std::to_string(x.size(1)) + " but its image " + f.image.string() + " is " +
                      std::to_string(w) + "x" + std::to_string(h) + " (they must have the same size)");
    }
    const torch::Tensor y = x.amax(0, /*keepdim=*/true);
    return binarize ? y.ge(0.5).to(torch::kFloat) : y.to(torch::kFloat);
  };
  if (!f.label.empty()) s.label = read_channel(f.label, "label", values == LabelValues::binary);
  if (!f.mask.empty()) {
    s.mask = read_channel(f.mask, "mask", true);
    s.has_mask = true;
  } else if (f.estimate_fov) {
    s.mask = estimate_fov(image);
    s.mask_estimated = true;
  } else {
    s.mask = torch::ones({1, h, w});
  }
  return s;
}

std::vector<Sample> load_samples(const DatasetFiles& d, bool require_labels, LabelValues values) {
  if (require_labels) {
    for (const auto& f : d.samples) {
      if (f.label.empty()) {
        throw UserError("no label for image " + f.image.string() + " (expected a file named " + f.id +
                        ".png or " + f.id + "_label.png in labels/, or " + f.id +
                        "_manual1.gif in 1st_manual/)");
      }
    }
  }
  std::vector<Sample> samples;
  samples.reserve(d.samples.size());
  for (const auto& f : d.samples) samples.push_back(load_sample(f, values));
  return samples;
}

fs::path find_file_for_id(const fs::path& dir, const std::string& id) {
  if (!is_dir(dir))
    throw UserError("cannot look up sample " + id + ": folder " + dir.string() + " does not exist");
  // Ranks: the id itself, id_prob, a longer stem ending in _prob (what `segment` writes for a photograph
  // named "01_test.tif": 01_test_prob.png beside its _mask, _overlay and _fov files), any longer stem.
  auto ends_with_prob = [](const std::string& stem) {
    return stem.size() >= 5 && stem.compare(stem.size() - 5, 5, "_prob") == 0;
  };
  int best_rank = 4;
  std::vector<fs::path> best;
  for (const auto& file : image_files(dir)) {
    const std::string stem = file.stem().string();
    int r = match_rank(stem, id, {"_prob"});
    if (r == 2 && !ends_with_prob(stem)) r = 3;
    if (r < 0 || r > best_rank) continue;
    if (r < best_rank) best.clear();
    best_rank = r;
    best.push_back(file);
  }
  if (best.empty()) {
    throw UserError("no file for sample " + id + " in " + dir.string() + " (expected " + id + ".png, " + id +
                    "_prob.png or " + id + "_<anything>.png; any image format)");
  }
  if (best.size() > 1) {
    throw UserError("several files for sample " + id + " in " + dir.string() + ": " + join_names(best) +
                    " (keep one)");
  }
  return best.front();
}

}  // namespace vg
