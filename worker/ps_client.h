// The worker's key-value client for the servers: splits a request by owning
// server (per the shard map), sends the parts to all servers in parallel, and
// gathers the replies. Pulls and push+pulls are started asynchronously and
// waited for by ticket, so a caller can keep several in flight; pushes are
// fire-and-forget within a bounded window of unacknowledged requests.
// Owned and used by a single thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/security/curve_keys.h"
#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"

namespace embedps::worker {

struct PsClientOptions {
  uint64_t cluster_id = 0;
  uint32_t node_id = 0;
  // Every wait (for a reply, or for push window space) ends by this deadline.
  std::chrono::milliseconds timeout{30000};
  // Unacknowledged push requests (one per server touched) allowed in flight.
  uint32_t max_inflight_pushes = 16;
  // A request without a reply for this long is sent again, with the same
  // request id (servers apply a push once however often it arrives), until
  // `timeout`. 0: never resend.
  std::chrono::milliseconds retry_interval{0};
  wire::DecodeLimits limits;
  // When set, time from sending a pull (or push+pull) to its last reply,
  // and from sending a push part to its acknowledgement, in seconds.
  // Borrowed; must outlive the client.
  Histogram* pull_seconds = nullptr;
  Histogram* push_seconds = nullptr;
  // CURVE keys for the server connections; disabled when empty.
  security::CurveConfig curve;
  // Called at least every 100 ms while a call waits for the servers, so the
  // owner keeps heartbeating the scheduler (a dead server must not make its
  // workers look dead too). An error ends the wait with that error.
  std::function<Status()> on_idle;
};

class PsClient {
 public:
  PsClient(zmq::context_t& ctx, PsClientOptions options);
  PsClient(const PsClient&) = delete;
  PsClient& operator=(const PsClient&) = delete;

  // Connects to every server of `map`.
  Status Connect(const ShardMap& map);

  // Starts fetching the rows of `keys` from `table`; when the ticket
  // completes, values[keys.size() * dim] holds them in key order. `values`
  // must stay alive until then; `keys` may be reused at once. `read_only`
  // (evaluation): the servers create no rows for it (missing keys read as
  // their initial values) and mark none as used.
  StatusOr<uint64_t> StartPull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                               std::vector<float>* values, bool read_only = false);
  // Starts a push of grads[keys.size() * dim] whose reply carries the rows
  // after the update, written to *values.
  StatusOr<uint64_t> StartPushPull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                                   const std::vector<float>& grads, std::vector<float>* values);
  // Waits for a started operation. Returns the first server error it got,
  // or DeadlineExceeded.
  Status Wait(uint64_t ticket);

  // StartPull + Wait.
  Status Pull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
              std::vector<float>* values, bool read_only = false);

  // Sends grads[keys.size() * dim] for `keys` without waiting for the
  // servers, blocking only while the push window is full. A server's refusal
  // of an earlier push is returned by the next call. NaN or infinite
  // gradients refuse the whole push (InvalidArgument).
  Status Push(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
              const std::vector<float>& grads);

  // Waits until every push has been acknowledged.
  Status Flush();

  // Forgets every pull and push+pull not yet waited for, so replies that
  // come later are dropped instead of written into their callers' buffers:
  // for a caller that unwound (a rejoin) and still flushes its pushes.
  void AbandonValueOperations();

  // Switches to a newer shard map (failover gives a rank a new endpoint):
  // reconnects the ranks whose endpoint changed and sends every
  // unanswered request to them again, with its original request id, so a
  // push reaches the new owner once. Ownership must not change (the
  // replacement takes over the dead server's rank).
  Status UpdateMap(const ShardMap& map);
  uint64_t epoch() const { return map_.epoch(); }

  // Id of the newest request sent so far; every push sent up to now is
  // acknowledged once AckedThrough(that id) is true.
  uint64_t last_request_id() const { return header_.request_id; }
  bool AckedThrough(uint64_t request_id) const {
    return inflight_pushes_.empty() || inflight_pushes_.begin()->first > request_id;
  }

  size_t inflight_pushes() const { return inflight_pushes_.size(); }
  // Requests sent again after retry_interval without a reply.
  uint64_t retries() const { return retries_; }
  // Pushes a server asked to send again (its backup was down, --replicas=2).
  uint64_t unavailable_answers() const { return unavailable_answers_; }
  // Requests sent (each part of a split request counts), retries excluded.
  uint64_t requests_sent() const { return header_.request_id; }

 private:
  // One pull or push+pull split over the servers.
  struct Operation {
    std::vector<float>* values = nullptr;
    uint32_t dim = 0;
    std::vector<std::vector<uint32_t>> positions;  // per server: key positions
    uint32_t parts_left = 0;
    Status status;
    Clock::time_point started;
  };
  struct Part {
    uint64_t ticket = 0;
    uint32_t server = 0;
  };
  // A request kept until answered, for resending after retry_interval or to
  // a failed server's replacement: its frames share their buffers with the
  // ones sent, so keeping them costs no copy.
  struct Unanswered {
    uint32_t server = 0;
    Clock::time_point sent;
    std::vector<zmq::message_t> frames;
    // Set when the server answered "unavailable" (a replica is down): send
    // it again at this time.
    std::optional<Clock::time_point> retry_at;
  };

  // Groups key positions by owning server.
  void Route(const std::vector<uint64_t>& keys, std::vector<std::vector<uint32_t>>* routed) const;
  // Starts a pull (grads == nullptr) or a push+pull.
  StatusOr<uint64_t> StartValuesOp(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                                   const std::vector<float>* grads, std::vector<float>* values,
                                   bool read_only = false);
  Status Send(uint32_t server, const wire::Body& body, std::vector<zmq::message_t> payloads,
              uint64_t* request_id);
  // Receives and handles replies until `done()` or the deadline.
  template <typename Done>
  Status PumpUntil(Done done, const char* what);
  void HandleReply(uint32_t server, wire::Message& msg);
  void CompletePart(uint64_t request_id, const Status& status, const wire::Message* reply);
  // Resends every kept request whose retry interval has passed.
  void ResendDue();
  // Resends the kept requests for `server` now.
  void Resend(uint32_t server, Unanswered& kept);
  // A DEALER connected to `endpoint`.
  StatusOr<zmq::socket_t> ConnectTo(const std::string& endpoint);
  static Status CheckFinite(const std::vector<float>& grads);

  PsClientOptions options_;
  zmq::context_t& ctx_;
  ShardMap map_;
  std::vector<zmq::socket_t> sockets_;  // by server rank
  std::vector<zmq::pollitem_t> poll_items_;
  wire::Header header_;
  std::vector<std::vector<uint32_t>> push_routed_;  // scratch for pushes
  uint64_t next_ticket_ = 0;
  std::map<uint64_t, Operation> operations_;  // by ticket
  std::map<uint64_t, Part> parts_;            // by request id
  struct InflightPush {
    uint32_t server = 0;
    Clock::time_point sent;
  };
  std::map<uint64_t, InflightPush> inflight_pushes_;  // by request id
  Status push_error_;  // first push refusal not yet returned
  std::map<uint64_t, Unanswered> unanswered_;  // by request id
  uint64_t retries_ = 0;
  uint64_t unavailable_answers_ = 0;
  // Servers that moved (failover), until their first push acknowledgement,
  // which is logged with the time since the new map arrived.
  std::map<uint32_t, Clock::time_point> moved_at_;
};

}  // namespace embedps::worker
