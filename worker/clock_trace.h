// Test support (worker --test_clock_trace): one line per clock event,
// "<steady-clock ns> <event> <clock>", so a test can merge the traces of
// every worker of a job on one host and check the staleness bound from
// outside the mechanism that enforces it. Events: `start` (a batch starts
// at this clock, after the bound's check), `applied` (the clock reached
// this value: recorded before any message can carry it), `jump` (started
// at the slowest worker's clock), `request` (asking for a partition),
// `grant` / `nogrant` (the answer), `done` (finished).
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "common/status.h"

namespace embedps::worker {

class ClockTrace {
 public:
  static StatusOr<std::unique_ptr<ClockTrace>> Open(const std::string& path);
  void Record(const char* event, uint64_t clock);
  void Flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

}  // namespace embedps::worker
