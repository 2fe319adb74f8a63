#include "vesselgan/pipeline/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/data/preprocess.h"
#include "vesselgan/data/split.h"
#include "vesselgan/dist/data_parallel.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_metrics.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/painter_trainer.h"
#include "vesselgan/gan/image_grid.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/gan/whole_photograph.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/pipeline/curriculum.h"
#include "vesselgan/pipeline/error_map.h"
#include "vesselgan/pipeline/pipeline_report.h"
#include "vesselgan/pipeline/synthetic_guard.h"
#include "vesselgan/gan/label_consistency.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/ensemble.h"
#include "vesselgan/seg/pseudo_label.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

DatasetFiles subset(const DatasetFiles& d, const std::vector<int64_t>& idx) {
  DatasetFiles out = d;
  out.samples.clear();
  for (auto i : idx) out.samples.push_back(d.samples[static_cast<size_t>(i)]);
  return out;
}

nlohmann::json ids_of(const DatasetFiles& d) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& s : d.samples) ids.push_back(s.id);
  return ids;
}

void write_probs(const fs::path& dir, const std::vector<EvalItem>& items) {
  fs::create_directories(dir);
  for (const auto& it : items)
    write_png(dir / (it.id + ".png"), it.prob.reshape({1, it.prob.size(-2), it.prob.size(-1)}), 16);
}

// The report's grid of synthetic data: for each label route (name, labelled folder), a row of its first 8
// images and a row of their labels. A route whose images differ in number or size from the first route's is
// left out (the self route's are whole photographs). Returns the caption, or "" when nothing was written.
std::string write_synthetic_grid(const fs::path& path, const std::vector<std::pair<std::string, fs::path>>& routes) {
  std::vector<torch::Tensor> rows;
  std::string names;
  int64_t per_row = 0;
  for (const auto& [route, root] : routes) {
    const DatasetFiles syn = find_dataset(root, "all", "folder");
    std::vector<torch::Tensor> imgs, labs;
    for (size_t i = 0; i < syn.samples.size() && i < 8; ++i) {
      const Sample s = load_sample(syn.samples[i]);
      imgs.push_back(s.image.mul(2).sub(1));
      labs.push_back(s.label.expand({3, -1, -1}).mul(2).sub(1));
    }
    const bool fits = rows.empty() || (static_cast<int64_t>(imgs.size()) == per_row &&
                                       imgs.front().sizes() == rows.front().sizes());
    if (imgs.empty() || !fits) continue;
    per_row = static_cast<int64_t>(imgs.size());
    rows.insert(rows.end(), imgs.begin(), imgs.end());
    rows.insert(rows.end(), labs.begin(), labs.end());
    names += (names.empty() ? "" : ", ") + route;
  }
  if (rows.empty()) return "";
  write_png(path, image_grid(torch::stack(rows), per_row), 8);
  return "Two rows per label route (" + names + ", top to bottom): the route's first images, then the labels it trains on; each " +
         std::to_string(rows.front().size(-1)) + " x " + std::to_string(rows.front().size(-2)) + " px.";
}

// A model to score: baseline, retrained variant, or ensemble.
struct Candidate {
  std::string name, row, kind;
  uint64_t seed = 0;
  fs::path checkpoint;  // empty for ensembles
  double val_score = 0;
};

// --from / --stop-after name a stage or a family of them ("retrain", "retrain/syn-real_aug_n50_s0"), or
// "report" (always rebuilt from the saved predictions); a name of no family would silently select nothing.
void check_stage_selector(const std::string& flag, const std::string& name) {
  if (name.empty()) return;
  static const std::vector<std::string> families = {
      "data",    "seg-real", "gan",      "generate",    "label-consistency", "pseudo-label", "check-synthetic",
      "retrain", "predict",  "ensemble", "gan-metrics", "report"};
  const std::string first = name.substr(0, name.find('/'));
  const bool iterate = first.rfind("iterate-", 0) == 0 && first.size() > 8;
  if (iterate || std::find(families.begin(), families.end(), first) != families.end()) return;
  std::string valid;
  for (const auto& f : families) valid += (valid.empty() ? "" : ", ") + f;
  throw UserError(flag + " " + name + ": no such stage (valid: " + valid +
                  ", iterate-N, or one of their stages such as retrain/<variant>; see RUN/*/manifest.json)");
}

// The figures of the synthetic-set guard (synthetic_guard.h) for one label route of this run's synthetic images.
// drawn_f1: the generator's label consistency with model A (the "label-consistency" stage), < 0 when it draws
// no labels.
SyntheticSetCheck check_synthetic_set(const PipelineConfig& c, const std::string& route, const nlohmann::json& gan_out,
                                      const GanTrainOptions& gan_options, const std::vector<Sample>& real,
                                      const std::vector<Sample>& synthetic, const fs::path& labelled_root,
                                      double drawn_f1) {
  SyntheticSetCheck check;
  check.what = "synthetic labels of " + labelled_root.string();
  // The guard asks whether a generator draws vessels; self-training has no generator (its labels are model
  // A's reading of real photographs), so its figure is reported, not enforced.
  check.check_fraction = c.guard_vessel_fraction && route != "self";
  double bias = gan_options.patch_vessel_bias;
  const LoadedGenerator g = load_generator(gan_out.at("checkpoint").get<std::string>(), torch::kCPU);
  if (g.maps == "procedural" && g.painter) bias = g.procedural.vessel_bias;
  // Whole real photographs, compared with whole photographs (self-training's, or whole synthetic ones).
  const bool whole = route == "self" || c.synthetic == "whole";
  if (whole) bias = 0;
  const int64_t crop = !whole && is_patch_mode(gan_options) ? gan_options.resolution : 0;
  const auto [lo, hi] = real_vessel_fraction_range(real, crop, bias);
  check.real_min = lo;
  check.real_max = hi;
  char view[128];
  if (crop > 0)
    std::snprintf(view, sizeof view, "%lld px crops inside the FOV, drawn toward vessels with bias %.2f",
                  static_cast<long long>(crop), bias);
  else
    std::snprintf(view, sizeof view, "whole photographs, inside the FOV");
  check.real_view = view;
  check.fraction_mean = fraction_stats(vessel_fractions(synthetic)).mean;
  // A generator that draws labels: do its images show them? Enforced only where its labels train.
  if (route != "self" && drawn_f1 >= 0) {
    check.min_label_f1 = route == "gan" ? c.min_label_f1 : 0;
    check.label_f1 = drawn_f1;
  }
  return check;
}

// The variant row with the highest mean validation score over its seeds: chosen on validation, never on the
// evaluation split. "" when there is no variant.
std::string best_variant_row(const std::vector<Candidate>& models) {
  std::map<std::string, std::pair<double, int>> sums;
  for (const auto& m : models) {
    if (m.kind != "variant") continue;
    sums[m.row].first += m.val_score;
    sums[m.row].second += 1;
  }
  std::string best;
  double best_mean = -1e300;
  for (const auto& [row, sum] : sums) {
    const double mean = sum.first / sum.second;
    if (mean > best_mean) {
      best_mean = mean;
      best = row;
    }
  }
  return best;
}

// report/comparison.png: the first three evaluation photographs (by id, not chosen), each beside model A's
// and the best variant's errors (error_map.h), both of seed `seed`.
void write_comparison(const DatasetFiles& test_files, const std::vector<Candidate>& models, uint64_t seed,
                      const StageRunner& st, const fs::path& report_dir, PipelineReport& rep) {
  const std::string row = best_variant_row(models);
  const Candidate* best = nullptr;
  for (const auto& m : models)
    if (m.kind == "variant" && m.row == row && m.seed == seed) best = &m;
  if (best == nullptr) return;
  const auto base = load_predictions(test_files, st.dir("predict/seg-real/s" + std::to_string(seed)) / "eval");
  const auto other = load_predictions(test_files, st.dir("predict/" + best->name) / "eval");
  std::vector<torch::Tensor> tiles;
  int64_t H = 0, W = 0;
  for (size_t i = 0; i < test_files.samples.size() && i < 3; ++i) {
    const Sample s = load_sample(test_files.samples[i]);
    for (const auto& t : {s.image, error_map(base[i].prob, s.label, s.mask), error_map(other[i].prob, s.label, s.mask)}) {
      tiles.push_back(t);
      H = std::max(H, t.size(1));
      W = std::max(W, t.size(2));
    }
  }
  for (auto& t : tiles) t = pad_center(t, H, W).mul(2).sub(1);
  write_png(report_dir / "comparison.png", image_grid(torch::stack(tiles), 3), 8);
  rep.comparison_grid = report_dir / "comparison.png";
  rep.comparison_caption = "Evaluation photographs " + test_files.samples.front().id +
                           " and the next two by id (left), the errors of model A (middle) and of " + best->row +
                           " (right; the variant with the best mean validation score), both seed " +
                           std::to_string(seed) + ", at threshold 0.5 inside the FOV: white = vessel found, blue = "
                           "vessel missed, red = false vessel, black = background, gray = outside the FOV.";
}

// One label route's labelled set, as the retraining stages read it.
struct LabelledSet {
  nlohmann::json out;
  fs::path root;
  LabelValues values = LabelValues::binary;
  std::vector<Sample> samples;  // read only when a retraining stage runs: a cached rerun never loads them
  const std::vector<Sample>& get() {
    if (samples.empty()) samples = load_samples(find_dataset(root, "all", "folder"), true, values);
    return samples;
  }
};

// One pass of labelling and retraining: the first is plain, the others' stages are iterate-<n>/..., their
// report rows "iteration <n>: ..." and their notes "... (iteration <n>)".
struct Iteration {
  explicit Iteration(int64_t n)
      : number(n),
        prefix(n == 1 ? "" : "iterate-" + std::to_string(n) + "/"),
        row_prefix(n == 1 ? "" : "iteration " + std::to_string(n) + ": "),
        note(n > 1 ? " (iteration " + std::to_string(n) + ")" : std::string()) {}
  int64_t number;
  std::string prefix, row_prefix, note;
};

// One call of run_pipeline: the config, the stage runner, and what each step hands on to the later ones.
// run_pipeline calls the steps in order; each runs its stages through stage() (cached, resumable).
class PipelineRun {
 public:
  PipelineRun(const PipelineConfig& config, const fs::path& run_dir_in, const torch::Device& device_in,
              const PipelineRunOptions& run, const ProgressFn& progress_in, const Collective& world_in)
      : c(config),
        run_dir(run_dir_in),
        device(device_in),
        progress(progress_in),
        world(world_in),
        st(run_dir_in, run.from_stage, run.stop_after, world_in) {}

  const std::vector<StageRecord>& records() const { return st.records(); }

  // 1. Data: the phantom data set (when the config names none) or the given one, split into training,
  // validation and (few-label regime) unlabelled photographs.
  void prepare_data() {
    nlohmann::json data_in = {{"data", c.data}, {"layout", c.layout}};
    if (c.data.empty()) data_in["phantom"] = {c.phantom_train, c.phantom_test, c.phantom_size};
    const auto data_out = stage("data", data_in, [&](const fs::path& dir) -> nlohmann::json {
      if (c.data.empty()) {
        PhantomOptions po;
        po.size = c.phantom_size;
        write_phantom_dataset(dir, static_cast<int>(c.phantom_train), static_cast<int>(c.phantom_test), po,
                              1);
        return {{"root", dir.string()}, {"layout", "folder"}};
      }
      const auto d = find_dataset(c.data, "train", c.layout);
      return {{"root", c.data}, {"layout", d.layout}};
    });
    const std::string root = data_out.at("root"), layout = data_out.at("layout");
    const DatasetFiles train_files = find_dataset(root, "train", layout);
    test_files = find_dataset(root, c.eval_split, layout);
    const SplitIndices split =
        split_train_val(static_cast<int64_t>(train_files.samples.size()), c.seg.val_count,
                        effective_split_seed(c.seg));
    real_files = subset(train_files, split.train);
    val_files = subset(train_files, split.val);
    split_off_unlabelled();
    real = load_samples(real_files, true);
    val = load_samples(val_files, true);
    data_key = {{"data", data_out}, {"train_ids", ids_of(real_files)}, {"val_ids", ids_of(val_files)}};
    if (c.labelled > 0) data_key["unlabelled_ids"] = ids_of(unlabelled_files);
  }

  // 2. Model A per seed (the baseline).
  void train_baselines() {
    for (auto seed : c.seeds) {
      const TrainOptions o = baseline_options(c, seed);
      const std::string name = "seg-real/s" + std::to_string(seed);
      const auto out =
          stage(
              name, {{"data", data_key}, {"seg", o}},
              [&](const fs::path& dir) -> nlohmann::json {
                const auto r = train_sa_unet(real, val, o, dir, device, /*resume=*/true, progress, world);
                return {{"best", r.best.string()}, {"best_score", r.best_score}};
              },
              StageRanks::all);
      model_a[seed] = out.at("best").get<std::string>();
      models.push_back(
          {name, "baseline (model A)", "baseline", seed, model_a[seed], out.at("best_score").get<double>()});
    }
  }

  // 3. GAN on the real training images (validation images stay out of every training set), or a given one.
  void obtain_generator() {
    gan_options = c.gan;  // the options of the generator that samples: its mode and crop size
    if (!c.gan_model.empty())
      use_given_generator();
    else if (c.gan_route == "painter")
      train_painter_generator();
    else
      train_stylegan2();
    if (has_labels(c, "gan") && !learns_labels(gan_options))
      throw UserError("pipeline.labels \"gan\": " + gan_out.at("checkpoint").get<std::string>() + " is a '" +
                      gan_options.mode + "' generator and draws no vessel maps (use labels \"model\")");
  }

  // 4. Synthetic images (patches, or whole photographs of the real photographs' size): the largest N once;
  // smaller N are its prefixes.
  void generate_synthetic() {
    GenerateOptions go;
    go.count = max_synthetic(c);
    go.truncation = c.truncation;
    go.seed = c.generate_seed;
    nlohmann::json key = {{"gan", gan_out}, {"count", go.count}, {"truncation", go.truncation}, {"seed", go.seed}};
    const WholeOptions w = whole_synthetic() ? whole_options() : WholeOptions{};
    if (whole_synthetic())
      key["whole"] = {{"width", w.width}, {"height", w.height}, {"trees", w.trees}, {"shading", w.shading},
                      {"texture", w.texture}, {"appearance", w.appearance}};
    gen_out = stage("generate", key, [&](const fs::path& dir) -> nlohmann::json {
      const auto g = load_generator(gan_out.at("checkpoint").get<std::string>(), device);
      if (whole_synthetic())
        generate_whole(g, dir, w, device, progress);
      else
        generate_images(g, dir, go, device, progress);
      return {{"root", dir.string()}, {"count", go.count}};
    });
    gen_root = gen_out.at("root").get<std::string>();
  }

  bool whole_synthetic() const { return c.synthetic == "whole"; }

  // Whole synthetic photographs: as many as the largest N, of the first real training photograph's size.
  WholeOptions whole_options() const {
    WholeOptions w;
    w.height = real.front().image.size(1);
    w.width = real.front().image.size(2);
    w.count = max_synthetic(c);
    w.seed = c.generate_seed;
    w.appearance = c.appearance;
    return w;
  }

  // Do the generator's images show the labels it drew? Measured once with model A (first seed), and read
  // by the guard of every label route and iteration.
  void measure_label_consistency() {
    if (!learns_labels(gan_options)) return;
    const fs::path judge = model_a.at(c.seeds.front());
    drawn_f1 = stage("label-consistency", {{"generate", gen_out}, {"model_a", judge.string()}},
                     [&](const fs::path&) -> nlohmann::json {
                       const auto drawn = load_samples(find_dataset(gen_root, "all", "folder"), true);
                       const LabelConsistency lc = label_consistency(Segmenter::load(judge, device), drawn);
                       return {{"f1", lc.f1}, {"precision", lc.precision}, {"recall", lc.recall}};
                     })
                   .at("f1")
                   .get<double>();
  }

  // 5-6. Labels (each route of c.labels) and retraining, iterated: later iterations label with the best
  // retrained model so far.
  void label_and_retrain() {
    labeller = model_a.at(c.seeds.front());
    for (int64_t n = 1; n <= c.iterations; ++n) {
      const Iteration it(n);
      std::map<std::string, LabelledSet> sets = label_routes(it);
      retrain_variants(it, sets);
    }
  }

  // 7. Predictions of every trained model on the validation and evaluation images (cached as 16-bit PNGs).
  void predict_all() {
    for (const auto& m : models) {
      stage("predict/" + m.name,
            {{"model", m.checkpoint.string()}, {"val_ids", ids_of(val_files)}, {"eval", ids_of(test_files)}},
            [&](const fs::path& dir) -> nlohmann::json {
              const Segmenter seg = Segmenter::load(m.checkpoint, device);
              PredictOptions popt;
              popt.fov_diameter = seg.resolve_fov_diameter(-1);
              write_probs(dir / "val", predict_dataset(seg, val_files, popt, progress));
              write_probs(dir / "eval", predict_dataset(seg, test_files, popt, progress));
              return {{"dir", dir.string()}};
            });
    }
  }

  // 8. Ensembles: model A + each retrained model of the same seed; weights chosen on validation. The
  // control pairs model A with model A of the next seed: two models average away some of each other's
  // errors, so a gain from the synthetic data must beat this one to count.
  void build_ensembles() {
    for (const auto& m : models) {
      if (m.kind != "variant") continue;
      const std::string a_name = "seg-real/s" + std::to_string(m.seed);
      const std::string name =
          "ensemble/" + m.name.substr(m.name.find("retrain/") + 8) +
          (m.name.rfind("iterate-", 0) == 0 ? "-" + m.name.substr(0, m.name.find('/')) : "");
      ensemble_stage(name, a_name, model_a.at(m.seed), m.name, m.checkpoint);
      ensembles.push_back({name, "ensemble: A + " + m.row, "ensemble", m.seed, {}, 0});
    }
    if (c.seeds.size() >= 2) {
      // Each pair once: with two seeds, (s1, s0) would be (s0, s1) again and pass for a second seed.
      std::set<std::pair<uint64_t, uint64_t>> pairs;
      for (size_t i = 0; i < c.seeds.size(); ++i) {
        const uint64_t sa = c.seeds[i], sb = c.seeds[(i + 1) % c.seeds.size()];
        if (sa == sb || !pairs.insert(std::minmax(sa, sb)).second) continue;
        const std::string a_name = "seg-real/s" + std::to_string(sa);
        const std::string b_name = "seg-real/s" + std::to_string(sb);
        const std::string name = "ensemble/control_a-a_s" + std::to_string(sa);
        ensemble_stage(name, a_name, model_a.at(sa), b_name, model_a.at(sb));
        ensembles.push_back({name, "control: A + A of another seed", "ensemble", sa, {}, 0});
      }
    }
  }

  // 9. The GAN against the photographs it learned (the training split without the validation images), as it
  // saw them (fitted to its square, or crops inside the FOV), in two feature spaces (named in the report).
  void measure_gan() {
    gm_out =
        stage("gan-metrics",
              {{"generate", gen_out}, {"real_ids", data_key.at("train_ids")}, {"model_a", model_a.at(c.seeds.front()).string()}},
              [&](const fs::path&) -> nlohmann::json {
                const DatasetFiles fake_files = find_dataset(gen_root, "all", "folder");
                std::vector<torch::Tensor> fake_images;
                for (const auto& f : fake_files.samples) fake_images.push_back(load_sample(f).image);
                const torch::Tensor fake = torch::stack(fake_images);
                const torch::Tensor reals = whole_synthetic() ? real_photographs_at(fake.size(2), fake.size(3))
                                                              : real_views(real, gan_options, fake.size(0), c.generate_seed + 1);
                nlohmann::json all = nlohmann::json::array();
                for (const std::string& f :
                     {std::string("color-stats"), "sa-unet:" + model_a.at(c.seeds.front()).string()}) {
                  GanMetricsOptions o;
                  o.features = f;
                  o.kid_subset_size = 100;
                  auto net = make_feature_network(f, device);
                  all.push_back(compute_gan_metrics(reals, fake, *net, o));
                }
                return {{"metrics", all}};
              });
  }

  // The real training photographs at the whole synthetic photographs' size, [N, 3, H, W].
  torch::Tensor real_photographs_at(int64_t height, int64_t width) const {
    std::vector<torch::Tensor> out;
    for (const auto& s : real) out.push_back(resize_to(s.image, height, width).clamp(0, 1));
    return torch::stack(out);
  }

  // 10. Scores and report (recomputed from the saved predictions: cheap, always fresh).
  void write_report(PipelineResult& result) {
    PipelineReport rep;
    rep.title = "vesselgan pipeline: " + fs::absolute(run_dir).filename().string();
    rep.config = c;
    const EvalProtocol proto = describe_protocol(test_files);
    rep.protocol = proto.data + "; " + proto.split + "; ground truth " + proto.annotation + "; FOV " +
                   proto.fov + "; each model at its training scale (FOV diameter), threshold 0.5";
    rep.machine = device.str() + ", " + std::to_string(at::get_num_threads()) + " threads";
    score_all(rep);
    for (const auto& g : gm_out.at("metrics")) rep.gan_metrics.push_back(g);
    rep.notes = notes;
    rep.phantom_data = c.data.empty();  // phantoms (prepare_data): the report opens with why a gain is circular

    const fs::path report_dir = run_dir / "report";
    fs::create_directories(report_dir);
    rep.synthetic_caption = write_synthetic_grid(report_dir / "synthetic.png", labelled_roots);
    if (!rep.synthetic_caption.empty() && whole_synthetic())
      rep.synthetic_caption += " These are the whole synthetic photographs the curricula train on.";
    else if (!rep.synthetic_caption.empty() && is_patch_mode(gan_options))
      rep.synthetic_caption += " The generator draws crops of " + std::to_string(gan_options.resolution) +
                               " px, as it learnt them: these are crops, not whole synthetic photographs.";
    if (!rep.synthetic_caption.empty()) rep.synthetic_grid = report_dir / "synthetic.png";
    rep.whole_caption = write_whole_grid(report_dir / "whole.png");
    if (!rep.whole_caption.empty()) rep.whole_grid = report_dir / "whole.png";
    write_comparison(test_files, models, c.seeds.front(), st, report_dir, rep);
    rep.stages = st.records();
    result.report_markdown = write_pipeline_report(report_dir, rep);
    result.report_dir = report_dir;
    result.finished = true;
  }

 private:
  void say(const std::string& msg) const {
    if (!progress) return;
    Progress p;
    p.stage = "pipeline";
    p.message = msg;
    progress(p);
  }

  // A label-first generator's whole photographs (gan/whole_photograph.h) at the size of the evaluation
  // photographs, four above their labels; the caption, or "" for a generator without a painter.
  std::string write_whole_grid(const fs::path& path) const {
    const LoadedGenerator g = load_generator(gan_out.at("checkpoint").get<std::string>(), torch::kCPU);
    if (!g.painter) return "";
    const torch::Tensor first = load_sample(test_files.samples.front()).image;
    WholeOptions w;
    w.height = first.size(1);
    w.width = first.size(2);
    w.seed = c.generate_seed;
    std::vector<torch::Tensor> photos, labels;
    for (int64_t i = 0; i < 4; ++i) {
      const WholePhotograph p = paint_whole(g, i, w, torch::kCPU);
      photos.push_back(p.image.mul(2).sub(1));
      labels.push_back(p.label.expand({3, -1, -1}).mul(2).sub(1));
    }
    photos.insert(photos.end(), labels.begin(), labels.end());
    write_png(path, image_grid(torch::stack(photos), 4), 8);
    return "The generator's whole photographs (`gan generate --whole`: a procedural whole tree painted by its "
           "painter, shaded with fall-off, macula and disc), above their exact labels; " +
           std::to_string(w.width) + " x " + std::to_string(w.height) +
           (whole_synthetic() ? " px. The curricula above train on such whole photographs (the generate stage's)."
                              : " px. The curricula above train on the generator's crops, not on these.");
  }

  // Runs (or skips, when cached) one stage, saying which; `ranks`: who runs its body in a job (stage_runner.h).
  nlohmann::json stage(const std::string& name, const nlohmann::json& inputs, const StageRunner::Body& body,
                       StageRanks ranks = StageRanks::main) {
    auto out = st.run(
        name, inputs,
        [&](const fs::path& dir) {
          say(name + ": running");
          return body(dir);
        },
        ranks);
    if (st.records().back().cached) say(name + ": cached");
    return out;
  }

  // 3a. A given generator file (or the shipped one): its own options; its size joins the later stages' keys.
  void use_given_generator() {
    const fs::path given = c.gan_model == "shipped" ? shipped_model(kShippedGenerator) : fs::path(c.gan_model);
    const LoadedGenerator probe = load_generator(given, torch::kCPU);  // one line for a missing or wrong file
    gan_options = probe.options;
    // Its size in the key of the later stages: a replaced file regenerates the images.
    gan_out = {{"checkpoint", fs::absolute(probe.path).string()},
               {"given", true},
               {"bytes", static_cast<int64_t>(fs::file_size(probe.path))}};
  }

  // 3b. The painter route: a procedural painter fitted to the real images, exported as a generator file.
  void train_painter_generator() {
    gan_out = stage(
        "gan", {{"data", data_key}, {"route", "painter"}, {"painter", c.painter}, {"maps", c.maps}},
        [&](const fs::path& dir) -> nlohmann::json {
          PainterRunControl ctl;
          ctl.resume = fs::exists(dir / "painter" / "checkpoints" / "last.pt");
          const auto r = train_painter(real, c.painter, dir / "painter", device, ctl, progress, world);
          const fs::path file = dir / "generator.pt";
          if (world.is_main()) export_procedural_generator(dir / "painter", c.painter.resolution, c.maps, file);
          return {{"checkpoint", file.string()}, {"painter", (dir / "painter").string()},
                  {"steps", r.steps_done}, {"l1", r.l1}, {"sec_per_step", r.sec_per_step}};
        },
        StageRanks::all);
    gan_options = load_generator(gan_out.at("checkpoint").get<std::string>(), torch::kCPU).options;
  }

  // 3c. StyleGAN2-ADA trained on the real images, from scratch or from the networks of c.gan_init.
  void train_stylegan2() {
    nlohmann::json gan_in = {{"data", data_key}, {"gan", c.gan}};
    if (!c.gan_init.empty()) {
      if (!fs::exists(c.gan_init))
        throw UserError("pipeline.gan_init: " + c.gan_init +
                        " does not exist (give a GAN run checkpoint or generator file, or \"\")");
      gan_options = with_networks_of(c.gan_init, c.gan);
      gan_in["gan"] = gan_options;
      gan_in["init"] = {{"path", fs::absolute(c.gan_init).string()},
                        {"bytes", static_cast<int64_t>(fs::file_size(c.gan_init))}};
    }
    gan_out = stage(
        "gan", gan_in,
        [&](const fs::path& dir) -> nlohmann::json {
          GanRunControl ctl;
          if (fs::exists(dir / "checkpoints" / "last.pt")) ctl.resume_from = dir;
          ctl.init_from = c.gan_init;
          const auto r = train_gan(real, gan_options, dir, device, ctl, progress, world);
          return {{"checkpoint", r.last.string()}, {"kimg", r.kimg_done}, {"sec_per_kimg", r.sec_per_kimg}};
        },
        StageRanks::all);
  }

  // The few-label regime: `labelled` of the training photographs keep their labels (seeded), the others
  // are unlabelled photographs (self-training's material).
  void split_off_unlabelled() {
    unlabelled_files = real_files;
    unlabelled_files.samples.clear();
    if (c.labelled > 0) {
      const auto n = static_cast<int64_t>(real_files.samples.size());
      if (c.labelled >= n)
        throw UserError("pipeline.labelled = " + std::to_string(c.labelled) + " is not valid (valid: 0 for all, or 1.." +
                        std::to_string(n - 1) + ": the training split holds " + std::to_string(n) +
                        " photographs after validation)");
      const SplitIndices few = split_train_val(n, n - c.labelled, effective_split_seed(c.seg) + 1);
      unlabelled_files = subset(real_files, few.val);
      real_files = subset(real_files, few.train);
    }
  }

  // 5. Each route of c.labels: its labelled set, then the synthetic-set guard's check of it.
  std::map<std::string, LabelledSet> label_routes(const Iteration& it) {
    std::map<std::string, LabelledSet> sets;
    for (const auto& route : c.labels) {
      LabelledSet& set = sets[route];
      label_route(route, it, set);
      set.root = set.out.at("root").get<std::string>();
      if (it.number == 1) labelled_roots.emplace_back(route, set.root);
      check_synthetic(route, it, set);
    }
    return sets;
  }

  // One route's labels: the generator's own ("gan"), the labeller's of the unlabelled training photographs
  // ("self"), or the labeller's of the synthetic images ("model").
  void label_route(const std::string& route, const Iteration& it, LabelledSet& set) {
    auto counts = [](const nlohmann::json& out) {
      return std::to_string(out.value("accepted", 0)) + " of " + std::to_string(out.value("images", 0));
    };
    if (route == "gan") {
      set.out = {{"root", gen_root.string()}, {"source", "gan"}};
    } else if (route == "self") {
      set.out = pseudo_label_stage(it, "pseudo-label-self",
                                   {{"images", ids_of(unlabelled_files)}, {"data", data_key}}, unlabelled_files,
                                   "self", set);
      notes += "Self-training" + it.note + ": " + counts(set.out) +
               " unlabelled training photographs accepted by the filters, labelled by " + labeller.string() +
               ". ";
    } else {
      set.out = pseudo_label_stage(it, "pseudo-label", {{"images", gen_out}},
                                   find_dataset(gen_root, "all", "folder"), "model", set);
      notes += "Pseudo-labels" + it.note + ": " + counts(set.out) +
               " synthetic images accepted by the filters, labelled by " + labeller.string() + ". ";
    }
  }

  // The labeller's labels of `images` in stage `name` (its inputs `key`), as a folder data set.
  nlohmann::json pseudo_label_stage(const Iteration& it, const std::string& name, nlohmann::json key,
                                    const DatasetFiles& images, const std::string& source, LabelledSet& set) {
    key["model"] = labeller.string();
    key["options"] = c.pseudo_label;
    set.values = c.pseudo_label.mode == "soft" ? LabelValues::probability : LabelValues::binary;
    return stage(it.prefix + name, key, [&](const fs::path& dir) -> nlohmann::json {
      const Segmenter seg = Segmenter::load(labeller, device);
      const auto r = pseudo_label(seg, images, dir, c.pseudo_label, progress);
      int64_t accepted = 0;
      for (const auto& rec : r.records) accepted += rec.accepted ? 1 : 0;
      return {{"root", dir.string()},
              {"source", source},
              {"accepted", accepted},
              {"images", static_cast<int64_t>(r.records.size())}};
    });
  }

  // The synthetic-set guard (synthetic_guard.h) on one route's labelled set: UserError when it fails; its
  // summary joins the report's notes.
  void check_synthetic(const std::string& route, const Iteration& it, LabelledSet& set) {
    const auto check_out = stage(
        it.prefix + "check-synthetic/" + route,
        {{"labels", set.out}, {"data", data_key}, {"guard", c.guard_vessel_fraction},
         {"min_label_f1", c.min_label_f1}, {"label_f1", drawn_f1}},
        [&](const fs::path&) -> nlohmann::json {
          const SyntheticSetCheck check =
              check_synthetic_set(c, route, gan_out, gan_options, real, set.get(), set.root, drawn_f1);
          return {{"check", check}, {"summary", enforce(check)}};
        });
    notes += std::string(route == "gan"    ? "The generator's own labels"
                         : route == "self" ? "Self-training labels"
                                           : "Pseudo-labels") +
             it.note + ": " +
             check_out.at("summary").get<std::string>() + ". ";
  }

  // 6. Every variant of the grid retrained on its route's labelled set; the best on validation labels the
  // next iteration.
  void retrain_variants(const Iteration& it, std::map<std::string, LabelledSet>& sets) {
    double best_val = -1e300;
    for (const auto& v : expand_grid(c)) {
      LabelledSet& set = sets.at(v.labels);
      const std::string name = it.prefix + "retrain/" + v.name();
      const nlohmann::json in = {
          {"variant", {{"order", v.order}, {"augment", v.augment}, {"n", v.n_synthetic}, {"seed", v.seed}}},
          {"data", data_key},
          {"seg", c.seg},
          {"synthetic_epochs", c.synthetic_epochs},
          {"mixed_real_fraction", c.mixed_real_fraction},
          {"init", c.init},
          {"model_a", model_a.at(v.seed).string()},
          {"labels", set.out}};
      const auto out = stage(
          name, in,
          [&](const fs::path& dir) -> nlohmann::json {
            const auto r =
                train_curriculum(c, v, real, val, set.get(), model_a.at(v.seed), dir, device, progress, world);
            return {{"best", r.best.string()}, {"best_score", r.best_score}};
          },
          StageRanks::all);
      const double score = out.at("best_score").get<double>();
      models.push_back(
          {name, it.row_prefix + v.cell(), "variant", v.seed, out.at("best").get<std::string>(), score});
      if (score > best_val) {
        best_val = score;
        labeller = out.at("best").get<std::string>();
      }
    }
  }

  // One ensemble stage: the predictions of stages a_name and b_name combined (weights chosen on validation).
  void ensemble_stage(const std::string& name, const std::string& a_name, const fs::path& a_ckpt,
                      const std::string& b_name, const fs::path& b_ckpt) {
    stage(name,
          {{"a", a_ckpt.string()},
           {"b", b_ckpt.string()},
           {"ensemble", c.ensemble},
           {"choose_weights", c.choose_weights}},
          [&](const fs::path& dir) -> nlohmann::json {
            const auto a_val = load_predictions(val_files, st.dir("predict/" + a_name) / "val");
            const auto b_val = load_predictions(val_files, st.dir("predict/" + b_name) / "val");
            EnsembleOptions eo = c.ensemble;
            double val_score = 0;
            if (eo.method == "weighted" && c.choose_weights)
              eo.weights = choose_weights({a_val, b_val}, {}, &val_score);
            const auto a = load_predictions(test_files, st.dir("predict/" + a_name) / "eval");
            const auto b = load_predictions(test_files, st.dir("predict/" + b_name) / "eval");
            std::vector<EvalItem> out = a;
            for (size_t i = 0; i < out.size(); ++i) out[i].prob = combine({a[i].prob, b[i].prob}, eo);
            write_probs(dir / "eval", out);
            return {{"dir", dir.string()},
                    {"weights", eo.weights},
                    {"method", eo.method},
                    {"val_score", val_score}};
          });
  }

  // The report's rows: the 2nd observer (when the data set has one), every trained model, every ensemble.
  void score_all(PipelineReport& rep) const {
    const fs::path second = test_files.samples.front().label.parent_path().parent_path() / "2nd_manual";
    if (fs::is_directory(second)) {
      ScoredModel obs{"2nd observer", "observer", 0, second.string(),
                      evaluate(load_predictions(test_files, second))};
      rep.scored.push_back(obs);
    }
    for (const auto& m : models)
      rep.scored.push_back({m.row, m.kind, m.seed, m.checkpoint.string(),
                            evaluate(load_predictions(test_files, st.dir("predict/" + m.name) / "eval"))});
    for (const auto& e : ensembles)
      rep.scored.push_back(
          {e.row, e.kind, e.seed, e.name, evaluate(load_predictions(test_files, st.dir(e.name) / "eval"))});
  }

  const PipelineConfig c;
  const fs::path run_dir;
  const torch::Device device;
  const ProgressFn& progress;
  const Collective& world;
  StageRunner st;

  // prepare_data: the evaluation, training (labelled), validation and unlabelled photographs; the data's key.
  DatasetFiles test_files, real_files, val_files, unlabelled_files;
  std::vector<Sample> real, val;
  nlohmann::json data_key;
  // The models to score (baselines, then retrained variants) and model A's checkpoint per seed.
  std::vector<Candidate> models;
  std::map<uint64_t, fs::path> model_a;
  // The generator and its synthetic images; drawn_f1 < 0 when it draws no labels.
  nlohmann::json gan_out;
  GanTrainOptions gan_options;
  nlohmann::json gen_out;
  fs::path gen_root;
  double drawn_f1 = -1;
  // Labelling and retraining: the current labeller, the report's notes, each route's first labelled set.
  fs::path labeller;
  std::string notes;
  std::vector<std::pair<std::string, fs::path>> labelled_roots;
  // Ensembles and the GAN's metrics.
  std::vector<Candidate> ensembles;
  nlohmann::json gm_out;
};

}  // namespace

PipelineResult run_pipeline(const PipelineConfig& config_in, const fs::path& run_dir,
                            const torch::Device& device, const PipelineRunOptions& run,
                            const ProgressFn& progress, const Collective& world) {
  PipelineConfig c = config_in;
  finalize(c.gan);
  validate(c);
  check_stage_selector("--from", run.from_stage);
  check_stage_selector("--stop-after", run.stop_after);
  check_same_on_all_ranks(world, "the pipeline (config and stage selectors)",
                          nlohmann::json(c).dump() + "|" + run.from_stage + "|" + run.stop_after);
  if (world.is_main()) {  // rank 0 alone writes the run folder
    fs::create_directories(run_dir);
    write_file_atomic(run_dir / "config.json", nlohmann::json(c).dump(2) + "\n");
  }
  world.barrier();

  PipelineRun steps(c, run_dir, device, run, progress, world);
  PipelineResult result;
  try {
    steps.prepare_data();
    steps.train_baselines();
    steps.obtain_generator();
    steps.generate_synthetic();
    steps.measure_label_consistency();
    steps.label_and_retrain();
    steps.predict_all();
    steps.build_ensembles();
    steps.measure_gan();
    if (world.is_main()) steps.write_report(result);
    else result.finished = true;  // rank 0 reports for the job
  } catch (const StageRunner::Stopped&) {
    result.finished = false;
  }
  result.stages = steps.records();
  return result;
}

}  // namespace vg
