#include "vesselgan/core/jsonl.h"

#include <fstream>

#include "test_support.h"

namespace vg {

TEST(Jsonl, IgnoresATornLastLine) {
  test::ScratchDir dir("jsonl_torn");
  const auto p = dir.path() / "stats.jsonl";
  append_jsonl(p, {{"epoch", 1}});
  append_jsonl(p, {{"epoch", 2}});
  std::ofstream(p, std::ios::app) << "{\"epoch\": 3, \"lo";  // killed mid-write
  const auto rows = read_jsonl(p);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["epoch"], 2);
}

TEST(Jsonl, FilterKeepsOnlyMatchingRows) {
  test::ScratchDir dir("jsonl_filter");
  const auto p = dir.path() / "stats.jsonl";
  for (int e = 1; e <= 5; ++e) append_jsonl(p, {{"epoch", e}});
  filter_jsonl(p, [](const nlohmann::json& r) { return r["epoch"].get<int>() <= 3; });
  const auto rows = read_jsonl(p);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back()["epoch"], 3);
}

}  // namespace vg
