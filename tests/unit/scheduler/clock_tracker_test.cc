// The scheduler's SSP bookkeeping: the minimum clock over the workers that
// hold a lease, never held back by dead, finished or idle workers, and late
// starters placed at the minimum.
#include "scheduler/clock_tracker.h"

#include <gtest/gtest.h>

namespace embedps::scheduler {
namespace {

TEST(ClockTrackerTest, MinimumOverActiveWorkersAdvancesOnce) {
  ClockTracker t;
  EXPECT_FALSE(t.Min().has_value());
  EXPECT_FALSE(t.TakeAdvance().has_value());  // nobody holds a lease yet
  t.SetActive(1, true);
  t.SetActive(2, true);
  t.Report(1, 5);
  t.Report(2, 3);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(3));
  EXPECT_FALSE(t.TakeAdvance().has_value());  // unchanged: nothing to send
  EXPECT_EQ(t.Spread(), 2u);
  t.Report(2, 4);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(4));
  t.Report(2, 9);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(5));  // worker 1 is now the slowest
  EXPECT_EQ(t.Min(), std::optional<uint64_t>(5));
  EXPECT_EQ(t.Spread(), 4u);
}

TEST(ClockTrackerTest, OlderReportsNeverLowerAClock) {
  ClockTracker t;
  t.SetActive(1, true);
  t.Report(1, 7);
  t.Report(1, 6);  // a heartbeat sent before the last clock report
  EXPECT_EQ(t.ClockOf(1), 7u);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(7));
}

TEST(ClockTrackerTest, DeadAndFinishedWorkersHoldNobodyBack) {
  ClockTracker t;
  for (uint32_t id : {1u, 2u, 3u}) t.SetActive(id, true);
  t.Report(1, 10);
  t.Report(2, 2);
  t.Report(3, 6);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(2));
  t.Remove(2);  // died
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(6));
  t.Remove(3);  // finished
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(10));
  EXPECT_EQ(t.Spread(), 0u);
}

TEST(ClockTrackerTest, IdleWorkersDoNotCountAndRejoinAtTheMinimum) {
  ClockTracker t;
  t.SetActive(1, true);
  t.SetActive(2, true);
  t.Report(1, 8);
  t.Report(2, 3);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(3));
  // Worker 2 ran out of work: it waits for a lease and must not block 1.
  EXPECT_FALSE(t.SetActive(2, false).has_value());
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(8));
  // It gets a lease back (a dead worker's): it starts at the minimum, so the
  // minimum never goes back and nobody already past it blocks.
  EXPECT_EQ(t.SetActive(2, true), std::optional<uint64_t>(8));
  EXPECT_EQ(t.ClockOf(2), 8u);
  EXPECT_FALSE(t.TakeAdvance().has_value());
  EXPECT_EQ(t.Min(), std::optional<uint64_t>(8));
  // Already active: no second jump.
  EXPECT_FALSE(t.SetActive(2, true).has_value());
}

TEST(ClockTrackerTest, LateWorkerStartsAtTheMinimumAndAheadWorkerDoesNotJump) {
  ClockTracker t;
  t.SetActive(1, true);
  t.Report(1, 12);
  EXPECT_EQ(t.TakeAdvance(), std::optional<uint64_t>(12));
  EXPECT_EQ(t.SetActive(7, true), std::optional<uint64_t>(12));  // a replacement worker
  t.Report(8, 20);
  EXPECT_FALSE(t.SetActive(8, true).has_value());  // already past the minimum
}

TEST(ClockTrackerTest, SubscribersAreTheWorkersThatReportClocks) {
  ClockTracker t;
  t.SetActive(1, true);
  t.SetActive(2, true);
  t.Subscribe(2);
  EXPECT_EQ(t.Subscribers(), std::vector<uint32_t>{2});
  t.Remove(2);
  EXPECT_TRUE(t.Subscribers().empty());
}

}  // namespace
}  // namespace embedps::scheduler
