// Shared gtest main: tests run on CPU with a fixed thread count so results do not depend on the machine.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/core/device.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  torch::set_num_threads(2);
  vg::keep_freed_memory();
  return RUN_ALL_TESTS();
}
