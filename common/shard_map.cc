#include "common/shard_map.h"

#include <algorithm>

namespace embedps {

StatusOr<ShardMap> ShardMap::Balanced(uint32_t num_servers,
                                      uint32_t num_virtual_shards,
                                      uint64_t epoch) {
  if (num_servers == 0) return InvalidArgument("shard map needs at least one server");
  if (num_virtual_shards < num_servers) {
    return InvalidArgument("need at least as many virtual shards as servers");
  }
  ShardMap map;
  map.epoch_ = epoch;
  map.num_servers_ = num_servers;
  map.owners_.resize(num_virtual_shards);
  for (uint32_t v = 0; v < num_virtual_shards; ++v) map.owners_[v] = v % num_servers;
  return map;
}

StatusOr<ShardMap> ShardMap::FromParts(uint64_t epoch, std::vector<uint32_t> owners,
                                       std::vector<std::string> endpoints) {
  if (owners.empty()) return InvalidArgument("shard map has no virtual shards");
  if (endpoints.empty()) return InvalidArgument("shard map has no servers");
  for (uint32_t owner : owners) {
    if (owner >= endpoints.size()) {
      return InvalidArgument("shard map names server rank " + std::to_string(owner) +
                             " but lists only " + std::to_string(endpoints.size()));
    }
  }
  ShardMap map;
  map.epoch_ = epoch;
  map.num_servers_ = static_cast<uint32_t>(endpoints.size());
  map.owners_ = std::move(owners);
  map.endpoints_ = std::move(endpoints);
  return map;
}

Status ShardMap::SetReplication(uint32_t replicas, std::vector<std::string> replica_endpoints) {
  if (replicas != 1 && replicas != 2) {
    return InvalidArgument("--replicas must be 1 or 2, got " + std::to_string(replicas));
  }
  if (replicas == 2 && num_servers_ < 2) {
    return InvalidArgument("--replicas=2 needs at least 2 servers (a server's copy lives on another one)");
  }
  if (!replica_endpoints.empty() && replica_endpoints.size() != num_servers_) {
    return InvalidArgument("shard map lists " + std::to_string(replica_endpoints.size()) +
                           " replica endpoints for " + std::to_string(num_servers_) + " servers");
  }
  replicas_ = replicas;
  replica_endpoints_ = std::move(replica_endpoints);
  return Status::OK();
}

ShardMap ShardMap::WithServer(uint64_t epoch, uint32_t rank, std::string endpoint,
                              std::string replica_endpoint) const {
  ShardMap next = *this;
  next.epoch_ = epoch;
  if (rank < next.endpoints_.size()) next.endpoints_[rank] = std::move(endpoint);
  if (rank < next.replica_endpoints_.size()) next.replica_endpoints_[rank] = std::move(replica_endpoint);
  return next;
}

std::vector<uint32_t> ShardMap::ShardCounts() const {
  std::vector<uint32_t> counts(num_servers_, 0);
  for (uint32_t owner : owners_) ++counts[owner];
  return counts;
}

StatusOr<ShardMap> ShardMap::Rebalanced(uint32_t num_servers) const {
  if (num_servers == 0) return InvalidArgument("shard map needs at least one server");
  const uint32_t v = num_virtual_shards();
  if (v < num_servers) return InvalidArgument("need at least as many virtual shards as servers");
  ShardMap next;
  next.epoch_ = epoch_ + 1;
  next.num_servers_ = num_servers;
  next.owners_ = owners_;

  // Each rank may keep at most its fair share: the first (v % n) ranks get one extra.
  const uint32_t base = v / num_servers, extra = v % num_servers;
  auto quota = [&](uint32_t rank) { return base + (rank < extra ? 1u : 0u); };
  std::vector<uint32_t> kept(num_servers, 0);
  std::vector<uint32_t> orphans;
  for (uint32_t s = 0; s < v; ++s) {
    uint32_t owner = next.owners_[s];
    if (owner < num_servers && kept[owner] < quota(owner)) {
      ++kept[owner];
    } else {
      orphans.push_back(s);
    }
  }
  uint32_t rank = 0;
  for (uint32_t s : orphans) {
    while (kept[rank] >= quota(rank)) ++rank;
    next.owners_[s] = rank;
    ++kept[rank];
  }
  return next;
}

}  // namespace embedps
