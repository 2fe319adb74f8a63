// Failure kinds (design.md): a UserError is something the person running vesselgan can fix (a bad flag,
// an unreadable file, a wrong size). Its message is one line that names the input and says what would be
// valid; the CLI prints it and exits non-zero. Broken internal invariants use TORCH_CHECK instead.
#pragma once
#include <stdexcept>
#include <string>

namespace vg {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vg
