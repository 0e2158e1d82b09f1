// End to end: `embedps local` (real scheduler, servers and workers as
// processes) trains LR on generated data to within 0.03 AUC of a plain
// single-threaded in-process SGD logistic regression on the same rows.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/reference_lr.h"
#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

TEST(LocalTrainTest, DistributedLrMatchesInProcessReference) {
  testing::ScratchDir dir;
  const std::string train = testing::GenerateCriteoFile(dir, "train.tsv", 200000, 11);
  const std::string test = testing::GenerateCriteoFile(dir, "test.tsv", 40000, 12);

  const std::string summary_path = dir.File("summary.json");
  auto run = testing::RunBinary(
      "embedps",
      {"local", "--model=lr", "--train=" + train, "--test=" + test, "--servers=2", "--workers=2",
       "--summary_json=" + summary_path, "--run_dir=" + dir.File("run")},
      dir.File("local.log"), std::chrono::seconds(240));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("test AUC"), std::string::npos) << run.output;

  auto summary = nlohmann::json::parse(testing::ReadFile(summary_path));
  for (const char* key : {"rows", "train_seconds", "rows_per_sec", "test_auc", "test_logloss",
                          "oracle_auc"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_EQ(summary["rows"].get<uint64_t>(), 200000u);
  EXPECT_EQ(summary["test_rows"].get<uint64_t>(), 40000u);
  EXPECT_GT(summary["rows_per_sec"].get<double>(), 0.0);
  const double auc = summary["test_auc"].get<double>();
  const double oracle = summary["oracle_auc"].get<double>();

  // Plain per-example SGD; 0.01 is its best rate on this data (0.03 and up
  // lose AUC quickly).
  testing::ReferenceLrOptions sgd_options;
  sgd_options.adagrad = false;
  sgd_options.learning_rate = 0.01;
  auto ref = testing::TrainReferenceLr(train, test, sgd_options);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  // The same optimizer as the cluster's default, run in-process: asynchronous
  // minibatches across two workers should cost almost nothing.
  auto ref_adagrad = testing::TrainReferenceLr(train, test, testing::ReferenceLrOptions{});
  ASSERT_TRUE(ref_adagrad.ok()) << ref_adagrad.status().ToString();
  std::printf("distributed AUC %.4f, reference SGD AUC %.4f, reference Adagrad AUC %.4f, "
              "oracle AUC %.4f\n",
              auc, ref->test_auc, ref_adagrad->test_auc, oracle);
  EXPECT_NEAR(auc, ref->test_auc, 0.03);
  EXPECT_NEAR(auc, ref_adagrad->test_auc, 0.01);
  EXPECT_LT(auc, oracle);
  EXPECT_GT(auc, 0.70);
}

}  // namespace
}  // namespace embedps
