// The worker's key-value client for the servers: splits a request by owning
// server (per the shard map), sends the parts to all servers in parallel, and
// gathers the replies. Pushes are asynchronous with a bounded window of
// unacknowledged requests. Owned and used by a single thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include <zmq.hpp>

#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"

namespace embedps::worker {

struct PsClientOptions {
  uint64_t cluster_id = 0;
  uint32_t node_id = 0;
  // Every pull, and every wait for push window space, ends by this deadline.
  std::chrono::milliseconds timeout{30000};
  // Unacknowledged push requests (one per server touched) allowed in flight.
  uint32_t max_inflight_pushes = 16;
  wire::DecodeLimits limits;
};

class PsClient {
 public:
  PsClient(zmq::context_t& ctx, PsClientOptions options);
  PsClient(const PsClient&) = delete;
  PsClient& operator=(const PsClient&) = delete;

  // Connects to every server of `map`.
  Status Connect(const ShardMap& map);

  // Fetches the rows of `keys` from `table` into values[keys.size() * dim],
  // in key order. Keys should be unique (duplicates are fetched twice).
  // Returns the first server error, or DeadlineExceeded.
  Status Pull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
              std::vector<float>* values);

  // Sends grads[keys.size() * dim] for `keys` without waiting for the
  // servers, blocking only while the push window is full. A server's refusal
  // of an earlier push is returned by the next call.
  Status Push(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
              const std::vector<float>& grads);

  // Waits until every push has been acknowledged.
  Status Flush();

  size_t inflight_pushes() const { return inflight_pushes_.size(); }

 private:
  struct PendingPull {
    uint32_t server = 0;
    const std::vector<uint32_t>* positions = nullptr;  // where each value goes
    bool done = false;
  };

  // Groups key positions by owning server into routed_.
  void Route(const std::vector<uint64_t>& keys);
  Status Send(uint32_t server, const wire::Body& body, std::vector<zmq::message_t> payloads,
              uint64_t* request_id);
  // Receives and handles replies until `done()` or the deadline.
  template <typename Done>
  Status PumpUntil(Done done, const char* what);
  void HandleReply(uint32_t server, wire::Message& msg);

  PsClientOptions options_;
  zmq::context_t& ctx_;
  ShardMap map_;
  std::vector<zmq::socket_t> sockets_;  // by server rank
  std::vector<zmq::pollitem_t> poll_items_;
  wire::Header header_;
  std::vector<std::vector<uint32_t>> routed_;  // per server: positions in the request
  std::map<uint64_t, PendingPull> pending_pulls_;
  std::map<uint64_t, uint32_t> inflight_pushes_;  // request id -> server
  std::vector<float>* pull_out_ = nullptr;
  uint32_t pull_dim_ = 0;
  Status error_;  // first server error not yet returned
};

}  // namespace embedps::worker
