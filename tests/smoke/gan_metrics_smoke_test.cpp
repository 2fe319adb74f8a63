// vesselgan gan metrics through the real program, for whole photographs: a data set as --real is compared by
// its --real-split's photographs, not by every image under its root.
#include "run_cli.h"

namespace vg {
namespace {

using test::contains;

TEST(GanMetricsSmoke, WholePhotographsAreComparedWithTheRealSplitOnly) {
  test::ScratchDir dir("gan_metrics_split");
  const std::string phantoms = test::make_phantoms(dir, 3, 64);  // 3 training photographs, 1 test
  const std::string common = "gan metrics --features color-stats --kid-subset-size 2 --real " + phantoms +
                             " --fake " + phantoms + "/train/images --device cpu";
  auto r = test::run_vesselgan(common, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "3 real / 3 fake")) << r.out;
  EXPECT_TRUE(contains(r.out, "against the train split's photographs")) << r.out;
  r = test::run_vesselgan(common + " --real-split all", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "4 real / 3 fake")) << r.out;
}

}  // namespace
}  // namespace vg
