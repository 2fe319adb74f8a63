// THE reference check of the evaluator (docs/protocol.md): DRIVE's second observer scored against the
// first, FOV pooled over the 20 test images, must reproduce the independently computed numbers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "test_support.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

TEST(DriveSecondObserver, ReproducesTheProtocolReferenceNumbers) {
  VG_REQUIRE_DRIVE(drive);
  const fs::path test_dir = fs::is_directory(drive / "testing") ? drive / "testing" : drive / "test";
  std::vector<EvalItem> items;
  for (int k = 1; k <= 20; ++k) {
    char id[8];
    std::snprintf(id, sizeof id, "%02d", k);
    const std::string s(id);
    EvalItem it;
    it.id = s;
    // The second observer's GIF is a binary drawing whose palette is not exactly gray ((4, 2, 4) and
    // (252, 254, 252)), so it reads as RGB: make it the {0, 1} map it is.
    const torch::Tensor drawing =
        read_image(test_dir / "2nd_manual" / (s + "_manual2.gif")).pixels.mean(0, true);
    ASSERT_EQ(drawing.gt(0.1).logical_and(drawing.lt(0.9)).sum().item<int64_t>(), 0) << s << ": not binary";
    it.prob = drawing.gt(0.5).to(torch::kFloat);
    it.label = read_image(test_dir / "1st_manual" / (s + "_manual1.gif")).pixels;
    it.mask = read_image(test_dir / "mask" / (s + "_test_mask.gif")).pixels;
    ASSERT_EQ(it.prob.sizes(), (std::vector<int64_t>{1, 584, 565})) << s;
    items.push_back(std::move(it));
  }

  // Wall time, and CPU time of this thread (what the evaluator itself costs, apart from any waiting for
  // a busy machine or torch's worker threads).
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = thread_cpu();
  const EvalReport r = evaluate(items, EvalOptions{});
  const double cpu = thread_cpu() - c0;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("evaluate_seconds", std::to_string(seconds));
  std::printf("[ timing   ] evaluate() on the 20 DRIVE test images: %.3f s wall, %.3f s CPU (main thread)\n",
              seconds, cpu);

  EXPECT_EQ(r.fov_pixels, 4538143);
  EXPECT_EQ(r.total_pixels, 20 * 584 * 565);
  const double tol = 0.5e-4;  // "to 4 decimals"
  EXPECT_NEAR(r.fov_pooled.se, 0.7746, tol);
  EXPECT_NEAR(r.fov_pooled.sp, 0.9725, tol);
  EXPECT_NEAR(r.fov_pooled.acc, 0.9473, tol);
  EXPECT_NEAR(r.fov_pooled.precision, 0.8040, tol);
  EXPECT_NEAR(r.fov_pooled.f1, 0.7891, tol);
  // A binary prediction has one operating point, so its ROC AUC is the trapezoid through it:
  // (Se + Sp) / 2.
  EXPECT_NEAR(r.fov_pooled.auc_roc, (r.fov_pooled.se + r.fov_pooled.sp) / 2, 1e-12);
  EXPECT_EQ(r.per_image.size(), 20u);

  test::ScratchDir dir("drive_second_observer");
  write_eval_report(dir.path(), r, "DRIVE 2nd observer vs 1st");
  EXPECT_TRUE(fs::exists(dir.path() / "metrics.md"));
}

}  // namespace
}  // namespace vg
