// The stage runner in a data-parallel job of 2 ranks (two threads of this process joined over Gloo on
// loopback): rank 0 alone runs a generation-like stage, however much longer than the job's collective timeout
// it takes, and every rank gets its outputs; a training stage runs on every rank; a rerun finds both cached on
// every rank, with rank 0's outputs.

#include <atomic>
#include <chrono>
#include <thread>

#include "test_support.h"
#include "vesselgan/dist/collective.h"
#include "vesselgan/pipeline/stage_runner.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

// Runs `rank_body(rank, world)` as both ranks of a 2-rank job with a short collective timeout, one thread each.
// The timeout also bounds the rendezvous, which took longer than 1 s on a loaded 2-core machine: 3 s.
constexpr std::chrono::seconds kTimeout{3};
void run_two_ranks(const std::function<void(int, const Collective&)>& rank_body) {
  const int port = test::free_port();
  std::vector<std::thread> ranks;
  std::vector<std::string> errors(2);
  for (int r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      try {
        DistEnv env;
        env.rank = env.local_rank = r;
        env.world_size = 2;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        env.timeout = kTimeout;
        const Collective world = Collective::join(env, torch::kCPU, "gloo");
        rank_body(r, world);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
}

TEST(StageRunnerRanks, RankZeroAloneRunsAStageLongerThanTheTimeoutAndEveryRankGetsItsOutputs) {
  test::ScratchDir dir("stage_ranks");
  std::atomic<int> generate_runs{0}, train_runs{0};
  std::vector<nlohmann::json> seen(2), seen_train(2);
  std::vector<StageRecord> cached(4);
  run_two_ranks([&](int rank, const Collective& world) {
    StageRunner st(dir.path(), "", "", world);
    seen[static_cast<size_t>(rank)] = st.run("generate", {{"n", 4}}, [&](const fs::path& d) -> nlohmann::json {
      ++generate_runs;
      std::this_thread::sleep_for(3 * kTimeout);  // three times the collective timeout
      return {{"root", d.string()}, {"rank", rank}};
    });
    seen_train[static_cast<size_t>(rank)] = st.run(
        "retrain/a", {{"seed", 0}},
        [&](const fs::path&) -> nlohmann::json {
          ++train_runs;
          world.barrier();  // a data-parallel trainer's collectives: every rank must be in the body
          return {{"best_score", 0.5 + rank}};
        },
        StageRanks::all);
    // A rerun of the same stages: cached on every rank, with rank 0's outputs.
    StageRunner again(dir.path(), "", "", world);
    again.run("generate", {{"n", 4}}, [&](const fs::path&) -> nlohmann::json { throw std::runtime_error("ran"); });
    again.run("retrain/a", {{"seed", 0}}, [&](const fs::path&) -> nlohmann::json { throw std::runtime_error("ran"); },
              StageRanks::all);
    cached[static_cast<size_t>(2 * rank)] = again.records()[0];
    cached[static_cast<size_t>(2 * rank + 1)] = again.records()[1];
  });
  EXPECT_EQ(generate_runs.load(), 1);
  EXPECT_EQ(train_runs.load(), 2);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(seen[static_cast<size_t>(r)].at("rank"), 0) << "rank " << r;
    EXPECT_EQ(seen_train[static_cast<size_t>(r)].at("best_score"), 0.5) << "rank " << r;
  }
  for (const auto& rec : cached) {
    EXPECT_TRUE(rec.cached) << rec.name;
    EXPECT_EQ(rec.outputs.value("rank", 0), 0) << rec.name;
  }
  EXPECT_TRUE(fs::exists(dir.path() / "generate" / "manifest.json"));
  EXPECT_TRUE(fs::exists(dir.path() / "retrain" / "a" / "manifest.json"));
}

}  // namespace
}  // namespace vg
