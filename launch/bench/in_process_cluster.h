// A scheduler and S servers running as threads of this process, each with
// its own ZeroMQ context and talking over loopback TCP exactly as separate
// processes would. Benchmarks use it so they can read the servers' own
// counters (handler time per key) directly.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/security/curve_keys.h"
#include "common/status.h"
#include "ps/server.h"
#include "scheduler/scheduler.h"

namespace embedps::launch {

class InProcessCluster {
 public:
  InProcessCluster() = default;
  ~InProcessCluster();

  // Starts the scheduler (expecting `workers` workers) and the servers.
  // With `curve`, generates keys (in memory) and turns CURVE on everywhere;
  // workers then connect with WorkerCurve(i).
  Status Start(uint32_t servers, uint32_t workers, const std::vector<ps::TableConfig>& tables,
               int server_threads, const std::string& token, bool null_store = false,
               bool curve = false, uint32_t replicas = 1);
  // Waits for the job to end (the workers must report done first).
  Status Join();

  const std::string& scheduler_endpoint() const { return endpoint_; }
  // The CURVE keys worker `index` must use (disabled without `curve`).
  security::CurveConfig WorkerCurve(uint32_t index) const;
  // Sum of a counter over all servers.
  uint64_t ServerCounter(const std::string& name);

 private:
  struct Node {
    zmq::context_t ctx{1};
    MetricsRegistry metrics;
    std::thread thread;
    Status result;
  };
  // Generates the cluster keypair and node keys for `servers` + `workers`.
  Status MakeKeys(uint32_t servers, uint32_t workers);
  // A node's view of the keys: the cluster secret only when it binds.
  security::CurveConfig NodeCurve(const std::string& node, bool binds) const;

  std::string endpoint_;
  std::string endpoint_dir_;
  security::CurveKeyPair cluster_keys_;  // empty without CURVE
  std::map<std::string, security::CurveKeyPair> node_keys_;
  std::shared_ptr<const security::AllowList> allowed_;
  std::vector<std::unique_ptr<Node>> nodes_;  // [0] is the scheduler
};

}  // namespace embedps::launch
