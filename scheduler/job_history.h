// The job's history for the dashboard: the events list and the progress
// samples behind its plots (rows, rows/s, loss over time), both bounded so
// a long job still fits in one page. Pure state: the core hands it the time
// and the job's totals (tests/unit/scheduler/job_history_test.cc).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rate_meter.h"
#include "common/transport.h"
#include "common/wire/messages.h"

namespace embedps::scheduler {

class JobHistory {
 public:
  static constexpr size_t kMaxEvents = 200;
  // At this many samples every other one is dropped and the interval
  // doubles.
  static constexpr size_t kMaxSamples = 600;

  // An event `t` seconds into the job, at wall-clock `unix_time`.
  void AddEvent(double t, double unix_time, const std::string& kind, const std::string& text);

  // Training starts (or resumes) at `start` with `total` trained so far:
  // rates and losses count from there, and the first sample is one interval later.
  void StartTraining(Clock::time_point start, const wire::Progress& total);
  // Adds a sample of `total` when one is due at `now` (always with
  // `force`); returns whether it did.
  bool Sample(Clock::time_point now, const wire::Progress& total, bool force);

  // Over the last sampling interval; loss < 0 when it trained no rows.
  double recent_rows_per_sec() const { return recent_rows_per_sec_; }
  double recent_loss() const { return recent_loss_; }
  std::chrono::milliseconds interval() const { return interval_; }
  size_t samples() const { return samples_.size(); }

  nlohmann::json EventsJson() const;
  // [{t, rows, rows_per_sec, loss}], loss null for an interval without rows.
  nlohmann::json SamplesJson() const;

 private:
  struct Point {
    double t = 0;  // seconds since training began
    uint64_t rows = 0;
    double rows_per_sec = 0;
    double loss = 0;  // mean over the interval; < 0 when no rows in it
  };

  std::deque<nlohmann::json> events_;  // newest last
  std::vector<Point> samples_;
  std::chrono::milliseconds interval_{1000};
  Clock::time_point train_start_;
  Clock::time_point next_sample_;
  RateMeter rows_meter_;
  wire::Progress last_sample_;
  double recent_rows_per_sec_ = 0;
  double recent_loss_ = -1;
};

}  // namespace embedps::scheduler
