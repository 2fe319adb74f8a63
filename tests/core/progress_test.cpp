#include <gtest/gtest.h>

#include <cmath>

#include "vesselgan/core/progress.h"

namespace vg {

TEST(Progress, EtaFollowsTheRateOfThisProcess) {
  Progress p;
  p.total = 1000;
  p.done = 600;
  p.elapsed_s = 60;  // 600 units in 60 s: 400 left take 40 s
  EXPECT_DOUBLE_EQ(eta_seconds(p), 40.0);
}

TEST(Progress, EtaOfAResumedRunCountsOnlyTheUnitsDoneSinceItResumed) {
  Progress p;
  p.total = 1000;
  p.done_at_start = 500;  // resumed at 500: 100 units in 60 s, 400 left take 240 s
  p.done = 600;
  p.elapsed_s = 60;
  EXPECT_DOUBLE_EQ(eta_seconds(p), 240.0);
}

TEST(Progress, EtaIsUnknownBeforeTheFirstUnitOrWithoutATotal) {
  Progress p;
  p.total = 10;
  p.done = p.done_at_start = 4;
  p.elapsed_s = 5;
  EXPECT_TRUE(std::isnan(eta_seconds(p)));
  p.total = 0;
  p.done = 5;
  EXPECT_TRUE(std::isnan(eta_seconds(p)));
}

}  // namespace vg
