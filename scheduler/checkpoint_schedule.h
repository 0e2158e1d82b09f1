// When a checkpoint is due, as a coordinator: on request (POST
// /checkpoint), at a pass's end, every `interval`, once early after
// training starts (a server that dies before the first checkpoint fails the
// job), and every `every_rows` rows; pass ends and rows at least `min_gap`
// apart. It owns when the last one was taken and does no I/O: the core
// hands it the time and the job's totals. Unit-tested with a fake clock
// (tests/unit/scheduler/checkpoint_schedule_test.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/transport.h"

namespace embedps::scheduler {

class CheckpointSchedule {
 public:
  struct Settings {
    std::chrono::milliseconds interval{0};        // 0: not by time
    std::chrono::milliseconds first_after{0};     // 0: no early first one
    uint64_t every_rows = 0;                      // 0: not by rows
    bool each_pass = true;
    std::chrono::milliseconds min_gap{0};         // between pass-end or row checkpoints
  };
  // What the job is at, when the core asks.
  struct Facts {
    Clock::time_point now;
    Clock::time_point train_start;
    uint64_t rows = 0;         // rows trained so far
    uint32_t pass = 0;         // the pass of the oldest unfinished work
    uint32_t passes = 0;
    bool have_checkpoint = false;
  };

  explicit CheckpointSchedule(Settings settings) : settings_(settings) {}

  void Request() { requested_ = true; }
  // Why a checkpoint is due ("requested", "end of pass 2", "interval",
  // "first", "rows"), or none. A request is consumed when it is the reason.
  std::optional<std::string> Due(const Facts& f);
  // A checkpoint that began at `started` completed with the job at `rows`
  // and `pass`; also when training (re)starts, which counts as a fresh start.
  void Taken(Clock::time_point started, uint64_t rows, uint32_t pass);
  Clock::time_point last_time() const { return last_time_; }

 private:
  Settings settings_;
  bool requested_ = false;
  Clock::time_point last_time_;
  uint64_t last_rows_ = 0;
  uint32_t last_pass_ = 0;
};

}  // namespace embedps::scheduler
