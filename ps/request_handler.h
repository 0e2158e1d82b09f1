// Serves one worker request (pull, push, push+pull) against the tables and
// sends the reply on the socket it came from. Called concurrently from the
// server's handler threads: it holds no mutable state of its own; tables
// synchronize internally and counters are atomic.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/shard_map.h"
#include "common/transport.h"
#include "ps/embedding_table.h"

namespace embedps::ps {

// What the handlers need to know about the server they serve for.
struct ServingState {
  uint64_t cluster_id = 0;
  uint32_t node_id = 0;
  uint32_t rank = 0;
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> tables;
  // Benchmark reference only: validate and answer requests but skip the
  // tables (pulls return zeros, pushes change nothing), which measures the
  // transport's ceiling on the same machine.
  bool null_store = false;
};

class RequestHandler {
 public:
  // Borrows `state` and `metrics`; both must outlive the handler.
  RequestHandler(const ServingState* state, MetricsRegistry* metrics);

  // Installs a new shard map (thread-safe; requests routed with another
  // epoch are refused from then on).
  void SetShardMap(const ShardMap& map);

  // Handles `in` (already received, possibly malformed) and replies on `socket`.
  void Handle(Incoming& in, zmq::socket_t& socket) const;

 private:
  void HandleData(const zmq::message_t& from, wire::Message& msg, zmq::socket_t& socket) const;
  // Validates table, epoch and ownership; on failure replies and returns null.
  EmbeddingTable* Admit(const zmq::message_t& from, const wire::Message& msg, uint32_t table,
                        const uint64_t* keys, size_t n, zmq::socket_t& socket) const;
  void ReplyError(const zmq::message_t& to, const wire::Header& request, wire::ErrorCode code,
                  const std::string& message, zmq::socket_t& socket) const;
  std::shared_ptr<const ShardMap> shard_map() const;

  const ServingState* state_;
  mutable std::mutex map_mu_;  // guards map_ (the pointer, not the map)
  std::shared_ptr<const ShardMap> map_;
  Counter* pulls_;
  Counter* pushes_;
  Counter* keys_pulled_;
  Counter* keys_pushed_;
  Counter* malformed_;
  Counter* rejected_;
  Counter* handler_nanos_;
  Histogram* pull_seconds_;
  Histogram* push_seconds_;
  Histogram* push_pull_seconds_;
};

}  // namespace embedps::ps
