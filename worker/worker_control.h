// The worker's control state: what the scheduler has asked of it (pause
// for a checkpoint, resume, stop, evaluate, a new minimum clock, shut down)
// and what SIGTERM asked. Every place where the worker waits on the
// scheduler hands each message it reads to OnEvent, and then acts on what
// it can act on there; what it cannot (an evaluation asked for during a
// checkpoint's pause) stays here until a place that can takes it, instead
// of being dropped by a loop that does not handle it. No I/O: unit-tested
// with scripted events (tests/unit/worker/worker_control_test.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/wire/messages.h"

namespace embedps::worker {

class WorkerControl {
 public:
  // Records one message from the scheduler. Messages a worker is never
  // sent are counted in ignored() (and logged once).
  void OnEvent(const wire::Message& event);

  // A checkpoint's pause not yet answered: its id; taken once.
  std::optional<uint64_t> TakePause();
  // Whether the resume of checkpoint `id` has come (consumed).
  bool TakeResume(uint64_t id);
  // An evaluation asked for and not yet run; taken once.
  std::optional<wire::EvaluateMsg> TakeEvaluation();
  bool evaluation_pending() const { return evaluation_.has_value(); }
  // The newest minimum clock (bounded staleness) not yet applied.
  std::optional<uint64_t> TakeMinClock();

  // Stop after the current batch: the scheduler's StopTraining, or SIGTERM
  // (which also hands the lease back and leaves: leaving()).
  bool stop_requested() const { return stop_requested_; }
  const std::string& stop_reason() const { return stop_reason_; }
  void Leave();
  bool leaving() const { return leaving_; }
  // Set once the scheduler has shut the job down: OK when it ended well.
  const std::optional<Status>& shutdown() const { return shutdown_; }

  // A new registration (the scheduler restarted): what the old scheduler
  // asked is void. Leaving (SIGTERM) stays.
  void Reset();

  uint64_t ignored() const { return ignored_; }

 private:
  std::optional<uint64_t> pause_;
  std::optional<uint64_t> resumed_;
  std::optional<wire::EvaluateMsg> evaluation_;
  std::optional<uint64_t> min_clock_;
  bool stop_requested_ = false;
  std::string stop_reason_;
  bool leaving_ = false;
  std::optional<Status> shutdown_;
  uint64_t ignored_ = 0;
};

}  // namespace embedps::worker
