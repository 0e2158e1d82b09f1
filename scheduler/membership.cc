#include "scheduler/membership.h"

#include <glog/logging.h>

namespace embedps::scheduler {

std::string Membership::Refusal(const wire::RegisterMsg& reg, const std::string& key_role,
                                const std::string& key_name, const std::string& peer_address,
                                const AdmissionRules& rules) const {
  const bool is_server = reg.role == wire::Role::kServer;
  const bool is_worker = reg.role == wire::Role::kWorker;
  if (!is_server && !is_worker) return std::string("cannot admit a node with role ") + wire::RoleName(reg.role);
  if (!key_role.empty() && key_role != wire::RoleName(reg.role)) {
    // Keys admit roles: a worker's key (stolen, or given by mistake) must not
    // make its holder a server that workers send their gradients to.
    return "its CURVE key " + key_name + " (from " + peer_address + ") admits a " + key_role + ", not a " +
           wire::RoleName(reg.role);
  }
  if (!rules.open) return "the job has already started";
  if (is_server && servers_joined_ == num_servers_ && !rules.spares) {
    return "all " + std::to_string(num_servers_) + " server slots are taken";
  }
  if (is_worker && workers_joined_ == num_workers_ && rules.gathering) {
    return "all " + std::to_string(num_workers_) + " worker slots are taken";
  }
  if (is_server && reg.endpoint.empty()) return "a server must advertise its endpoint";
  return "";
}

std::optional<Node> Membership::ClaimRank(const wire::RegisterMsg& reg, const AdmissionRules& rules) {
  // A restarted process, or a former standby, registers quicker than a
  // server rejoining with its rows (which waits for its next heartbeat);
  // the rows win. The simulator found the rejoiner otherwise lost its rows
  // (seeds 208, 2530).
  if (!rules.rows_kept || reg.role != wire::Role::kServer || !reg.has_state || reg.previous_rank < 0) return std::nullopt;
  const auto claimed = static_cast<uint32_t>(reg.previous_rank);
  if (claimed >= num_servers_ || server_ranks_.count(claimed) == 0) return std::nullopt;
  for (auto& [id, n] : nodes_) {
    if (n.role != wire::Role::kServer || n.standby || n.dead || n.has_state || n.rank != claimed) continue;
    server_ranks_.erase(claimed);
    uint32_t free = 0;
    while (free < num_servers_ && (server_ranks_.count(free) > 0 || free == claimed)) ++free;
    if (free < num_servers_) {
      // The restore message tells it its new rank.
      LOG(INFO) << "server " << claimed << " rejoins with its rows; server " << n.rank << " (" << n.endpoint
                << ") moves to rank " << free;
      n.rank = free;
      server_ranks_.insert(free);
      return std::nullopt;
    }
    LOG(INFO) << "server " << claimed << " rejoins with its rows; " << n.endpoint << " holds no rows and leaves";
    n.dead = true;
    --servers_joined_;
    return n;
  }
  return std::nullopt;
}

Node& Membership::Admit(const wire::RegisterMsg& reg, const std::string& routing_id, const AdmissionRules& rules,
                        Clock::time_point now) {
  const bool is_server = reg.role == wire::Role::kServer;
  Node node;
  node.id = next_node_id_++;
  node.role = reg.role;
  // Servers past the map's count are standbys: ranks from num_servers up,
  // until one is promoted to a dead server's rank.
  node.standby = is_server && servers_joined_ == num_servers_;
  if (node.standby) {
    node.rank = num_servers_ + standbys_joined_++;
  } else if (is_server) {
    // A server rejoining a restarted scheduler keeps its rank (and, with
    // has_state, its rows) when that rank is free.
    uint32_t rank = 0;
    while (server_ranks_.count(rank) > 0) ++rank;
    if (reg.previous_rank >= 0 && static_cast<uint32_t>(reg.previous_rank) < num_servers_ &&
        server_ranks_.count(static_cast<uint32_t>(reg.previous_rank)) == 0) {
      rank = static_cast<uint32_t>(reg.previous_rank);
      node.has_state = reg.has_state && rules.gathering;
    }
    node.rank = rank;
    server_ranks_.insert(rank);
    ++servers_joined_;
  } else {
    node.rank = workers_joined_++;
  }
  node.routing_id = routing_id;
  node.endpoint = reg.endpoint;
  node.host = reg.host;
  node.pid = reg.pid;
  node.metrics_url = reg.metrics_url;
  node.replica_endpoint = reg.replica_endpoint;
  node.last_seen = now;
  return nodes_[node.id] = node;
}

Node* Membership::Find(uint32_t id, const std::string& routing_id) {
  Node* node = Find(id);
  return node != nullptr && node->routing_id == routing_id ? node : nullptr;
}

Node* Membership::Find(uint32_t id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const Node* Membership::Find(uint32_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Membership::HeardAll(Clock::time_point now) {
  for (auto& [id, node] : nodes_) node.last_seen = now;
}

std::vector<uint32_t> Membership::Silent(Clock::time_point now, std::chrono::milliseconds timeout,
                                         bool workers_wait) const {
  std::vector<uint32_t> silent;
  for (const auto& [id, node] : nodes_) {
    const bool is_worker = node.role == wire::Role::kWorker;
    if (node.dead || (is_worker && (node.done || workers_wait))) continue;
    if (now - node.last_seen > timeout) silent.push_back(id);
  }
  return silent;
}

size_t Membership::LiveWorkers() const {
  size_t n = 0;
  for (const auto& [id, node] : nodes_) n += node.role == wire::Role::kWorker && !node.dead && !node.done;
  return n;
}

std::optional<uint32_t> Membership::LowestLiveWorker() const {
  const Node* target = nullptr;
  for (const auto& [id, node] : nodes_) {
    if (node.role != wire::Role::kWorker || node.dead) continue;
    if (target == nullptr || node.rank < target->rank) target = &node;
  }
  return target == nullptr ? std::nullopt : std::optional<uint32_t>(target->id);
}

}  // namespace embedps::scheduler
