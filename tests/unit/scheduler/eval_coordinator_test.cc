// The evaluation coordinator with a fake clock and scripted answers: when an
// evaluation is due, which worker gets it, when one is given up, and what
// an answer (or a late one) means.
#include "scheduler/eval_coordinator.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

wire::EvalResultMsg Auc(uint64_t id, double auc) {
  wire::EvalResultMsg r;
  r.id = id;
  r.ok = true;
  r.auc = auc;
  r.logloss = 0.5;
  r.test_rows = 1000;
  return r;
}

TEST(EvalCoordinatorTest, DueByTimeThenByRowsToTheGivenWorker) {
  EvalCoordinator c({seconds(10), 5000, 200, seconds(60)});
  ASSERT_TRUE(c.enabled());
  EXPECT_FALSE(c.Tick(kStart + seconds(9), kStart, 100, 3).has_value());
  auto first = c.Tick(kStart + seconds(10), kStart, 100, 3);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->node, 3u);
  EXPECT_EQ(first->msg.max_rows, 200u);  // a sample during training
  EXPECT_FALSE(first->msg.final);
  // One at a time: nothing new while it is in flight.
  EXPECT_FALSE(c.Tick(kStart + seconds(30), kStart, 9000, 3).has_value());
  auto answer = c.OnResult(3, Auc(first->msg.id, 0.71));
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->ok);
  EXPECT_EQ(answer->text, "test AUC 0.7100, logloss 0.5000");
  EXPECT_EQ(answer->rows, 100u);
  // By rows: 5000 more rows than at the last one.
  EXPECT_FALSE(c.Tick(kStart + seconds(11), kStart, 5099, 3).has_value());
  EXPECT_TRUE(c.Tick(kStart + seconds(12), kStart, 5100, 3).has_value());
  ASSERT_EQ(c.results().size(), 1u);
  EXPECT_DOUBLE_EQ(c.results()[0].value("test_auc", 0.0), 0.71);
}

TEST(EvalCoordinatorTest, NoWorkerNoRequestAndTheTriggerIsNotRepeatedAtOnce) {
  EvalCoordinator c({seconds(10), 0, 0, seconds(60)});
  EXPECT_FALSE(c.Tick(kStart + seconds(10), kStart, 0, std::nullopt).has_value());
  // The interval starts again, as when a request went out.
  EXPECT_FALSE(c.Tick(kStart + seconds(11), kStart, 0, 1).has_value());
  EXPECT_TRUE(c.Tick(kStart + seconds(20), kStart, 0, 1).has_value());
}

TEST(EvalCoordinatorTest, AnOverdueOrOrphanedRequestIsGivenUpAndALateAnswerIgnored) {
  EvalCoordinator c({seconds(1), 0, 0, seconds(30)});
  auto r = c.Tick(kStart + seconds(1), kStart, 10, 4);
  ASSERT_TRUE(r.has_value());
  const auto alive = [](uint32_t) { return false; };
  EXPECT_FALSE(c.CheckOverdue(kStart + seconds(30), alive).has_value());
  auto overdue = c.CheckOverdue(kStart + seconds(31), alive);
  ASSERT_TRUE(overdue.has_value());
  EXPECT_FALSE(overdue->worker_gone);
  EXPECT_FALSE(c.OnResult(4, Auc(r->msg.id, 0.7)).has_value()) << "given up: its answer does not count";
  EXPECT_TRUE(c.results().empty());

  // The final one, whose worker dies: given up as final, worker gone.
  auto final = c.AskFinal(kStart + seconds(40), 99, 39.0, 5);
  ASSERT_TRUE(final.has_value());
  EXPECT_TRUE(final->msg.final);
  EXPECT_EQ(final->msg.max_rows, 0u);  // every test row
  auto dead = c.CheckOverdue(kStart + seconds(41), [](uint32_t node) { return node == 5; });
  ASSERT_TRUE(dead.has_value());
  EXPECT_TRUE(dead->final);
  EXPECT_TRUE(dead->worker_gone);
}

TEST(EvalCoordinatorTest, TheFinalEvaluationSupersedesOneInFlightAndRatingModelsReportRmse) {
  EvalCoordinator c({seconds(1), 0, 0, seconds(30)});
  auto periodic = c.Tick(kStart + seconds(1), kStart, 10, 2);
  ASSERT_TRUE(periodic.has_value());
  auto final = c.AskFinal(kStart + seconds(2), 20, 2.0, 2);
  ASSERT_TRUE(final.has_value());
  EXPECT_FALSE(c.OnResult(2, Auc(periodic->msg.id, 0.6)).has_value());
  wire::EvalResultMsg rmse;
  rmse.id = final->msg.id;
  rmse.ok = true;
  rmse.rmse = 0.9;
  rmse.mae = 0.7;
  auto answer = c.OnResult(2, rmse);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->final);
  EXPECT_EQ(answer->text, "test RMSE 0.9000, MAE 0.7000");
  EXPECT_DOUBLE_EQ(c.results()[0].value("test_rmse", 0.0), 0.9);
  EXPECT_FALSE(EvalCoordinator({}).enabled());
}

}  // namespace
}  // namespace embedps::scheduler
