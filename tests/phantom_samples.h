// Phantom photographs as loaded samples (photograph, exact label, FOV mask), for tests of any module that
// links vg_data.
#pragma once
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"
#include "vesselgan/data/phantom.h"

namespace vg::test {

// n phantoms of `size` px from seeds first_seed, first_seed + 1, ...; ids "<prefix><i>".
inline std::vector<Sample> phantom_samples(int n, int64_t size, uint64_t first_seed = 100,
                                           const std::string& prefix = "") {
  PhantomOptions o;
  o.size = size;
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    const PhantomSample p = make_phantom(o, first_seed + static_cast<uint64_t>(i));
    Sample s;
    s.id = prefix + std::to_string(i);
    s.image = p.image;
    s.label = p.label;
    s.mask = p.mask;
    s.has_mask = true;
    out.push_back(s);
  }
  return out;
}

}  // namespace vg::test
