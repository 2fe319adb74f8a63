#include "run_data.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg::cli {

namespace fs = std::filesystem;

void recall_run_data(const fs::path& run_json, RunData& d) {
  if (!d.data.empty() || !fs::exists(run_json)) return;
  const auto j = nlohmann::json::parse(read_file(run_json), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw UserError(run_json.string() + " is not a JSON object (a run's run.json)");
  d.data = j.value("data", "");
  d.layout = j.value("layout", d.layout);
  d.split = j.value("split", d.split);
  if (d.exclude.empty()) d.exclude = j.value("exclude", std::vector<std::string>{});
}

DatasetFiles find_run_files(const RunData& d) {
  DatasetFiles files = find_dataset(d.data, d.split, d.layout);
  for (const auto& id : d.exclude) {
    auto& v = files.samples;
    const auto it = std::find_if(v.begin(), v.end(), [&](const SampleFiles& s) { return s.id == id; });
    if (it == v.end()) throw UserError("--exclude " + id + ": no such sample in " + d.data + " (" + d.split + " split)");
    v.erase(it);
  }
  if (files.samples.empty()) throw UserError("--exclude leaves no photographs to train on");
  return files;
}

DatasetFiles samples_with_ids(const DatasetFiles& all, const std::vector<std::string>& ids,
                              const std::function<std::string(const std::string& id)>& missing) {
  DatasetFiles out = all;
  out.samples.clear();
  for (const auto& id : ids) {
    const auto it = std::find_if(all.samples.begin(), all.samples.end(), [&](const SampleFiles& s) { return s.id == id; });
    if (it == all.samples.end()) throw UserError(missing(id));
    out.samples.push_back(*it);
  }
  return out;
}

void write_run_data(const fs::path& run_json, const RunData& d, const DatasetFiles& files) {
  write_file_atomic(run_json, nlohmann::json{{"data", fs::absolute(d.data).string()},
                                             {"layout", files.layout},
                                             {"split", d.split},
                                             {"exclude", d.exclude}}
                                      .dump(2) + "\n");
}

}  // namespace vg::cli
