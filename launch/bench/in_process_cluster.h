// A scheduler and S servers running as threads of this process, each with
// its own ZeroMQ context and talking over loopback TCP exactly as separate
// processes would. Benchmarks use it so they can read the servers' own
// counters (handler time per key) directly.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/status.h"
#include "ps/server.h"
#include "scheduler/scheduler.h"

namespace embedps::launch {

class InProcessCluster {
 public:
  InProcessCluster() = default;
  ~InProcessCluster();

  // Starts the scheduler (expecting `workers` workers) and the servers.
  Status Start(uint32_t servers, uint32_t workers, const std::vector<ps::TableConfig>& tables,
               int server_threads, const std::string& token, bool null_store = false);
  // Waits for the job to end (the workers must report done first).
  Status Join();

  const std::string& scheduler_endpoint() const { return endpoint_; }
  // Sum of a counter over all servers.
  uint64_t ServerCounter(const std::string& name);

 private:
  struct Node {
    zmq::context_t ctx{1};
    MetricsRegistry metrics;
    std::thread thread;
    Status result;
  };
  std::string endpoint_;
  std::string endpoint_dir_;
  std::vector<std::unique_ptr<Node>> nodes_;  // [0] is the scheduler
};

}  // namespace embedps::launch
