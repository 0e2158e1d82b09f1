// The list of fuzz targets. tests/fuzz/CMakeLists.txt reads the names from
// the {"name", Function} lines below to make one libFuzzer binary per target.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {

const std::vector<FuzzTarget>& FuzzTargets() {
  static const std::vector<FuzzTarget> kTargets = {
      {"wire_decode", FuzzWireDecode},
      {"criteo_line", FuzzCriteoLine},
      {"rating_line", FuzzRatingLine},
      {"libsvm_line", FuzzLibsvmLine},
      {"model_file", FuzzModelFile},
      {"table_spec", FuzzTableSpec},
      {"checkpoint_file", FuzzCheckpointFile},
  };
  return kTargets;
}

const FuzzTarget* FindFuzzTarget(const std::string& name) {
  for (const FuzzTarget& t : FuzzTargets()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

void FuzzInvariantFailed(const char* what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

}  // namespace embedps::fuzz
