// Starts a real scheduler and servers as separate processes on loopback, for
// tests that then act as a worker themselves.
#pragma once

#include <string>
#include <vector>

#include <memory>

#include <zmq.hpp>

#include "common/scheduler_link.h"
#include "common/status.h"
#include "launch/process_group.h"
#include "worker/ps_client.h"
#include "tests/support/test_dirs.h"

namespace embedps::testing {

struct ClusterSpec {
  std::string token = "test-cluster";
  int servers = 2;
  int workers = 1;
  // Spare servers, started once the others had time to register first.
  int standby_servers = 0;
  std::vector<std::string> scheduler_flags;
  std::vector<std::string> server_flags;
  // With a key directory from keygen: CURVE on for the scheduler and the
  // servers (server i uses the key "server-i").
  std::string curve_dir;
};

class ProcessCluster {
 public:
  explicit ProcessCluster(const ClusterSpec& spec);
  // Writes a small training file, starts the scheduler and waits for its
  // endpoint, then starts the servers.
  Status Start();
  // Waits for every process to exit; InternalError naming the first one that
  // failed or did not exit in time.
  Status AwaitExit(std::chrono::seconds timeout);

  const std::string& scheduler_endpoint() const { return endpoint_; }
  const ScratchDir& dir() const { return dir_; }
  std::string model_dir() const { return dir_.File("model"); }
  launch::ProcessGroup& group() { return group_; }
  // Process ids of the servers, then the standbys, in start order.
  const std::vector<pid_t>& server_pids() const { return server_pids_; }

 private:
  ClusterSpec spec_;
  ScratchDir dir_;
  launch::ProcessGroup group_;
  std::string endpoint_;
  std::vector<pid_t> server_pids_;
};

// A scheduler link for this test process acting as a worker of the cluster
// at `endpoint`; not joined yet.
std::unique_ptr<SchedulerLink> MakeWorkerLink(zmq::context_t& ctx, const std::string& endpoint,
                                              const std::string& token,
                                              const security::CurveConfig& curve = {});

// Finishes the job the way a worker does: drains the partition leases,
// reports done, answers a checkpoint's pause and waits for the scheduler's
// shutdown.
Status FinishAsWorker(SchedulerLink& link);

// A KV client for a joined link, connected to the servers of its shard map.
// Fails the calling test on error.
std::unique_ptr<worker::PsClient> ConnectClient(zmq::context_t& ctx, const SchedulerLink& link,
                                                const security::CurveConfig& curve = {});

}  // namespace embedps::testing
