#include "launch/supervisor.h"

#include <signal.h>

#include <cstdio>

#include "common/scheduler_link.h"
#include "launch/job_control.h"

namespace embedps::launch {
namespace {

using Clock = std::chrono::steady_clock;

// How long the nodes may take to shut down once the scheduler ended the job.
constexpr std::chrono::seconds kShutdownGrace{15};

void Say(const std::string& line) {
  std::printf("embedps: %s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

Status SuperviseJob(ProcessGroup& group, const SupervisePolicy& policy, const Restart& restart) {
  const auto deadline = Clock::now() + policy.timeout;
  uint32_t restarts = 0;
  // Once the scheduler finished the job, the other nodes only shut down:
  // one that fails or lingers then (a node presumed dead that wakes late)
  // cannot take back a job that is done.
  std::optional<Clock::time_point> job_done;
  bool stop_passed_on = false;
  while (group.running() > 0) {
    if (TerminateRequested()) {
      // SIGTERM: stop the job well (checkpoint, export) as POST /stop does;
      // a SIGINT on top still aborts at once.
      if (!stop_passed_on) {
        Say("SIGTERM: stopping the job (workers stop, checkpoint, export); Ctrl-C aborts");
        if (policy.stop_scheduler) {
          policy.stop_scheduler();
        } else {
          group.Signal(policy.scheduler, SIGTERM);
        }
      }
      stop_passed_on = true;
    } else if (Interrupted()) {
      return Aborted("interrupted; stopped all processes");
    }
    if (job_done && Clock::now() - *job_done > kShutdownGrace) {
      Say(std::to_string(group.running()) + " node(s) still running " + std::to_string(kShutdownGrace.count()) +
          " s after the job ended; stopping them");
      group.TerminateAll(std::chrono::seconds(2));
      break;
    }
    if (Clock::now() > deadline) {
      return DeadlineExceeded("job did not finish within --timeout_s=" + std::to_string(policy.timeout.count()));
    }
    auto exit = group.WaitAny(std::chrono::milliseconds(200));
    if (!exit) continue;
    if (exit->name == policy.scheduler && exit->exit_code == 0) job_done = Clock::now();
    if (exit->exit_code == 0) continue;
    const std::string who = exit->name + " (pid " + std::to_string(exit->pid) + ")";
    if (job_done) {
      Say(who + " exited with code " + std::to_string(exit->exit_code) + " after the job ended; the job's result stands");
      continue;
    }
    const bool replaced = exit->exit_code == kExitReplaced && exit->name != policy.scheduler;
    if (!replaced && (!policy.can_recover || !restart.killed(*exit))) return restart.describe(*exit);
    const std::string how = replaced ? "was replaced (after a stall or a SIGTERM) and left the job"
                                     : "was killed by signal " + std::to_string(exit->exit_code - 128);
    if (!policy.restart_failed || restarts >= policy.max_restarts) {
      // The scheduler recovers without it (a standby, the other workers)
      // or fails the job when it cannot; without a scheduler, no job.
      if (exit->name == policy.scheduler) return restart.describe(*exit);
      Say(who + " " + how + "; not " + (replaced ? "starting it again" : "restarting it") + " (" +
          (policy.restart_failed ? "restart limit reached" : "--restart_failed=false") + ")");
      continue;
    }
    auto spec = restart.spec(*exit);
    if (!spec.ok()) {
      // Not restartable now (a scheduler before its first checkpoint).
      if (exit->name == policy.scheduler) return restart.describe(*exit);
      return spec.status();
    }
    ++restarts;
    if (replaced) {
      Say(who + " " + how + "; starting it again as a spare");
    } else if (exit->name == policy.scheduler) {
      Say("the scheduler " + who.substr(who.find('(')) + " " + how +
          "; restarting it with --resume (from its newest checkpoint)");
    } else {
      Say(who + " " + how + "; restarting it (" + std::to_string(restarts) + " of at most " +
          std::to_string(policy.max_restarts) + " restarts)");
    }
    RETURN_IF_ERROR(group.Start(*spec).status());
  }
  return Status::OK();
}

}  // namespace embedps::launch
