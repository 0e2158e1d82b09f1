// End to end: with --dense_pull_every=K and --dense_push_every=K, DeepFM
// workers pull the MLP's dense tables in one batch of K (the summary's
// dense_pulls counts those batches) and push their summed gradients once
// per K batches (the servers count fewer pushes), and still train as well
// as when they pull and push them every batch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

struct DeepFmRun {
  nlohmann::json summary;
  uint64_t server_pushes = 0;  // push requests the servers applied, summed
};

DeepFmRun RunDeepFm(const testing::ScratchDir& dir, const std::string& train, const std::string& test,
                    int every) {
  const std::string name = "k" + std::to_string(every);
  const std::string summary_path = dir.File(name + ".json");
  const std::string run_dir = dir.File(name);
  auto run = testing::RunBinary(
      "embedps",
      {"local", "--model=deepfm", "--hidden=32,32", "--factors=8", "--batch_size=250", "--train=" + train,
       "--test=" + test, "--servers=2", "--workers=2", "--dense_pull_every=" + std::to_string(every),
       "--dense_push_every=" + std::to_string(every), "--http_port=-1", "--summary_json=" + summary_path,
       "--run_dir=" + run_dir},
      dir.File(name + ".log"), std::chrono::seconds(240));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  DeepFmRun out;
  out.summary = nlohmann::json::parse(testing::ReadFile(summary_path));
  for (int s = 0; s < 2; ++s) {
    const std::string log = testing::ReadFile(run_dir + "/logs/server-" + std::to_string(s) + ".log");
    const auto pushes = testing::NumbersBefore(log, " pushes, ");
    EXPECT_EQ(pushes.size(), 1u) << "server " << s << " wrote no final counts:\n" << log;
    for (uint64_t n : pushes) out.server_pushes += n;
  }
  return out;
}

TEST(DensePullTest, PullingAndPushingEveryKBatchesSendsLessAndStillConverges) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 60000, 31);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 10000, 32);
  const DeepFmRun every = RunDeepFm(dir, train, test, 1);
  const DeepFmRun fourth = RunDeepFm(dir, train, test, 4);
  // 60,000 rows in batches of 250 over 8 partitions (2 workers x 4): at
  // least 240 batches, and at most 8 more (a short last batch each).
  const uint64_t pulls_every = every.summary["dense_pulls"].get<uint64_t>();
  const uint64_t pulls_fourth = fourth.summary["dense_pulls"].get<uint64_t>();
  EXPECT_GE(pulls_every, 240u);
  EXPECT_LE(pulls_every, 248u);
  // One batch in four per worker, counted across partitions.
  EXPECT_GE(pulls_fourth, 60u);
  EXPECT_LE(pulls_fourth, 248u / 4 + 2);
  // Per batch the sparse table is pushed to both servers and each of the 6
  // dense tables (3 layers) to the server(s) holding its rows: with K=4 the
  // dense share shrinks to a quarter (plus a flush per partition end), so
  // the total falls well below 60% of K=1's.
  std::printf("server pushes %llu (K=1) vs %llu (K=4)\n", static_cast<unsigned long long>(every.server_pushes),
              static_cast<unsigned long long>(fourth.server_pushes));
  EXPECT_GE(every.server_pushes, 240u * 7);
  EXPECT_LT(fourth.server_pushes * 10, every.server_pushes * 6);
  const double auc_every = every.summary["test_auc"].get<double>();
  const double auc_fourth = fourth.summary["test_auc"].get<double>();
  std::printf("dense pulls %llu (K=1) vs %llu (K=4); test AUC %.4f vs %.4f\n",
              static_cast<unsigned long long>(pulls_every), static_cast<unsigned long long>(pulls_fourth),
              auc_every, auc_fourth);
  EXPECT_GT(auc_every, 0.65);
  EXPECT_NEAR(auc_fourth, auc_every, 0.01);
}

}  // namespace
}  // namespace embedps
