// The job's history with a fake clock: samples when due, rates and losses
// over each interval, thinning of a long history, and the bounded events.
#include "scheduler/job_history.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::milliseconds;

TEST(JobHistoryTest, SamplesRatesAndLossesPerInterval) {
  JobHistory h;
  // A resumed job: 1000 rows came before, at a loss that must not leak
  // into the first interval.
  h.StartTraining(kStart, Trained(1000, 900.0));
  EXPECT_FALSE(h.Sample(kStart + milliseconds(999), Trained(1100, 950.0), false)) << "not due yet";
  ASSERT_TRUE(h.Sample(kStart + milliseconds(1000), Trained(1100, 950.0), false));
  EXPECT_DOUBLE_EQ(h.recent_rows_per_sec(), 100.0);
  EXPECT_DOUBLE_EQ(h.recent_loss(), 0.5);
  // An interval without rows (a stall) has no loss, not a perfect one.
  ASSERT_TRUE(h.Sample(kStart + milliseconds(2000), Trained(1100, 950.0), false));
  EXPECT_DOUBLE_EQ(h.recent_rows_per_sec(), 0.0);
  EXPECT_LT(h.recent_loss(), 0);
  // Forced (training ended): a sample whenever asked.
  ASSERT_TRUE(h.Sample(kStart + milliseconds(2100), Trained(1200, 1000.0), true));
  const nlohmann::json samples = h.SamplesJson();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_DOUBLE_EQ(samples[0]["t"].get<double>(), 1.0);
  EXPECT_EQ(samples[1]["loss"], nullptr);
  EXPECT_EQ(samples[2]["rows"], 1200);
}

TEST(JobHistoryTest, ALongJobIsThinnedAndItsIntervalDoubles) {
  JobHistory h;
  h.StartTraining(kStart, {});
  Clock::time_point t = kStart;
  for (size_t i = 1; i < JobHistory::kMaxSamples; ++i) {
    t += h.interval();
    ASSERT_TRUE(h.Sample(t, Trained(i * 10, i), false));
  }
  EXPECT_EQ(h.samples(), JobHistory::kMaxSamples - 1);
  EXPECT_EQ(h.interval(), milliseconds(1000));
  t += h.interval();
  ASSERT_TRUE(h.Sample(t, Trained(JobHistory::kMaxSamples * 10, 1), false));
  EXPECT_EQ(h.samples(), JobHistory::kMaxSamples / 2);
  EXPECT_EQ(h.interval(), milliseconds(2000));
  EXPECT_FALSE(h.Sample(t + milliseconds(1500), Trained(JobHistory::kMaxSamples * 10, 1), false))
      << "samples now come every two seconds";
  // Every other sample kept: the first, the third, ...
  const nlohmann::json samples = h.SamplesJson();
  EXPECT_EQ(samples[1]["rows"], 30);
}

TEST(JobHistoryTest, KeepsTheNewestEvents) {
  JobHistory h;
  for (size_t i = 0; i < JobHistory::kMaxEvents + 5; ++i) h.AddEvent(i, 1e9 + i, "k", "event " + std::to_string(i));
  const nlohmann::json events = h.EventsJson();
  ASSERT_EQ(events.size(), JobHistory::kMaxEvents);
  EXPECT_EQ(events.front()["text"], "event 5");
  EXPECT_EQ(events.back()["text"], "event " + std::to_string(JobHistory::kMaxEvents + 4));
  EXPECT_EQ(events.back()["kind"], "k");
}

}  // namespace
}  // namespace embedps::scheduler
