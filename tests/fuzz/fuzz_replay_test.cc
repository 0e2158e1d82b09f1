// Runs every seed and regression input of every fuzz target through it (see
// fuzz_targets.h), so the corpus is checked on every build, with whatever
// sanitizers that build has. A crash or a failed invariant ends the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {
namespace {

std::vector<std::string> InputsOf(const std::string& target) {
  std::vector<std::string> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const std::filesystem::path dir = std::filesystem::path(EMBEDPS_FUZZ_DIR) / kind / target;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzReplayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplayTest, EverySeedAndRegressionInputRuns) {
  const FuzzTarget* target = FindFuzzTarget(GetParam());
  ASSERT_NE(target, nullptr);
  const auto files = InputsOf(GetParam());
  ASSERT_GE(files.size(), 3u) << "target " << GetParam() << " needs seed inputs in "
                              << EMBEDPS_FUZZ_DIR << "/corpus/" << GetParam();
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    SCOPED_TRACE(path);
    EXPECT_EQ(target->fn(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
  }
}

std::vector<std::string> TargetNames() {
  std::vector<std::string> names;
  for (const auto& t : FuzzTargets()) names.push_back(t.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(TargetNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace embedps::fuzz
