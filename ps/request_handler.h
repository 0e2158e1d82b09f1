// Serves one worker request (pull, push, push+pull) against the tables and
// sends the reply on the socket it came from. Called concurrently from the
// server's handler threads: it holds no mutable state of its own; tables
// synchronize internally and counters are atomic.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/mutex.h"
#include "common/shard_map.h"
#include "common/transport.h"
#include "common/wire/codec.h"
#include "ps/embedding_table.h"
#include "ps/replication/replica_forwarder.h"
#include "ps/request_dedup.h"

namespace embedps::ps {

// Bounds on what one request may ask of a server. A request past one gets
// an error reply (limitExceeded, or tooLarge for the reply size) and a
// server.limit.* counter increment; it is never applied in part.
struct ServerLimits {
  uint32_t max_keys_per_request = 1 << 20;
  // Largest reply a pull may produce (the workers' --max_message_bytes).
  uint64_t max_reply_bytes = uint64_t{256} << 20;
  // New rows are refused once a table holds this many.
  uint64_t max_rows_per_table = uint64_t{1} << 31;
  // New rows are refused once all tables' live rows (rows x (row bytes + 16
  // index bytes)) would pass this. Requests in flight together may overshoot
  // by their own new rows.
  uint64_t max_memory_bytes = uint64_t{1} << 40;
};

// What the handlers need to know about the server they serve for.
struct ServingState {
  uint64_t cluster_id = 0;
  uint32_t node_id = 0;
  // Changes when a standby server is promoted to a dead server's rank.
  std::atomic<uint32_t> rank{0};
  // False while the server is a standby or restoring: requests are refused
  // (the scheduler publishes its endpoint only once it serves).
  std::atomic<bool> serving{true};
  // The server's lease on its rank: requests are refused after this
  // instant (steady clock, ns since its epoch) until the scheduler is heard
  // from again. A server stalled past the scheduler's death timeout (a GC
  // pause, a frozen VM) may have been replaced: acknowledging a push then
  // would lose it silently (found by the simulator, docs/simulation.md).
  std::atomic<int64_t> serving_until_ns{INT64_MAX};
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> tables;
  // --replicas=2: this server's copy of the rows of the server it backs up
  // (same table ids and configs), kept apart so exports and checkpoints
  // hold each row once.
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> replica_tables;
  // Benchmark reference only: validate and answer requests but skip the
  // tables (pulls return zeros, pushes change nothing), which measures the
  // transport's ceiling on the same machine.
  bool null_store = false;
  ServerLimits limits;
  // Live bytes of all tables' rows (approximate; see ServerLimits).
  uint64_t LiveBytes() const {
    uint64_t bytes = 0;
    for (const auto* set : {&tables, &replica_tables}) {
      for (const auto& [id, table] : *set) bytes += table->approx_rows() * table->bytes_per_live_row();
    }
    return bytes;
  }
};

class RequestHandler {
 public:
  // Borrows `state` and `metrics`; both must outlive the handler.
  RequestHandler(const ServingState* state, MetricsRegistry* metrics);

  // Installs a new shard map (thread-safe). Requests routed with an older
  // epoch are still served when this server owns their keys: failover
  // changes endpoints, not ownership, so requests in flight stay valid.
  void SetShardMap(const ShardMap& map);

  // --replicas=2: pushes go through `forwarder` (borrowed) before they are
  // applied. Set before serving.
  void set_forwarder(ReplicaForwarder* forwarder) { forwarder_ = forwarder; }
  // Request ids applied here, to seed from a replication handoff.
  RequestDedup& applied_ids() const { return dedup_; }

  // Handles `in` (already received, possibly malformed) and replies on `socket`.
  void Handle(Incoming& in, zmq::socket_t& socket) const;

 public:
  // What a data request asks for (pull, push, push+pull).
  struct DataRequest {
    uint32_t table = 0;
    uint32_t num_keys = 0;
    uint32_t dim = 0;
    bool has_grads = false;
    bool wants_values = false;
    bool read_only = false;
  };

 private:
  // Why a request is refused: what its sender is told, and how it counts.
  struct Refusal {
    enum class Kind {
      kRejected,   // counted as rejected
      kOverLimit,  // a limit: its own counter, the limit total and rejected
      kRetry,      // not counted: the sender tries again (not serving yet)
    };
    wire::ErrorCode code;
    std::string message;
    Kind kind = Kind::kRejected;
    Counter* limit_counter = nullptr;  // kOverLimit
  };
  // A push's claim on its request id: `claim` to apply it under; neither
  // set: a duplicate, answered already.
  struct Claim {
    std::optional<RequestDedup::ScopedClaim> claim;
    std::optional<Refusal> refusal;
    bool apply = false;
  };

  void HandleData(const zmq::message_t& from, wire::Message& msg, zmq::socket_t& socket) const;
  // The checks before a request touches a row, in order: its kind, key
  // count, table, serving state and lease, key ownership, dim, limits. The
  // first that fails is returned; otherwise *table is set.
  std::optional<Refusal> Check(const wire::Message& msg, const DataRequest& req, const uint64_t* keys,
                               EmbeddingTable** table) const;
  // Whether the serving lease (ServingState::serving_until_ns) has run out.
  bool LeaseExpired() const;
  // Validates table, serving state, lease and ownership.
  std::optional<Refusal> Admit(const wire::Message& msg, uint32_t table, const uint64_t* keys, size_t n,
                               EmbeddingTable** out) const;
  std::optional<Refusal> CheckLimits(const EmbeddingTable& table, const uint64_t* keys, uint32_t num_keys,
                                     bool wants_values) const;
  // For pushes: claims the request id once; a duplicate is answered here.
  Claim ClaimOnce(const zmq::message_t& from, const wire::Message& msg, EmbeddingTable& table,
                  const uint64_t* keys, uint32_t num_keys, bool wants_values, zmq::socket_t& socket) const;
  void ReplyRows(const zmq::message_t& to, const wire::Message& msg, uint32_t table, uint32_t num_keys,
                 uint32_t dim, wire::PayloadBuffer<float> values, zmq::socket_t& socket) const;
  // The one place a data request is refused: counts it and replies.
  void Refuse(const zmq::message_t& to, const wire::Header& request, const Refusal& refusal,
              zmq::socket_t& socket) const;
  void ReplyError(const zmq::message_t& to, const wire::Header& request, wire::ErrorCode code,
                  const std::string& message, zmq::socket_t& socket) const;
  std::shared_ptr<const ShardMap> shard_map() const;

  const ServingState* state_;
  mutable Mutex map_mu_;
  std::shared_ptr<const ShardMap> map_ GUARDED_BY(map_mu_);  // the pointer; the map is immutable
  mutable RequestDedup dedup_;  // thread-safe
  ReplicaForwarder* forwarder_ = nullptr;
  Counter* replica_refusals_;
  Counter* pulls_;
  Counter* pushes_;
  Counter* keys_pulled_;
  Counter* keys_pushed_;
  Counter* malformed_;
  Counter* too_large_;
  Counter* version_mismatches_;
  Counter* rejected_;
  Counter* handler_nanos_;
  Histogram* pull_seconds_;
  Histogram* push_seconds_;
  Histogram* push_pull_seconds_;
  Counter* limit_refusals_;
  Counter* limit_keys_;
  Counter* limit_rows_;
  Counter* limit_memory_;
  Counter* duplicates_;
};

}  // namespace embedps::ps
