// StepTimeline (ps/store/step_timeline.h): which step a wall-clock horizon
// maps to, its bounded memory, and that it never claims a row idle for
// less than the horizon.
#include "ps/store/step_timeline.h"

#include <gtest/gtest.h>

namespace embedps::ps {
namespace {

using Clock = StepTimeline::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(StepTimelineTest, AnswersOnlyOnceItReachesBackTheHorizon) {
  StepTimeline timeline(seconds(60));
  const Clock::time_point t0{};
  timeline.Record(t0, 0);
  EXPECT_FALSE(timeline.IdleBefore(t0 + seconds(59)).has_value());
  timeline.Record(t0 + seconds(30), 100);
  timeline.Record(t0 + seconds(61), 250);
  // 60 s before 61 is 1: the newest sample at or before it is step 0.
  EXPECT_EQ(timeline.IdleBefore(t0 + seconds(61)), 0u);
  // 60 s before 95 is 35: the sample at 30 (step 100) is the newest before.
  EXPECT_EQ(timeline.IdleBefore(t0 + seconds(95)), 100u);
  EXPECT_EQ(timeline.IdleBefore(t0 + seconds(121)), 250u);
}

TEST(StepTimelineTest, KeepsAboutAThousandSamplesPerHorizon) {
  StepTimeline timeline(seconds(10));
  const Clock::time_point t0{};
  // One pass every millisecond for a minute: samples are kept 10 ms apart
  // (horizon / 1000), and only back to the horizon.
  for (int ms = 0; ms <= 60000; ++ms) timeline.Record(t0 + milliseconds(ms), static_cast<uint64_t>(ms));
  EXPECT_LE(timeline.samples(), 1002u);
  EXPECT_GE(timeline.samples(), 999u);
  // The answer is within one resolution step of exact, and on the old side.
  const auto step = timeline.IdleBefore(t0 + seconds(60));
  ASSERT_TRUE(step.has_value());
  EXPECT_LE(*step, 50000u);
  EXPECT_GE(*step, 49990u);
}

TEST(StepTimelineTest, NeverNamesAStepFromInsideTheHorizon) {
  StepTimeline timeline(seconds(5));
  const Clock::time_point t0{};
  uint64_t step = 0;
  for (int ms = 0; ms <= 20000; ms += 7) {
    const Clock::time_point now = t0 + milliseconds(ms);
    timeline.Record(now, step);
    const auto idle = timeline.IdleBefore(now);
    if (ms < 5000) {
      EXPECT_FALSE(idle.has_value()) << ms;
    } else {
      ASSERT_TRUE(idle.has_value()) << ms;
      // Steps here are recorded as ms / 7: the answer's time is at or
      // before now - 5 s.
      EXPECT_LE(*idle * 7, static_cast<uint64_t>(ms - 5000)) << ms;
    }
    ++step;
  }
}

}  // namespace
}  // namespace embedps::ps
