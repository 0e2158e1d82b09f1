// The backup's half of replication (--replicas=2): a thread with its own
// ROUTER socket, apart from the workers', applies the pushes forwarded by
// the server it backs up (shard map BackedUpBy(rank)) to a separate set of
// tables, its copy of that server's rows. The copy is never exported or
// checkpointed; it is handed to the replacement when that server dies.
//
// Its own socket and thread keep replication free of deadlock: a primary's
// handler waiting for its backup never waits on a handler that might be
// waiting for it in turn.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/security/curve_keys.h"
#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"
#include "ps/embedding_table.h"
#include "ps/request_dedup.h"

namespace embedps::ps {

class ReplicaReceiver {
 public:
  // `tables` (the copy, by table id) and `metrics` are borrowed.
  ReplicaReceiver(zmq::context_t& ctx, uint64_t cluster_id,
                  const std::map<uint32_t, std::unique_ptr<EmbeddingTable>>* tables,
                  MetricsRegistry* metrics);
  ~ReplicaReceiver();

  // Binds (CURVE as configured; without it, asking peers for
  // `member_password` when one is given) on `bind_endpoint`'s host, any
  // port, and starts the thread; returns the bound endpoint.
  StatusOr<std::string> Start(const std::string& bind_endpoint, const security::CurveConfig& curve,
                              size_t max_message_bytes, const wire::DecodeLimits& limits,
                              const std::string& member_password = "");
  void Stop();

  // Which server this one backs up follows the map and this server's rank.
  void SetMap(const ShardMap& map, uint32_t rank);

  // Request ids applied to the copy, for the replacement of the server
  // whose rows it holds.
  RequestDedup& applied() { return dedup_; }

 private:
  void Loop();
  void Handle(Incoming& in);
  void Reply(const zmq::message_t& to, const wire::Header& request, bool ok, const std::string& error);

  zmq::context_t& ctx_;
  const uint64_t cluster_id_;
  const std::map<uint32_t, std::unique_ptr<EmbeddingTable>>* tables_;
  zmq::socket_t socket_;
  wire::DecodeLimits limits_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> primary_rank_{-1};  // the server whose rows we copy; -1: none
  RequestDedup dedup_;
  Counter* applied_;
  Counter* keys_applied_;
  Counter* refused_;
};

}  // namespace embedps::ps
