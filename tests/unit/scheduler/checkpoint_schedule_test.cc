// When checkpoints are due, with a fake clock: on request, at pass ends
// (but not at the last pass's, which the final checkpoint covers), by
// interval, once early, by rows, and the minimum gap between them.
#include "scheduler/checkpoint_schedule.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::seconds;

CheckpointSchedule::Facts At(double s, uint64_t rows, uint32_t pass, bool have_checkpoint = true) {
  CheckpointSchedule::Facts f;
  f.now = kStart + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  f.train_start = kStart;
  f.rows = rows;
  f.pass = pass;
  f.passes = 3;
  f.have_checkpoint = have_checkpoint;
  return f;
}

TEST(CheckpointScheduleTest, FirstEarlyThenByIntervalAndOnRequest) {
  CheckpointSchedule s({seconds(30), seconds(5), 0, false, seconds(5)});
  s.Taken(kStart, 0, 0);  // training starts
  EXPECT_FALSE(s.Due(At(4.9, 100, 0, false)).has_value());
  EXPECT_FALSE(s.Due(At(6, 0, 0, false)).has_value()) << "nothing trained yet: nothing to keep";
  EXPECT_EQ(s.Due(At(5, 100, 0, false)), std::optional<std::string>("first"));
  s.Taken(kStart + seconds(5), 100, 0);
  EXPECT_FALSE(s.Due(At(34, 900, 0)).has_value());
  EXPECT_EQ(s.Due(At(35, 900, 0)), std::optional<std::string>("interval"));
  s.Taken(kStart + seconds(35), 900, 0);
  s.Request();
  EXPECT_EQ(s.Due(At(36, 950, 0)), std::optional<std::string>("requested"));
  EXPECT_FALSE(s.Due(At(37, 960, 0)).has_value()) << "a request is taken once";
}

TEST(CheckpointScheduleTest, PassEndsAndRowsKeepTheMinimumGap) {
  CheckpointSchedule s({seconds(0), seconds(0), 1000, true, seconds(5)});
  s.Taken(kStart, 0, 0);
  EXPECT_FALSE(s.Due(At(4, 5000, 1)).has_value()) << "within the minimum gap";
  EXPECT_EQ(s.Due(At(5, 5000, 1)), std::optional<std::string>("end of pass 1"));
  s.Taken(kStart + seconds(5), 5000, 1);
  EXPECT_FALSE(s.Due(At(6, 6500, 1)).has_value());
  EXPECT_EQ(s.Due(At(10, 6000, 1)), std::optional<std::string>("rows"));
  s.Taken(kStart + seconds(10), 6000, 1);
  // The last pass's end is the final checkpoint's, not this schedule's.
  EXPECT_FALSE(s.Due(At(20, 6100, 3)).has_value());
  EXPECT_EQ(s.Due(At(20, 6100, 2)), std::optional<std::string>("end of pass 2"));
}

}  // namespace
}  // namespace embedps::scheduler
