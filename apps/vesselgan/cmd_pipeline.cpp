// vesselgan pipeline: the synthetic-data method end to end (pipeline/pipeline.h): model A, GAN, synthetic
// images, pseudo-labels, curricula, ensembles, evaluation and a report. Rerunning the same command resumes a
// killed run and skips finished stages.
#include <iostream>

#include "cli.h"
#include "dist_job.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/pipeline/pipeline.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct PipelineFlags {
  std::string preset = "quick", config, data, out, from, stop_after, gan_model, labels;
  bool print_config = false;
  ComputeFlags compute;
  DistFlags dist;
};

void run_pipeline_cmd(const PipelineFlags& f) {
  PipelineConfig c = pipeline_preset(f.preset);
  if (!f.config.empty()) {
    if (!fs::exists(f.config)) throw UserError("--config " + f.config + " does not exist (give a JSON file)");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(f.config));
    } catch (const nlohmann::json::exception& e) {
      throw UserError("--config " + f.config + " is not valid JSON (" + std::string(e.what()).substr(0, 120) +
                      ")");
    }
    from_json(j, c);
  }
  if (!f.data.empty()) c.data = f.data;
  if (!f.gan_model.empty()) c.gan_model = f.gan_model;
  if (!f.labels.empty()) c.labels = {f.labels};
  // Only the quick preset is meant for phantoms; a DRIVE preset without data would silently train on them.
  if (c.data.empty() && f.preset != "quick")
    throw UserError("--preset " + f.preset + " is a recipe for real photographs: give --data DIR (e.g. "
                    "../shared/data/DRIVE) or set \"data\" in --config; only --preset quick uses phantoms");
  finalize(c.gan);
  validate(c);  // before anything is printed: a bad config is one line
  if (f.print_config) {
    std::cout << nlohmann::json(c).dump(2) << "\n";
    return;
  }
  if (f.out.empty())
    throw UserError("--out is required: the run folder (created; rerun the same command to resume)");
  const auto device = rank_device(setup_compute(f.compute));
  const Collective world = join_job(f.dist, device);
  PipelineRunOptions ro;
  ro.from_stage = f.from;
  ro.stop_after = f.stop_after;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_pipeline(c, f.out, device, ro, world.is_main() ? make_progress_printer() : ProgressFn(), world);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!world.is_main()) return;  // rank 0 reports for the job
  if (!r.finished) {
    std::cout << "stopped after stage " << f.stop_after << " (" << format_duration(secs)
              << "); rerun without --stop-after to continue\n";
    return;
  }
  std::cout << r.report_markdown.substr(0, r.report_markdown.find("## Wall time")) << "pipeline finished in "
            << format_duration(secs) << "\n  report: " << (r.report_dir / "report.md").string() << ", "
            << (r.report_dir / "report.html").string() << ", results.json\n";
}

}  // namespace

void add_pipeline(CLI::App& app) {
  auto f = std::make_shared<PipelineFlags>();
  auto* cmd = app.add_subcommand("pipeline",
                                 "The synthetic-data method end to end: SA-UNet, StyleGAN2-ADA, "
                                 "pseudo-labels, curricula, ensembles, evaluation, report");
  cmd->add_option("--preset", f->preset, "quick (phantoms, CPU minutes) | drive-cpu | drive-gpu")
      ->capture_default_str();
  cmd->add_option("--config", f->config, "JSON file overriding the preset (any field; see --print-config)");
  cmd->add_option("--data", f->data, "the real data set (default: the preset's; quick makes phantoms)");
  cmd->add_option("--out", f->out, "run folder (rerun the same command to resume a killed run)");
  cmd->add_option("--gan-model", f->gan_model,
                  "sample this generator file or GAN run instead of training one; \"shipped\" = models/generator-drive.pt");
  cmd->add_option("--labels", f->labels, "labels of the synthetic images: model (pseudo-labels) | gan (the generator's own)");
  cmd->add_option("--from", f->from, "run this stage (e.g. gan, retrain, report) and all later ones again");
  cmd->add_option("--stop-after", f->stop_after, "stop once this stage finished (e.g. gan)");
  cmd->add_flag("--print-config", f->print_config, "print the resolved config as JSON and exit");
  add_compute_flags(*cmd, f->compute);
  add_dist_flags(*cmd, f->dist);
  cmd->callback([f] { run_pipeline_cmd(*f); });
}

}  // namespace vg::cli
