// A node's control channel to the scheduler: registration, the shard map,
// heartbeats, request/reply calls and unsolicited events (shutdown, new shard
// map, export requests). Owned and used by a single thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <utility>
#include <functional>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "common/security/curve_keys.h"
#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"
#include "common/wire/messages.h"

namespace embedps {

struct SchedulerLinkOptions {
  std::string scheduler_endpoint;
  uint64_t cluster_id = 0;
  wire::Role role = wire::Role::kUnknown;
  // Servers: the endpoint workers should connect to, and the one where a
  // primary forwards pushes to its backup (--replicas=2).
  std::string advertised_endpoint;
  std::string replica_endpoint;
  // This node's HTTP endpoint (http://HOST:PORT), reported when joining so
  // the scheduler can list it; empty when the node serves no HTTP.
  std::string metrics_url;
  // Called with the node's rank once it is admitted (e.g. to tag logs).
  std::function<void(uint32_t rank)> on_joined;
  std::chrono::milliseconds heartbeat_interval{1000};
  // No message from the scheduler for this long means it is gone.
  std::chrono::milliseconds scheduler_timeout{30000};
  // How long Join() waits for admission and the first shard map.
  std::chrono::milliseconds join_timeout{120000};
  wire::DecodeLimits limits;
  // CURVE keys; disabled (plain text) when empty.
  security::CurveConfig curve;
  // Tests only: the wire-protocol version this node's messages carry.
  uint16_t wire_version = wire::kWireVersion;
};

// How long before the scheduler's death timeout runs out a server stops
// serving its rank when it has not heard from the scheduler (its lease; see
// ps::ServingState::serving_until_ns).
inline std::chrono::milliseconds ServingLeaseMargin(std::chrono::milliseconds node_timeout) {
  return std::min(node_timeout / 4, std::chrono::milliseconds(500));
}

class SchedulerLink {
 public:
  SchedulerLink(zmq::context_t& ctx, SchedulerLinkOptions options);
  SchedulerLink(const SchedulerLink&) = delete;
  SchedulerLink& operator=(const SchedulerLink&) = delete;

  // Connects, registers, and waits for the reply and the first shard map.
  // Returns the scheduler's refusal (e.g. wrong cluster) or DeadlineExceeded.
  Status Join();

  // True once the scheduler answered "unknown node": it restarted (with
  // --resume) and this node must register again. Tick() and Call() then
  // return Unavailable(kSchedulerRestarted) until Rejoin() succeeds.
  bool rejoin_needed() const { return rejoin_needed_; }
  // True once the scheduler said another node took this one's place (it
  // was presumed dead while stalled). Tick() and Call() then return
  // Aborted(kReplaced ...): the node must leave the job, and exits with
  // kExitReplaced so a supervisor may start it again as a fresh spare.
  bool replaced() const { return !replaced_.ok(); }
  // Registers again, telling the new scheduler the rank this node had and
  // whether it still holds that rank's rows, and waits for the shard map.
  // Queued events are dropped: they came from the old scheduler.
  // `rank`: the rank this node serves now, when it differs from the one it
  // joined with (a standby promoted to a dead server's rank).
  Status Rejoin(bool has_state, std::optional<uint32_t> rank = std::nullopt);

  // Sends a request stamped with this node's identity; returns its id.
  StatusOr<uint64_t> Send(const wire::Body& body);

  // Sends `body` and waits for the reply carrying the same request id.
  // Unrelated messages that arrive meanwhile are queued as events. An Error
  // reply becomes a non-OK Status. Heartbeats go on while it waits (the last
  // one Tick() built): a request that died with a killed scheduler gets no
  // reply, but a heartbeat reaching its restarted successor is answered
  // "unknown node", and the call returns Unavailable(kSchedulerRestarted).
  // A partition request's progress replaces the repeated heartbeat's.
  StatusOr<wire::Message> Call(const wire::Body& body, std::chrono::milliseconds timeout);

  // Non-blocking upkeep: sends a heartbeat when one is due, queues incoming
  // messages as events, and returns Unavailable once the scheduler has been
  // silent longer than scheduler_timeout.
  Status Tick(const wire::Progress& progress);
  // As above, with the heartbeat built by `make_heartbeat` only when one is
  // due (servers attach their table statistics).
  Status TickWithHeartbeat(const std::function<wire::HeartbeatMsg()>& make_heartbeat);

  // Next queued unsolicited message, if any. A ShardMap event has already
  // been applied to shard_map() when it is returned.
  std::optional<wire::Message> NextEvent();

  // Servers learn their endpoint only after binding; set it before Join().
  void set_advertised_endpoint(std::string endpoint) {
    options_.advertised_endpoint = std::move(endpoint);
  }
  void set_replica_endpoint(std::string endpoint) { options_.replica_endpoint = std::move(endpoint); }
  void set_metrics_url(std::string url) { options_.metrics_url = std::move(url); }

  // Reports a fatal error to the scheduler (best effort) before exiting.
  void ReportFatal(const Status& status);

  uint32_t node_id() const { return node_id_; }
  uint32_t rank() const { return rank_; }
  uint32_t num_workers() const { return num_workers_; }
  // When the newest request the scheduler answered (not with an error) was
  // sent: the scheduler cannot presume this node dead sooner than
  // node_timeout() after it. Not when the answer arrived: an answer read
  // late, after a stall, proves nothing about now. And how long the
  // scheduler waits for a silent node (0: an older scheduler that does
  // not say).
  Clock::time_point answered_sent_at() const { return answered_sent_at_; }
  std::chrono::milliseconds node_timeout() const { return std::chrono::milliseconds(node_timeout_ms_); }
  const ShardMap& shard_map() const { return shard_map_; }
  const wire::Header& header() const { return header_; }
  zmq::socket_t& socket() { return socket_; }

 private:
  // Records that the scheduler answered request m.header.request_id.
  void NoteAnswer(const wire::Message& m);
  // Sends a registration and waits for the reply and the first shard map.
  Status Register(const wire::RegisterMsg& reg);
  // Receives at most one message within `timeout`; returns whether one came.
  // A reply to `request_id` goes to *reply, anything else is filed as an event.
  bool ReceiveOne(std::chrono::milliseconds timeout, uint64_t request_id,
                  std::optional<wire::Message>* reply);

  SchedulerLinkOptions options_;
  zmq::socket_t socket_;
  wire::Header header_;
  uint32_t node_id_ = 0;
  uint32_t rank_ = 0;
  uint32_t num_workers_ = 0;
  uint32_t node_timeout_ms_ = 0;
  ShardMap shard_map_;
  std::deque<wire::Message> events_;
  Clock::time_point last_heard_;
  Clock::time_point next_heartbeat_;
  // Requests sent (id, when), oldest first, and the send time of the newest
  // one answered (answered_sent_at()).
  std::deque<std::pair<uint64_t, Clock::time_point>> sent_;
  Clock::time_point answered_sent_at_;
  // The last heartbeat sent by Tick(), repeated while Call() waits.
  wire::HeartbeatMsg last_heartbeat_;
  // Why the scheduler's messages could not be read, once that is fatal
  // (another wire-protocol version); Join() fails with it at once.
  Status incompatible_;
  bool joined_ = false;
  bool rejoin_needed_ = false;
  Status replaced_;  // not OK once the scheduler said this node was replaced
};

// The status Tick()/Call() return while a rejoin is due.
inline constexpr char kSchedulerRestarted[] = "the scheduler restarted; this node must rejoin";
// The start of the status they return once this node was replaced.
inline constexpr char kReplaced[] = "this node was replaced";
// The exit code of a node that left the job because it was replaced
// (EX_TEMPFAIL): not a failure of the job; a supervisor may start the
// process again, and it then joins as a spare.
inline constexpr int kExitReplaced = 75;

}  // namespace embedps
