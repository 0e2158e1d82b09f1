// Handoffs of a dead server's rows with scripted answers: merged files, a
// neighbour failing or dying, late answers, and the files' lifetime.
#include "scheduler/handoff_tracker.h"

#include <gtest/gtest.h>

namespace embedps::scheduler {
namespace {

wire::HandoffReplyMsg Reply(uint64_t id, const std::string& replica, const std::string& primary, uint64_t rows,
                            bool ok = true) {
  wire::HandoffReplyMsg r;
  r.id = id;
  r.ok = ok;
  r.replica_file = replica;
  r.dedup_file = replica.empty() ? "" : replica + ".ids";
  r.primary_file = primary;
  r.rows = rows;
  return r;
}

TEST(HandoffTrackerTest, MergesBothNeighboursAnswersIntoTheRestore) {
  HandoffTracker t("/ckpt");
  // Server 1 of 3 died: server 2 holds its copy, server 0 writes its own rows.
  const auto msg = t.Begin(1, {/*server 2*/ 12, /*server 0*/ 10});
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->rank, 1u);
  EXPECT_EQ(msg->directory, "/ckpt/handoff-1-server-1");
  EXPECT_TRUE(t.Pending(1));
  EXPECT_TRUE(t.Involves(1));
  auto first = t.OnReply(12, Reply(msg->id, "copy-of-1", "", 70));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->complete);
  EXPECT_FALSE(t.OnReply(12, Reply(msg->id, "copy-of-1", "", 70)).has_value()) << "a repeated answer counts once";
  auto second = t.OnReply(10, Reply(msg->id, "", "rows-of-0", 50));
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->rank, 1u);
  EXPECT_FALSE(t.Pending(1));

  wire::RestoreMsg restore;
  restore.rank = 1;
  restore.checkpoint_id = 7;
  ASSERT_TRUE(t.Use(&restore));
  EXPECT_EQ(restore.checkpoint_id, 0u) << "not the checkpoint";
  ASSERT_EQ(restore.chain.size(), 1u);
  EXPECT_EQ(restore.chain[0], std::vector<std::string>{"copy-of-1"});
  EXPECT_EQ(restore.replica_chain[0], std::vector<std::string>{"rows-of-0"});
  EXPECT_EQ(restore.dedup_file, "copy-of-1.ids");
  EXPECT_TRUE(t.Involves(1)) << "until the replacement serves";
  EXPECT_EQ(t.Finish(1), std::optional<std::string>("/ckpt/handoff-1-server-1"));
  EXPECT_FALSE(t.Involves(1));
  EXPECT_FALSE(t.Finish(1).has_value());
}

TEST(HandoffTrackerTest, TwoServersOneNeighbourSendsBoth) {
  HandoffTracker t("/ckpt");
  const auto msg = t.Begin(0, {11});
  ASSERT_TRUE(msg.has_value());
  ASSERT_TRUE(t.OnReply(11, Reply(msg->id, "copy-of-0", "rows-of-1", 90))->complete);
  wire::RestoreMsg restore;
  restore.rank = 0;
  EXPECT_TRUE(t.Use(&restore));
}

TEST(HandoffTrackerTest, AFailedOrDeadNeighbourMeansTheCheckpoint) {
  HandoffTracker t("/ckpt");
  EXPECT_FALSE(t.Begin(2, {}).has_value()) << "no live neighbour";
  EXPECT_FALSE(t.Involves(2));

  const auto failed = t.Begin(1, {10, 12});
  t.OnReply(10, Reply(failed->id, "", "rows-of-0", 5));
  t.OnReply(12, Reply(failed->id, "", "", 0, /*ok=*/false));
  wire::RestoreMsg restore;
  restore.rank = 1;
  EXPECT_FALSE(t.Use(&restore));
  EXPECT_TRUE(restore.chain.empty());
  EXPECT_FALSE(t.Involves(1)) << "a failed handoff is over once used";

  const auto died = t.Begin(1, {10, 12});
  EXPECT_GT(died->id, failed->id);
  EXPECT_EQ(t.NodeDied(12), std::vector<uint32_t>{1});
  EXPECT_TRUE(t.NodeDied(12).empty());
  EXPECT_TRUE(t.Pending(1)) << "still waiting for server 0";
  t.OnReply(10, Reply(died->id, "", "rows-of-0", 5));
  EXPECT_FALSE(t.Pending(1));
  EXPECT_FALSE(t.Use(&restore));
  // A late answer to a handoff already given up changes nothing.
  EXPECT_FALSE(t.OnReply(12, Reply(died->id, "copy-of-1", "", 9)).has_value());
}

}  // namespace
}  // namespace embedps::scheduler
