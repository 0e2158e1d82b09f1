// The shard map: 64-bit keys hash to a fixed number of virtual shards, and an
// explicit table assigns each virtual shard to a server rank. The map carries
// an epoch so that any change (failover, resharding) is just a new map, and a
// request routed with an old epoch can be recognised as stale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/status.h"

namespace embedps {

inline constexpr uint32_t kDefaultVirtualShards = 1024;

class ShardMap {
 public:
  ShardMap() = default;

  // A map of `num_virtual_shards` shards spread over `num_servers` servers so
  // that shard counts differ by at most one. InvalidArgument on zero counts.
  static StatusOr<ShardMap> Balanced(uint32_t num_servers,
                                     uint32_t num_virtual_shards,
                                     uint64_t epoch);

  // Builds a map from explicit parts (as decoded from the wire), validating
  // that every owner is a known server rank.
  static StatusOr<ShardMap> FromParts(uint64_t epoch, std::vector<uint32_t> owners,
                                      std::vector<std::string> endpoints);

  // A new map with epoch+1 over `num_servers` servers that moves only as many
  // virtual shards as balance requires (shards of removed ranks, and the
  // surplus of overloaded ranks, go to the least loaded ranks).
  StatusOr<ShardMap> Rebalanced(uint32_t num_servers) const;

  // Virtual shard of a key. Independent of the number of servers, so a key's
  // virtual shard never changes.
  uint32_t VirtualShardOf(uint64_t key) const {
    // Multiply-shift maps the hash onto [0, V) without a division.
    const unsigned __int128 wide = static_cast<unsigned __int128>(Mix64(key ^ kShardSalt));
    return static_cast<uint32_t>((wide * owners_.size()) >> 64);
  }
  uint32_t ServerOf(uint64_t key) const { return owners_[VirtualShardOf(key)]; }
  uint32_t OwnerOfShard(uint32_t vshard) const { return owners_[vshard]; }

  uint64_t epoch() const { return epoch_; }
  uint32_t num_virtual_shards() const { return static_cast<uint32_t>(owners_.size()); }
  uint32_t num_servers() const { return num_servers_; }
  const std::vector<uint32_t>& owners() const { return owners_; }
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  void set_endpoints(std::vector<std::string> endpoints) { endpoints_ = std::move(endpoints); }

  // Replication (--replicas): 1, or 2 when server BackupOf(r) keeps a copy of
  // server r's rows and r forwards each push to replica_endpoints()[backup]
  // before acknowledging it. The ring (r+1) % S spreads the copies evenly.
  uint32_t replicas() const { return replicas_; }
  const std::vector<std::string>& replica_endpoints() const { return replica_endpoints_; }
  // InvalidArgument unless replicas is 1, or 2 with at least two servers and
  // one replica endpoint per server (empty before the servers are known).
  Status SetReplication(uint32_t replicas, std::vector<std::string> replica_endpoints);
  uint32_t BackupOf(uint32_t rank) const { return (rank + 1) % num_servers_; }
  // The server whose rows `rank` keeps a copy of.
  uint32_t BackedUpBy(uint32_t rank) const { return (rank + num_servers_ - 1) % num_servers_; }

  // This map with server `rank` at new endpoints, under `epoch`.
  ShardMap WithServer(uint64_t epoch, uint32_t rank, std::string endpoint,
                      std::string replica_endpoint) const;

  // Number of virtual shards owned by each server rank.
  std::vector<uint32_t> ShardCounts() const;

 private:
  // Decorrelates the shard hash from the feature hash that produced the key.
  static constexpr uint64_t kShardSalt = 0x5eedf00dcafe1234ULL;

  uint64_t epoch_ = 0;
  uint32_t num_servers_ = 0;
  std::vector<uint32_t> owners_;
  std::vector<std::string> endpoints_;
  uint32_t replicas_ = 1;
  std::vector<std::string> replica_endpoints_;
};

}  // namespace embedps
