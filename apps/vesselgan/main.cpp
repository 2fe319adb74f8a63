// vesselgan: retinal vessel segmentation that grows its own training data.
// The only place that parses argv, prints, and turns errors into exit codes:
//   0 success, 1 usage error, 2 user error (bad input; one line on stderr), 3 internal error.
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"vesselgan " VG_VERSION ": retinal vessel segmentation (SA-UNet) that grows its own training data"};
  app.set_version_flag("--version", "vesselgan " VG_VERSION);
  app.require_subcommand(1);
  vg::cli::add_demo(app);
  vg::cli::add_phantom(app);
  vg::cli::add_train(app);
  vg::cli::add_segment(app);
  vg::cli::add_evaluate(app);
  vg::cli::add_ensemble(app);
  vg::cli::add_export(app);
  vg::cli::add_calibrate(app);
  vg::cli::add_pipeline(app);
  vg::cli::add_gan(app);
  vg::cli::add_launch(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ValidationError& e) {
    // A value that fails its check (a --data folder that does not exist, ...) is a problem with the input.
    std::cerr << "vesselgan: error: " << e.what() << std::endl;
    return 2;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const vg::UserError& e) {
    std::cerr << "vesselgan: error: " << e.what() << std::endl;
    return 2;
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    std::cerr << "vesselgan: internal error: " << msg.substr(0, msg.find('\n')) << std::endl;
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "vesselgan: internal error: " << e.what() << std::endl;
    return 3;
  }
  return 0;
}
