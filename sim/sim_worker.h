// A simulated embedps-worker: registers, heartbeats its progress, asks for
// partition leases, trains a lease batch by batch (each batch one push to
// the server that owns the lease, resent until acknowledged), pauses for
// checkpoints, stops when told, and registers again when the scheduler
// presumed it dead. It reports as trained only lines whose push was
// acknowledged, as the real worker does. With a staleness bound k it keeps
// the real worker's two clocks (batches started, batches acknowledged),
// reports the second and waits before a batch while the first is more than
// k ahead of the minimum the scheduler published (worker/worker.cc
// AwaitClock).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/shard_map.h"
#include "sim/sim_env.h"

namespace embedps::sim {

class SimWorker {
 public:
  // `on_exit(failed)` runs when the process ends on its own: shut down, or
  // failed (refused by the scheduler), which launchers restart.
  SimWorker(Env& env, std::string address, std::function<void(bool failed)> on_exit);

  void Start();
  const std::string& address() const { return address_; }
  // SIGKILL, or the job ended while it stalled: a push in flight is
  // abandoned (applied or not).
  void AbandonInFlight();

 private:
  struct Lease {
    uint32_t id = 0;
    uint64_t end = 0;
    uint64_t position = 0;  // lines acknowledged
  };
  struct InFlight {
    uint64_t seq = 0;
    uint64_t first = 0;
    uint64_t end = 0;
  };

  void Receive(const Packet& p);
  void OnControl(const wire::Header& h, const wire::Body& body);
  void OnAck(const DataAck& ack);
  void Register();
  void Heartbeat();
  void RequestPartition(int64_t finished);
  void NextBatch();
  void SendPush();
  void ResendIfUnacked(uint64_t seq);
  // Answers a pause once nothing is in flight.
  void MaybeAnswerPause();
  // Bounded staleness: whether the next batch must wait for the slowest
  // worker (then it reports its clock, waiting, every 500 ms until a
  // ClockUpdate lets it go on).
  bool BlockedOnClock();
  void RepeatWaitingReport(uint64_t round);
  void ReportClock(bool waiting);
  void OnClockUpdate(uint64_t min_clock);
  void SendToScheduler(wire::Body body, uint64_t request_id = 0);
  void Done();
  enum class ExitKind { kShutdown, kRefused, kError };
  void Exit(ExitKind kind, const std::string& why);

  Env& env_;
  std::string address_;
  std::function<void(bool)> on_exit_;
  uint32_t node_id_ = 0;
  bool registered_ = false;
  bool rejoining_ = false;  // registering again (SchedulerLink::Rejoin)
  bool have_map_ = false;
  bool awaiting_grant_ = false;
  bool done_ = false;
  bool stop_requested_ = false;
  bool exited_ = false;
  std::optional<uint64_t> pause_;   // checkpoint id of a pause asked for
  bool paused_ = false;              // answered, waiting for the resume
  bool batch_scheduled_ = false;
  uint64_t next_request_ = 1;
  uint64_t register_request_ = 0;  // its refusal is the only one that ends the process
  uint64_t next_seq_ = 1;
  uint64_t sends_ = 0;  // pushes sent, resends included
  uint64_t generation_ = 0;  // bumped at each registration: old timers lapse
  ShardMap map_;
  uint64_t last_epoch_ = 0;
  std::optional<Lease> lease_;
  std::optional<InFlight> in_flight_;
  wire::Progress progress_;
  // SSP, as the real worker keeps them: batches started (clock_) and the
  // minimum heard; like the real worker's, they survive a registration
  // again, which resets only progress_ (its acknowledged clock).
  uint64_t clock_ = 0;
  uint64_t known_min_ = 0;
  uint64_t reported_clock_ = 0;
  bool clock_wait_ = false;
  uint64_t clock_waits_ = 0;  // numbers each wait: an older wait's timer lapses
};

}  // namespace embedps::sim
