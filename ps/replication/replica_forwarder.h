// The primary's half of replication (--replicas=2): before a push is applied
// and acknowledged, it goes to the backup server (shard map BackupOf(rank)),
// which applies it to its copy and answers. A push the backup has not
// confirmed is not applied here either, and the worker is told to send it
// again shortly (ErrorCode kUnavailable), so every acknowledged push lives
// on two servers.
//
// Used by all handler threads at once. Each forward takes a DEALER socket
// from a small pool (a socket serves one thread at a time); a socket whose
// answer timed out is closed, so a late answer can never be mistaken for
// another request's.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/mutex.h"
#include "common/security/curve_keys.h"
#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"

namespace embedps::ps {

struct ReplicaForwarderOptions {
  // How long a push waits for the backup's answer; past it the push is
  // refused (kUnavailable) and the backup is presumed down for a while.
  std::chrono::milliseconds timeout{2000};
  // After a timeout, pushes are refused at once for this long, then the
  // next one tries the backup again.
  std::chrono::milliseconds retry_after{500};
  size_t max_message_bytes = size_t{256} << 20;
  wire::DecodeLimits limits;
  security::CurveConfig curve;
  // Without CURVE, what the backup's replica socket asks for.
  std::string member_password;
};

class ReplicaForwarder {
 public:
  enum class Outcome {
    kNotReplicated,  // replication is off: apply as usual
    kReplicated,     // the backup applied it (or had already): apply it here
    kUnavailable,    // no confirmation from the backup: do not apply
    kRefused,        // the backup refused it (bad values): do not apply
  };

  // Counts forwards in flight, from before the forward until the push is
  // applied here; Suspend() waits for them.
  class Ticket {
   public:
    explicit Ticket(ReplicaForwarder* f) : f_(f) { f_->in_flight_.fetch_add(1); }
    ~Ticket() { f_->in_flight_.fetch_sub(1); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    ReplicaForwarder* f_;
  };

  ReplicaForwarder(zmq::context_t& ctx, ReplicaForwarderOptions options, MetricsRegistry* metrics);

  // A new shard map (or rank): forwarding follows its replication settings
  // and this server's backup endpoint. A suspension ends once the map names
  // a different endpoint for the backup (its replacement).
  void SetMap(const ShardMap& map, uint32_t rank);
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }

  // The backup is gone: refuse pushes until a map with its replacement
  // arrives, and wait (up to `wait`) until no push is between its forward
  // and its local apply, so the rows stop changing. DeadlineExceeded if
  // some still are.
  Status Suspend(const std::string& why, std::chrono::milliseconds wait);
  // A restarted scheduler voids the handoff a suspension was for: the
  // backup may rejoin it on the same endpoint (its rows kept), which
  // SetMap would never take for a replacement. Replicate again.
  void EndSuspension();

  // Forwards a push under `header` (the worker's sender and request id) and
  // waits for the backup. Hold a Ticket from before this call until the push
  // is applied locally. `error` gets the reason for kUnavailable/kRefused.
  Outcome Forward(const wire::Header& header, uint32_t table, uint32_t num_keys, uint32_t dim,
                  const zmq::message_t& keys, const zmq::message_t& grads, std::string* error);

 private:
  struct Pooled {
    std::string endpoint;
    std::unique_ptr<zmq::socket_t> socket;
  };
  StatusOr<Pooled> TakeSocket(const std::string& endpoint);
  void ReturnSocket(Pooled pooled);

  zmq::context_t& ctx_;
  const ReplicaForwarderOptions options_;
  std::atomic<bool> enabled_{false};
  std::atomic<int> in_flight_{0};

  Mutex mu_;
  std::string backup_endpoint_ GUARDED_BY(mu_);
  uint32_t rank_ GUARDED_BY(mu_) = 0;
  uint32_t backup_rank_ GUARDED_BY(mu_) = 0;
  std::string suspended_endpoint_ GUARDED_BY(mu_);  // non-empty: refuse until the backup moves
  std::string suspended_why_ GUARDED_BY(mu_);
  Clock::time_point retry_at_ GUARDED_BY(mu_);  // after a timeout: refuse until then
  std::vector<Pooled> pool_ GUARDED_BY(mu_);

  Counter* forwarded_;
  Counter* refused_;
  Counter* timeouts_;
  Histogram* forward_seconds_;
};

}  // namespace embedps::ps
