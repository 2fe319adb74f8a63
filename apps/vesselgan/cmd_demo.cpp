// vesselgan demo: the embedded default job. With no data: draw a phantom fundus data set, train a quick
// SA-UNet on it, evaluate it on the phantom test split and segment a few images. With --data: the same on a
// real data set (DRIVE layout or a folder layout). Rerunning continues where a killed run stopped.
#include <iostream>

#include "cli.h"
#include "dist_job.h"
#include "train_common.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/segmentation_writer.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct DemoFlags {
  std::string out = "runs/demo", data, preset = "quick";
  int n = 24, n_test = 8;
  int64_t size = 128, epochs = 0, resize = -1;
  ComputeFlags compute;
};

void run_demo(const DemoFlags& f) {
  refuse_data_parallel("demo");
  const fs::path out(f.out);
  const auto t0 = std::chrono::steady_clock::now();
  std::string data = f.data;
  if (data.empty()) {
    data = (out / "data").string();
    if (!fs::exists(out / "data" / "test" / "masks")) {
      PhantomOptions popt;
      popt.size = f.size;
      validate(popt);
      write_phantom_dataset(data, f.n, f.n_test, popt, 1);
      std::cerr << "phantom data set: " << f.n << " training + " << f.n_test << " test images of " << f.size
                << "x" << f.size << " in " << data << "\n";
    }
  }
  TrainOptions opt = train_preset(f.preset);
  if (f.epochs > 0) opt.schedule = {{f.epochs, opt.schedule.front().lr}};
  // Real photographs on a CPU: a reduced resolution keeps the demo to minutes.
  opt.input.resize = f.resize >= 0 ? f.resize : (f.data.empty() ? 0 : 256);
  const auto device = setup_compute(f.compute);
  const auto trained = train_on_data(data, "auto", out / "train", opt, device, /*resume=*/true, make_progress_printer());

  const Segmenter seg = Segmenter::load(trained.result.best, device);
  const DatasetFiles test = find_dataset(data, "test");
  const auto items = predict_dataset(seg, test, PredictOptions{}, make_progress_printer());
  std::cerr << "\n";
  const std::string title = "demo: SA-UNet (" + f.preset + ") on " + test.root.string() + " [test, " +
                            std::to_string(items.size()) + " images]";
  const EvalReport report = evaluate(items, EvalOptions{});
  write_eval_report(out / "eval", report, title);
  for (size_t i = 0; i < items.size() && i < 4; ++i) {
    const Sample s = load_sample(test.samples[i]);
    write_segmentation(out / "segment", test.samples[i].image.stem().string(), s.image,
                       items[i].prob, s.mask, 0.5, 8);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << to_markdown(report, title) << "\n"
            << "demo finished in " << format_duration(secs) << "\n"
            << "  model:        " << trained.result.best.string() << "\n"
            << "  curves:       " << (out / "train" / "curves.svg").string() << "\n"
            << "  metrics:      " << (out / "eval" / "metrics.json").string() << " (+ metrics.md, roc.svg, pr.svg)\n"
            << "  segmentations: " << (out / "segment").string() << "\n";
}

}  // namespace

void add_demo(CLI::App& app) {
  auto f = std::make_shared<DemoFlags>();
  auto* cmd = app.add_subcommand("demo", "Train, evaluate and segment end to end on built-in phantom data (or --data)");
  cmd->add_option("--out", f->out, "run folder")->capture_default_str();
  cmd->add_option("--data", f->data, "a real data set instead of phantoms (DRIVE or folder layout)");
  cmd->add_option("--preset", f->preset, "training recipe: quick | drive")->capture_default_str();
  cmd->add_option("--epochs", f->epochs, "override the recipe's schedule with one stage of N epochs");
  cmd->add_option("--resize", f->resize, "longer side before padding (default: native for phantoms, 256 for --data)");
  cmd->add_option("--n", f->n, "phantom training images")->capture_default_str();
  cmd->add_option("--n-test", f->n_test, "phantom test images")->capture_default_str();
  cmd->add_option("--size", f->size, "phantom image side")->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_demo(*f); });
}

}  // namespace vg::cli
