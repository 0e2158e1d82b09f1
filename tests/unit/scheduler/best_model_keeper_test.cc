// --keep_best's bookkeeping (scheduler/best_model_keeper.h) with scripted
// evaluations: a snapshot for each new best, the best complete one kept
// only when it beat the final evaluation, RMSE read as lower-is-better.
#include "scheduler/best_model_keeper.h"

#include <gtest/gtest.h>

namespace embedps::scheduler {
namespace {

nlohmann::json Auc(uint64_t rows, double auc, bool final = false) {
  return {{"rows", rows}, {"test_auc", auc}, {"test_logloss", 0.5}, {"final", final}};
}

TEST(BestModelKeeperTest, SnapshotsEachNewBestAndKeepsTheBestCompleteOne) {
  BestModelKeeper k(true);
  EXPECT_EQ(k.OnEvaluation(Auc(100, 0.70)), "best-1");
  EXPECT_EQ(k.OnEvaluation(Auc(200, 0.69)), std::nullopt) << "not better: no snapshot";
  EXPECT_EQ(k.OnEvaluation(Auc(300, 0.72)), "best-2");
  k.SnapshotStarted("best-1", 2);
  k.SnapshotStarted("best-2", 2);
  k.SnapshotWritten("best-1");
  k.SnapshotWritten("best-1");
  k.SnapshotWritten("best-2");  // one of two servers wrote best-2
  EXPECT_EQ(k.Kept(), std::nullopt) << "no final evaluation yet";
  EXPECT_EQ(k.OnEvaluation(Auc(400, 0.65, true)), std::nullopt) << "the final one is the export itself";
  EXPECT_EQ(k.Kept(), "best-1") << "best-2 is incomplete";
  k.SnapshotWritten("best-2");
  EXPECT_EQ(k.Kept(), "best-2");
  const nlohmann::json j = k.Json();
  EXPECT_EQ(j["kept"], "best");
  EXPECT_EQ(j["best_eval"]["rows"], 300);
  EXPECT_EQ(j["final_eval"]["rows"], 400);
}

TEST(BestModelKeeperTest, AFinalAsGoodAsTheBestIsKept) {
  BestModelKeeper k(true);
  const auto name = k.OnEvaluation(Auc(100, 0.70));
  ASSERT_TRUE(name.has_value());
  k.SnapshotStarted(*name, 1);
  k.SnapshotWritten(*name);
  k.OnEvaluation(Auc(200, 0.70, true));
  EXPECT_EQ(k.Kept(), std::nullopt);
  EXPECT_EQ(k.Json()["kept"], "final");
}

TEST(BestModelKeeperTest, RmseIsLowerIsBetterAndOffDoesNothing) {
  BestModelKeeper k(true);
  const nlohmann::json first = {{"rows", 1}, {"test_rmse", 0.95}, {"final", false}};
  const nlohmann::json worse = {{"rows", 2}, {"test_rmse", 0.99}, {"final", false}};
  const nlohmann::json better = {{"rows", 3}, {"test_rmse", 0.90}, {"final", false}};
  EXPECT_EQ(k.OnEvaluation(first), "best-1");
  EXPECT_EQ(k.OnEvaluation(worse), std::nullopt);
  EXPECT_EQ(k.OnEvaluation(better), "best-2");
  BestModelKeeper off(false);
  EXPECT_EQ(off.OnEvaluation(first), std::nullopt);
  EXPECT_EQ(off.Kept(), std::nullopt);
}

}  // namespace
}  // namespace embedps::scheduler
