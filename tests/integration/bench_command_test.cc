// `embedps bench pushpull` and `embedps bench memory`, the one-command
// benchmarks, run end to end on a tiny configuration: every figure the docs
// quote is present, positive and consistent with the others.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

std::vector<nlohmann::json> JsonLines(const std::string& output) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// Runs `embedps bench pushpull` on one server and one worker at dim 8, one
// repeat, with --keys=`keys`, --seconds=`run_seconds` and one more flag,
// `extra`; asserts that it succeeded and printed `want_lines` JSON lines (one
// per key count), which it leaves in `lines`. Call it in
// ASSERT_NO_FATAL_FAILURE.
void RunPushPull(const testing::ScratchDir& dir, const std::string& keys, const std::string& run_seconds,
                 const std::string& extra, size_t want_lines, std::vector<nlohmann::json>* lines) {
  auto r = testing::RunBinary("embedps",
                              {"bench", "pushpull", "--servers=1", "--workers=1", "--keys=" + keys, "--dim=8",
                               "--seconds=" + run_seconds, "--repeat=1", "--json", extra},
                              dir.File("bench.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  *lines = JsonLines(r.output);
  ASSERT_EQ(lines->size(), want_lines) << r.output;
}

TEST(BenchCommandTest, PushPullPrintsEveryFigureAndItsRatioToRawTcp) {
  testing::ScratchDir dir;
  std::vector<nlohmann::json> lines;
  ASSERT_NO_FATAL_FAILURE(RunPushPull(dir, "1000,5000", "0.3", "--raw_tcp_reference", 2, &lines));
  for (const auto& j : lines) {
    SCOPED_TRACE(j.dump());
    for (const char* key : {"pull_keys_per_sec", "push_keys_per_sec", "pushpull_keys_per_sec",
                            "pushpull_value_mb_per_sec", "pushpull_p50_ms", "pushpull_p99_ms",
                            "server_ns_per_key_pushpull", "raw_tcp_pushpull_keys_per_sec",
                            "raw_tcp_value_mb_per_sec", "pushpull_to_raw_tcp"}) {
      ASSERT_TRUE(j.contains(key)) << key;
      EXPECT_GT(j[key].get<double>(), 0) << key;
    }
    EXPECT_GE(j["pushpull_p99_ms"].get<double>(), j["pushpull_p50_ms"].get<double>());
    // Values both ways: keys/s x dim x 4 bytes x 2.
    const double keys = j["pushpull_keys_per_sec"].get<double>();
    EXPECT_NEAR(j["pushpull_value_mb_per_sec"].get<double>(), keys * 8 * 4 * 2 / 1e6, 1e-6 * keys);
    EXPECT_NEAR(j["pushpull_to_raw_tcp"].get<double>(), keys / j["raw_tcp_pushpull_keys_per_sec"].get<double>(),
                1e-9);
  }
  EXPECT_EQ(lines[0]["keys"].get<int>(), 1000);
  EXPECT_EQ(lines[1]["keys"].get<int>(), 5000);
  EXPECT_EQ(lines[0]["optimizer"], "adagrad") << "the default, said";
}

// --optimizer is honoured (FOUND.md 13: it was accepted and ignored), so a
// run compares like for like with a parameter server applying SGD.
TEST(BenchCommandTest, PushPullRunsTheOptimizerAskedFor) {
  testing::ScratchDir dir;
  std::vector<nlohmann::json> lines;
  ASSERT_NO_FATAL_FAILURE(RunPushPull(dir, "1000", "0.2", "--optimizer=sgd", 1, &lines));
  EXPECT_EQ(lines[0]["optimizer"], "sgd");
  auto r = testing::RunBinary("embedps", {"bench", "pushpull", "--optimizer=rmsprop", "--seconds=0.2"},
                              dir.File("bench2.log"), seconds(60));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--optimizer"), std::string::npos) << r.output;
}

TEST(BenchCommandTest, MemoryReportsBytesPerRowAgainstThePayload) {
  testing::ScratchDir dir;
  auto r = testing::RunBinary("embedps",
                              {"bench", "memory", "--rows=200000", "--dim=16", "--optimizer=adagrad", "--json"},
                              dir.File("bench.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = JsonLines(r.output);
  ASSERT_EQ(lines.size(), 1u) << r.output;
  const auto& j = lines[0];
  // 16 weights and 16 Adagrad accumulators in float32.
  EXPECT_EQ(j["payload_bytes_per_row"].get<double>(), 128.0) << j.dump();
  EXPECT_GE(j["bytes_per_row"].get<double>(), 128.0) << j.dump();
  EXPECT_LT(j["bytes_per_row"].get<double>(), 4 * 128.0) << j.dump();
}

TEST(BenchCommandTest, BadArgumentsAreRefusedWithAReason) {
  testing::ScratchDir dir;
  auto r = testing::RunBinary("embedps", {"bench", "pushpull", "--raw_tcp_reference", "--curve_compare"},
                              dir.File("bench.log"), seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--raw_tcp_reference goes with a plain run"), std::string::npos) << r.output;
  r = testing::RunBinary("embedps", {"bench", "pushpull", "--keys=0"}, dir.File("bench2.log"), seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--keys"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace embedps
