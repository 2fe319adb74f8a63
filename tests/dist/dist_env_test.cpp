#include <map>

#include "test_support.h"
#include "vesselgan/dist/batch_shard.h"
#include "vesselgan/dist/dist_env.h"

namespace vg {
namespace {

using test::contains;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistributedEnv, WithoutTheVariablesTheProcessRunsAlone) {
  const DistEnv e = read_dist_env(env_of({}));
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
}

TEST(DistributedEnv, ReadsTorchrunsVariables) {
  const DistEnv e = read_dist_env(env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                          {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"},
                                          {"VESSELGAN_DIST_TIMEOUT", "7"}}));
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "node0");
  EXPECT_EQ(e.master_port, 29500);
  EXPECT_EQ(e.timeout, std::chrono::seconds(7));
}

TEST(DistributedEnv, ABadVariableIsNamedWithItsValidValues) {
  const std::map<std::string, std::string> good = {
      {"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto error_with = [&](const std::string& name, const std::optional<std::string>& value) {
    auto vars = good;
    if (value) vars[name] = *value;
    else vars.erase(name);
    return test::user_error([&] { read_dist_env(env_of(vars)); });
  };
  EXPECT_TRUE(contains(error_with("RANK", "2"), "RANK=\"2\" is invalid; valid: an integer in 0..1")) << error_with("RANK", "2");
  EXPECT_TRUE(contains(error_with("RANK", std::nullopt), "RANK is not set"));
  EXPECT_TRUE(contains(error_with("WORLD_SIZE", "two"), "WORLD_SIZE=\"two\" is invalid"));
  EXPECT_TRUE(contains(error_with("MASTER_PORT", "70000"), "MASTER_PORT=\"70000\" is invalid; valid: a TCP port"));
  EXPECT_TRUE(contains(error_with("MASTER_PORT", std::nullopt), "MASTER_PORT is not set"));
  EXPECT_TRUE(contains(error_with("MASTER_ADDR", std::nullopt), "MASTER_ADDR is not set"));
  EXPECT_TRUE(contains(error_with("VESSELGAN_DIST_TIMEOUT", "0"), "VESSELGAN_DIST_TIMEOUT=\"0\" is invalid"));
}

TEST(DistributedShard, SplitsTheGlobalBatchIntoContiguousRows) {
  const BatchShard a = shard_of(4, 0, 2), b = shard_of(4, 1, 2);
  EXPECT_EQ(a.begin, 0);
  EXPECT_EQ(a.count, 2);
  EXPECT_EQ(b.begin, 2);
  EXPECT_EQ(b.count, 2);
  // An uneven last batch: every row once, every rank at least one.
  int64_t next = 0;
  for (int64_t r = 0; r < 3; ++r) {
    const BatchShard s = shard_of(5, r, 3);
    EXPECT_EQ(s.begin, next);
    EXPECT_GE(s.count, 1);
    next += s.count;
  }
  EXPECT_EQ(next, 5);
  EXPECT_TRUE(contains(test::user_error([] { shard_of(1, 0, 2); }), "a batch of 1 cannot be split over 2 ranks"));
}

TEST(DistributedShard, OutsideAScopeNothingChanges) {
  const torch::Tensor x = torch::arange(6);
  EXPECT_TRUE(shard_rows(x).is_same(x));
  EXPECT_TRUE(sum_over_shards(x).is_same(x));
  EXPECT_EQ(shard_share(), 1.0);
}

}  // namespace
}  // namespace vg
