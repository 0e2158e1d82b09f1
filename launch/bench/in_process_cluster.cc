#include "launch/bench/in_process_cluster.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace embedps::launch {

InProcessCluster::~InProcessCluster() {
  for (auto& n : nodes_) {
    if (n->thread.joinable()) {
      // Abandoning a running job: closing the contexts unblocks every socket.
      n->ctx.shutdown();
      n->thread.join();
    }
  }
  if (!endpoint_dir_.empty()) std::filesystem::remove_all(endpoint_dir_);
}

Status InProcessCluster::Start(uint32_t servers, uint32_t workers,
                               const std::vector<ps::TableConfig>& tables, int server_threads,
                               const std::string& token, bool null_store, bool curve,
                               uint32_t replicas) {
  if (curve) RETURN_IF_ERROR(MakeKeys(servers, workers));
  std::string dir = "/tmp/embedps-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return Unavailable("cannot create a temporary directory");
  endpoint_dir_ = dir;
  const uint64_t cluster_id = ClusterIdFromToken(token);

  scheduler::SchedulerOptions so;
  so.endpoint_file = dir + "/scheduler.endpoint";
  so.cluster_id = cluster_id;
  so.num_servers = servers;
  so.num_workers = workers;
  so.replicas = replicas;
  so.print_progress = false;  // benchmarks print their own figures
  so.curve = NodeCurve("", /*binds=*/true);
  auto& sched = nodes_.emplace_back(std::make_unique<Node>());
  sched->thread = std::thread([so, n = sched.get()] {
    scheduler::Scheduler s(n->ctx, so, &n->metrics);
    n->result = s.Run();
  });
  for (int i = 0; i < 500 && endpoint_.empty(); ++i) {
    std::ifstream in(so.endpoint_file);
    in >> endpoint_;
    if (endpoint_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (endpoint_.empty()) return DeadlineExceeded("in-process scheduler did not start");

  for (uint32_t i = 0; i < servers; ++i) {
    ps::ServerOptions po;
    po.link.scheduler_endpoint = endpoint_;
    po.link.cluster_id = cluster_id;
    po.link.role = wire::Role::kServer;
    po.tables = tables;
    po.handler_threads = server_threads;
    po.null_store = null_store;
    po.link.curve = NodeCurve("server-" + std::to_string(i), /*binds=*/true);
    auto& node = nodes_.emplace_back(std::make_unique<Node>());
    node->thread = std::thread([po, n = node.get()] {
      ps::Server server(n->ctx, po, &n->metrics);
      n->result = server.Run();
    });
  }
  return Status::OK();
}

Status InProcessCluster::Join() {
  Status first;
  for (auto& n : nodes_) {
    if (n->thread.joinable()) n->thread.join();
    if (first.ok() && !n->result.ok()) first = n->result;
  }
  return first;
}

Status InProcessCluster::MakeKeys(uint32_t servers, uint32_t workers) {
  ASSIGN_OR_RETURN(cluster_keys_, security::GenerateKeyPair());
  security::AllowList allowed;
  std::vector<std::string> names;
  for (uint32_t i = 0; i < servers; ++i) names.push_back("server-" + std::to_string(i));
  for (uint32_t i = 0; i < workers; ++i) names.push_back("worker-" + std::to_string(i));
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(node_keys_[name], security::GenerateKeyPair());
    RETURN_IF_ERROR(allowed.Add(name, node_keys_[name].public_key));
  }
  allowed_ = std::make_shared<const security::AllowList>(std::move(allowed));
  return Status::OK();
}

security::CurveConfig InProcessCluster::NodeCurve(const std::string& node, bool binds) const {
  security::CurveConfig c;
  if (cluster_keys_.public_key.empty()) return c;
  c.dir = "(in-process keys)";
  c.cluster_public = cluster_keys_.public_key;
  if (binds) {
    c.cluster_secret = cluster_keys_.secret_key;
    c.allowed = allowed_;
  }
  if (!node.empty()) {
    c.node_name = node;
    c.node = node_keys_.at(node);
  }
  return c;
}

security::CurveConfig InProcessCluster::WorkerCurve(uint32_t index) const {
  return NodeCurve("worker-" + std::to_string(index), /*binds=*/false);
}

uint64_t InProcessCluster::ServerCounter(const std::string& name) {
  uint64_t sum = 0;
  for (size_t i = 1; i < nodes_.size(); ++i) sum += nodes_[i]->metrics.GetCounter(name)->Get();
  return sum;
}

}  // namespace embedps::launch
