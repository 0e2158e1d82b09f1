// Who is in the job: the admitted nodes, the ranks they hold, and whose
// heartbeats ran out. Pure state with no I/O and no clock of its own: the
// scheduler core hands it registrations and the time, and sends whatever
// replies its answers call for (tests/unit/scheduler/membership_test.cc
// drives it with scripted registrations and a fake clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/rate_meter.h"
#include "common/transport.h"
#include "common/wire/messages.h"

namespace embedps::scheduler {

// One admitted node, as the scheduler knows it.
struct Node {
  uint32_t id = 0;
  wire::Role role = wire::Role::kUnknown;
  uint32_t rank = 0;
  std::string routing_id;
  std::string endpoint;
  std::string replica_endpoint;  // servers: where forwarded pushes arrive
  std::string host;
  uint32_t pid = 0;
  std::string metrics_url;
  Clock::time_point last_seen;
  wire::Progress progress;
  std::optional<wire::ServerStats> server_stats;  // servers, from heartbeats
  bool done = false;  // workers: finished; servers: exported
  bool dead = false;  // missed heartbeats past node_timeout
  bool standby = false;  // servers: admitted as a spare, no rank in the map yet
  bool has_state = false;  // servers rejoining a restarted scheduler with their rows
  RateMeter rows_meter;
  double rows_per_sec = 0;
};

// What a registration may do at this point of the job.
struct AdmissionRules {
  // The job still admits nodes: while it gathers its first nodes, and later
  // (replacements, extra workers) only when it checkpoints and is not
  // ending.
  bool open = true;
  // Training has not started: workers fill a fixed number of slots.
  bool gathering = true;
  // Servers past the map's count join as standbys (a job with checkpoints).
  bool spares = false;
  // A resumed job that has not started: a server rejoining with its rows
  // keeps them (and claims its old rank back, see ClaimRank).
  bool rows_kept = false;
};

class Membership {
 public:
  Membership(uint32_t num_servers, uint32_t num_workers) : num_servers_(num_servers), num_workers_(num_workers) {}

  // Why `reg` may not join (empty: it may). `key_role`/`key_name`: what the
  // sender's CURVE key admits and its name (empty without CURVE).
  std::string Refusal(const wire::RegisterMsg& reg, const std::string& key_role, const std::string& key_name,
                      const std::string& peer_address, const AdmissionRules& rules) const;

  // A server rejoining a restarted scheduler with its rows claims its old
  // rank, even from a stateless server that registered first: that one
  // moves to a free rank or, with none free, is dropped. Returns the node
  // dropped (to be told it was replaced), if any. Call before Admit, with
  // rules.rows_kept.
  std::optional<Node> ClaimRank(const wire::RegisterMsg& reg, const AdmissionRules& rules);

  // Admits `reg` (Refusal returned empty): a server takes its previous rank
  // when free (and keeps its rows if rules.rows_kept), else the lowest free
  // one, or becomes a standby once every rank is taken; a worker takes the
  // next worker rank.
  Node& Admit(const wire::RegisterMsg& reg, const std::string& routing_id, const AdmissionRules& rules,
              Clock::time_point now);

  // The node `id`, when `routing_id` is its connection (null otherwise: an
  // unknown node, or one that registered again since).
  Node* Find(uint32_t id, const std::string& routing_id);
  Node* Find(uint32_t id);
  const Node* Find(uint32_t id) const;

  bool AllJoined() const { return servers_joined_ == num_servers_ && workers_joined_ == num_workers_; }
  uint32_t servers_joined() const { return servers_joined_; }
  uint32_t workers_joined() const { return workers_joined_; }

  // Every node's silence counts from `now` (training starts: admitted
  // nodes waited for the map without heartbeating).
  void HeardAll(Clock::time_point now);
  // Nodes silent for longer than `timeout` at `now`, not yet presumed dead,
  // by id. Finished workers are not watched, nor workers at all while
  // `workers_wait` (they wait for the map without heartbeating).
  std::vector<uint32_t> Silent(Clock::time_point now, std::chrono::milliseconds timeout, bool workers_wait) const;

  // Workers neither dead nor finished.
  size_t LiveWorkers() const;
  // The live worker of lowest rank (its id): the one that evaluates.
  std::optional<uint32_t> LowestLiveWorker() const;
  // A live standby for which `usable` holds, or null.
  template <typename Pred>
  Node* Spare(Pred usable) {
    for (auto& [id, n] : nodes_) {
      if (n.role == wire::Role::kServer && n.standby && !n.dead && usable(n)) return &n;
    }
    return nullptr;
  }
  static bool IsServing(const Node& node) {
    return node.role == wire::Role::kServer && !node.dead && !node.standby;
  }

  // Every node by id, for the core's loops over them.
  std::map<uint32_t, Node>& all() { return nodes_; }
  const std::map<uint32_t, Node>& all() const { return nodes_; }

 private:
  uint32_t num_servers_;
  uint32_t num_workers_;
  std::map<uint32_t, Node> nodes_;  // by node id
  uint32_t next_node_id_ = 1;
  uint32_t servers_joined_ = 0;
  uint32_t workers_joined_ = 0;
  uint32_t standbys_joined_ = 0;
  std::set<uint32_t> server_ranks_;  // ranks of the map given to servers so far
};

}  // namespace embedps::scheduler
