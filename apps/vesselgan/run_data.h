// The photographs a GAN or painter run learns, kept in its run.json so --resume finds them again.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"

namespace vg::cli {

struct RunData {
  std::string data, layout = "auto", split = "train";
  std::vector<std::string> exclude;  // sample ids left out (e.g. a segmenter's validation images)
};

// When d.data is empty and the run folder's run.json exists, d takes its data, layout, split and (unless
// given) exclude.
void recall_run_data(const std::filesystem::path& run_json, RunData& d);
// d.data's d.split samples without the excluded ids; UserError for an id not in the split or when none is left.
DatasetFiles find_run_files(const RunData& d);
// The samples of `all` with these ids, in the order of `ids`; UserError(missing(id)) for the first id `all`
// does not hold.
DatasetFiles samples_with_ids(const DatasetFiles& all, const std::vector<std::string>& ids,
                              const std::function<std::string(const std::string& id)>& missing);
// Writes run.json (data as an absolute path, the layout found) atomically.
void write_run_data(const std::filesystem::path& run_json, const RunData& d, const DatasetFiles& files);

}  // namespace vg::cli
