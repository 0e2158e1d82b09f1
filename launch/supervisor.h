// What a launcher does while its job runs: waits for the processes it
// started, starts again one that died when the job can recover from that (a
// killed server or worker rejoins and the scheduler replaces or re-admits
// it; a killed scheduler resumes from its checkpoint), passes a SIGTERM on
// to the scheduler so the job stops well, and, once the scheduler has ended
// the job, lets a late failure (a node that woke after a stall) not change
// its result. Shared by `embedps local` and `embedps ssh`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "launch/process_group.h"

namespace embedps::launch {

struct SupervisePolicy {
  std::chrono::seconds timeout{3600};
  // Checkpoints are on: the scheduler can replace a dead node.
  bool can_recover = false;
  // Start a dead process again (else the scheduler recovers without it:
  // a standby, the other workers, or it fails the job).
  bool restart_failed = true;
  uint32_t max_restarts = 10;
  // The child that runs the scheduler (its exit 0 ends the job).
  std::string scheduler = "scheduler";
  // Passes a SIGTERM the launcher received on to the scheduler daemon (so
  // the job stops well); unset: SIGTERM to the child named `scheduler`.
  std::function<void()> stop_scheduler;
};

// How to start a dead child again: `killed` says whether it died of a
// signal (here or, through ssh, on its host), or left after being replaced
// (exit code 75). nullopt: this exit cannot be recovered from, and fails
// the job with describe(exit).
struct Restart {
  std::function<bool(const ChildExit&)> killed;
  std::function<StatusOr<ChildSpec>(const ChildExit&)> spec;
  std::function<Status(const ChildExit&)> describe;
};

// Runs until every child exited (OK once the scheduler ended the job) or the
// job failed (the failure, children left running for the caller to stop).
Status SuperviseJob(ProcessGroup& group, const SupervisePolicy& policy, const Restart& restart);

}  // namespace embedps::launch
