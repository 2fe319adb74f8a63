#include "vesselgan/core/progress.h"

#include <cmath>

namespace vg {

double eta_seconds(const Progress& p) {
  const double done_here = static_cast<double>(p.done - p.done_at_start);
  if (p.total <= 0 || done_here <= 0) return NAN;
  return p.elapsed_s * static_cast<double>(p.total - p.done) / done_here;
}

}  // namespace vg
