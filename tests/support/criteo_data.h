// Synthetic Criteo data for tests that train.
#pragma once

#include <cstdint>
#include <string>

#include "tests/support/test_dirs.h"

namespace embedps::testing {

// Writes `rows` rows of synthetic Criteo data (seed `seed`) to dir/name and
// returns the path; fails the calling test when generation fails.
std::string GenerateCriteoFile(const ScratchDir& dir, const std::string& name, uint64_t rows,
                               uint64_t seed);

}  // namespace embedps::testing
