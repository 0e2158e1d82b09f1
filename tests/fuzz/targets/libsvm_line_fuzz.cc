// The libsvm line parser: an accepted line has a 0/1 or real label and
// finite feature values.
#include <cmath>

#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/targets/line_fuzz.h"
#include "worker/data/libsvm_parser.h"

namespace embedps::fuzz {

int FuzzLibsvmLine(const uint8_t* data, size_t size) {
  return FuzzLines(data, size, data::ParseLibsvmLine, [](const data::Example& ex) {
    if (!std::isfinite(ex.label)) FuzzInvariantFailed("label is not finite");
    for (float v : ex.values) {
      if (!std::isfinite(v)) FuzzInvariantFailed("feature value is not finite");
    }
  });
}

}  // namespace embedps::fuzz
