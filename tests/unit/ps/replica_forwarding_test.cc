// The two halves of replication in one process, over loopback: a forwarded
// push is applied to the backup's copy once, however often it is sent; a
// backup that has not taken the replicated shard map yet answers "not
// ready", so the push is retried rather than refused; pushes from another
// cluster and bad values are refused.
#include <gtest/gtest.h>

#include <cmath>

#include "ps/replication/replica_forwarder.h"
#include "ps/replication/replica_receiver.h"
#include "tests/support/sgd_test_table.h"

namespace embedps::ps {
namespace {

using Outcome = ReplicaForwarder::Outcome;

constexpr uint64_t kCluster = 77;

class ReplicaForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = SgdTestTable(/*dim=*/2);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    copy_.emplace(0, std::move(table).value());
    receiver_ = std::make_unique<ReplicaReceiver>(ctx_, kCluster, &copy_, &metrics_);
    auto bound = receiver_->Start("tcp://127.0.0.1:0", {}, size_t{64} << 20, wire::DecodeLimits{});
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    auto map = ShardMap::Balanced(2, 16, 1);
    map->set_endpoints({"tcp://127.0.0.1:1", "tcp://127.0.0.1:2"});
    ASSERT_TRUE(map->SetReplication(2, {"tcp://127.0.0.1:3", *bound}).ok());
    map_ = *map;
    ReplicaForwarderOptions fo;
    fo.timeout = std::chrono::milliseconds(2000);
    forwarder_ = std::make_unique<ReplicaForwarder>(ctx_, fo, &metrics_);
    forwarder_->SetMap(map_, /*rank=*/0);  // server 0 forwards to its backup, server 1
  }
  void TearDown() override { receiver_->Stop(); }

  Outcome Forward(uint64_t cluster, uint32_t sender, uint64_t request_id, std::vector<float> grads,
                  std::string* why) {
    const uint64_t keys[1] = {42};
    zmq::message_t k(keys, sizeof(keys));
    zmq::message_t g(grads.data(), grads.size() * sizeof(float));
    wire::Header h{cluster, sender, request_id, 1};
    return forwarder_->Forward(h, 0, 1, 2, k, g, why);
  }
  std::vector<float> CopyRow() {
    std::vector<float> row(2);
    const uint64_t key = 42;
    copy_.at(0)->Pull(&key, 1, row.data());
    return row;
  }

  zmq::context_t ctx_{1};
  MetricsRegistry metrics_;
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> copy_;
  std::unique_ptr<ReplicaReceiver> receiver_;
  std::unique_ptr<ReplicaForwarder> forwarder_;
  ShardMap map_;
};

TEST_F(ReplicaForwardingTest, NotReadyBackupAsksForTheSameAgainThenAppliesOnce) {
  std::string why;
  // The backup has no replicated map yet: retry, nothing applied.
  EXPECT_EQ(Forward(kCluster, 5, 1, {1, 2}, &why), Outcome::kUnavailable);
  EXPECT_NE(why.find("not ready"), std::string::npos) << why;
  EXPECT_EQ(CopyRow(), (std::vector<float>{0, 0}));

  receiver_->SetMap(map_, /*rank=*/1);
  EXPECT_EQ(Forward(kCluster, 5, 1, {1, 2}, &why), Outcome::kReplicated) << why;
  // The same request again (its answer was lost): acknowledged, not applied.
  EXPECT_EQ(Forward(kCluster, 5, 1, {1, 2}, &why), Outcome::kReplicated) << why;
  EXPECT_EQ(Forward(kCluster, 5, 2, {10, 10}, &why), Outcome::kReplicated) << why;
  EXPECT_EQ(CopyRow(), (std::vector<float>{-11, -12}));
}

TEST_F(ReplicaForwardingTest, ForeignClusterAndBadValuesAreRefused) {
  receiver_->SetMap(map_, /*rank=*/1);
  std::string why;
  EXPECT_EQ(Forward(kCluster + 1, 5, 1, {1, 1}, &why), Outcome::kRefused);
  EXPECT_NE(why.find("another cluster"), std::string::npos) << why;
  EXPECT_EQ(Forward(kCluster, 5, 2, {NAN, 1}, &why), Outcome::kRefused);
  EXPECT_EQ(CopyRow(), (std::vector<float>{0, 0}));
}

TEST_F(ReplicaForwardingTest, SuspendedForwarderRefusesUntilTheBackupMoves) {
  receiver_->SetMap(map_, /*rank=*/1);
  std::string why;
  ASSERT_TRUE(forwarder_->Suspend("server 1 died", std::chrono::milliseconds(100)).ok());
  EXPECT_EQ(Forward(kCluster, 5, 1, {1, 1}, &why), Outcome::kUnavailable);
  EXPECT_NE(why.find("server 1 died"), std::string::npos) << why;
  // A new map that still names the old backup endpoint keeps it suspended.
  forwarder_->SetMap(map_.WithServer(2, 0, "tcp://127.0.0.1:9", "tcp://127.0.0.1:10"), 0);
  EXPECT_EQ(Forward(kCluster, 5, 2, {1, 1}, &why), Outcome::kUnavailable);
  EXPECT_EQ(CopyRow(), (std::vector<float>{0, 0}));

  // The replacement backup, at a new endpoint, ends the suspension.
  TableConfig cfg = copy_.at(0)->config();
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> copy2;
  copy2.emplace(0, std::move(EmbeddingTable::Create(cfg)).value());
  ReplicaReceiver replacement(ctx_, kCluster, &copy2, &metrics_);
  auto bound = replacement.Start("tcp://127.0.0.1:0", {}, size_t{64} << 20, wire::DecodeLimits{});
  ASSERT_TRUE(bound.ok());
  const ShardMap moved = map_.WithServer(3, 1, "tcp://127.0.0.1:11", *bound);
  replacement.SetMap(moved, 1);
  forwarder_->SetMap(moved, 0);
  EXPECT_EQ(Forward(kCluster, 5, 3, {1, 1}, &why), Outcome::kReplicated) << why;
  std::vector<float> row(2);
  const uint64_t key = 42;
  copy2.at(0)->Pull(&key, 1, row.data());
  EXPECT_EQ(row, (std::vector<float>{-1, -1}));
  replacement.Stop();
}

}  // namespace
}  // namespace embedps::ps
