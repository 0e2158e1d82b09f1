#include "tests/support/criteo_data.h"

#include <gtest/gtest.h>

#include "datagen/criteo_generator.h"

namespace embedps::testing {

std::string GenerateCriteoFile(const ScratchDir& dir, const std::string& name, uint64_t rows,
                               uint64_t seed) {
  datagen::CriteoGeneratorOptions gen;
  gen.rows = rows;
  gen.seed = seed;
  gen.out = dir.File(name);
  gen.progress = false;
  EXPECT_TRUE(datagen::GenerateCriteo(gen).ok()) << gen.out;
  return gen.out;
}

}  // namespace embedps::testing
