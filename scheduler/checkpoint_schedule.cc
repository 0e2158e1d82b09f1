#include "scheduler/checkpoint_schedule.h"

namespace embedps::scheduler {

std::optional<std::string> CheckpointSchedule::Due(const Facts& f) {
  const bool gap_passed = f.now - last_time_ >= settings_.min_gap;
  if (requested_) {
    requested_ = false;
    return std::string("requested");
  }
  if (gap_passed && settings_.each_pass && f.pass > last_pass_ && f.pass < f.passes) {
    return "end of pass " + std::to_string(f.pass);
  }
  if (settings_.interval.count() > 0 && f.now - last_time_ >= settings_.interval) return std::string("interval");
  if (!f.have_checkpoint && settings_.first_after.count() > 0 && f.now - f.train_start >= settings_.first_after &&
      f.rows > 0) {
    // Until the first checkpoint, a dead server's rows cannot be restored
    // (the job then fails): keep that window short.
    return std::string("first");
  }
  if (gap_passed && settings_.every_rows > 0 && f.rows - last_rows_ >= settings_.every_rows) {
    return std::string("rows");
  }
  return std::nullopt;
}

void CheckpointSchedule::Taken(Clock::time_point started, uint64_t rows, uint32_t pass) {
  last_time_ = started;
  last_rows_ = rows;
  last_pass_ = pass;
}

}  // namespace embedps::scheduler
