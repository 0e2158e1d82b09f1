// End to end: with --dense_pull_every=K, DeepFM workers pull the MLP's dense
// tables in one batch of K (the summary's dense_pulls counts those batches)
// and still train as well as when they pull them every batch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

nlohmann::json RunDeepFm(const testing::ScratchDir& dir, const std::string& train, const std::string& test,
                         int every) {
  const std::string name = "k" + std::to_string(every);
  const std::string summary_path = dir.File(name + ".json");
  auto run = testing::RunBinary(
      "embedps",
      {"local", "--model=deepfm", "--hidden=32,32", "--factors=8", "--batch_size=250", "--train=" + train,
       "--test=" + test, "--servers=2", "--workers=2", "--dense_pull_every=" + std::to_string(every),
       "--http_port=-1", "--summary_json=" + summary_path, "--run_dir=" + dir.File(name)},
      dir.File(name + ".log"), std::chrono::seconds(240));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return nlohmann::json::parse(testing::ReadFile(summary_path));
}

TEST(DensePullTest, PullingEveryKBatchesPullsLessAndStillConverges) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 60000, 31);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 10000, 32);
  const nlohmann::json every = RunDeepFm(dir, train, test, 1);
  const nlohmann::json fourth = RunDeepFm(dir, train, test, 4);
  // 60,000 rows in batches of 250 over 8 partitions (2 workers x 4): at
  // least 240 batches, and at most 8 more (a short last batch each).
  const uint64_t pulls_every = every["dense_pulls"].get<uint64_t>();
  const uint64_t pulls_fourth = fourth["dense_pulls"].get<uint64_t>();
  EXPECT_GE(pulls_every, 240u);
  EXPECT_LE(pulls_every, 248u);
  // One batch in four per worker, counted across partitions.
  EXPECT_GE(pulls_fourth, 60u);
  EXPECT_LE(pulls_fourth, 248u / 4 + 2);
  const double auc_every = every["test_auc"].get<double>();
  const double auc_fourth = fourth["test_auc"].get<double>();
  std::printf("dense pulls %llu (K=1) vs %llu (K=4); test AUC %.4f vs %.4f\n",
              static_cast<unsigned long long>(pulls_every), static_cast<unsigned long long>(pulls_fourth),
              auc_every, auc_fourth);
  EXPECT_GT(auc_every, 0.65);
  EXPECT_NEAR(auc_fourth, auc_every, 0.01);
}

}  // namespace
}  // namespace embedps
