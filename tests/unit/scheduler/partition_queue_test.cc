#include "scheduler/partition_queue.h"

#include <gtest/gtest.h>

namespace embedps::scheduler {
namespace {

std::vector<Partition> ThreeParts() {
  std::vector<Partition> parts;
  for (uint32_t i = 0; i < 3; ++i) parts.push_back(Partition{i, "f.tsv", i * 100, (i + 1) * 100, i * 10 + 1});
  return parts;
}

TEST(PartitionQueueTest, DeadWorkersLeaseResumesFromItsLastPosition) {
  PartitionQueue q(ThreeParts(), /*passes=*/1);
  auto a = q.Acquire(/*worker=*/7);
  ASSERT_TRUE(a.has_value());
  q.UpdatePosition(7, a->partition.id, 4);
  q.UpdatePosition(7, a->partition.id, 3);  // positions never go back
  q.UpdatePosition(8, a->partition.id, 9);  // not the holder: ignored
  EXPECT_EQ(q.Requeue(7), 1u);
  EXPECT_EQ(q.outstanding(), 0u);
  // The lease comes back first, skipping the lines already trained.
  auto b = q.Acquire(8);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->partition.id, a->partition.id);
  EXPECT_EQ(b->partition.skip_lines, 4u);
  EXPECT_TRUE(q.Finish(8, b->partition.id, 10));
  const auto& ranges = q.trained().at(a->partition.id);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], std::make_pair(uint64_t{0}, uint64_t{4}));
  EXPECT_EQ(ranges[1], std::make_pair(uint64_t{4}, uint64_t{10}));
  EXPECT_EQ(q.finished(), 1u);
}

TEST(PartitionQueueTest, FinishByAnotherWorkerIsRefused) {
  PartitionQueue q(ThreeParts(), 1);
  auto a = q.Acquire(1);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(q.Finish(2, a->partition.id, 10));
  EXPECT_TRUE(q.Finish(1, a->partition.id, 10));
  EXPECT_FALSE(q.Finish(1, a->partition.id, 10));  // only once
}

TEST(PartitionQueueTest, JsonRoundTripResumesOutstandingLeasesFirst) {
  PartitionQueue q(ThreeParts(), /*passes=*/2);
  auto done = q.Acquire(1);
  ASSERT_TRUE(q.Finish(1, done->partition.id, 10));
  auto held = q.Acquire(2);
  q.UpdatePosition(2, held->partition.id, 6);
  EXPECT_EQ(q.CurrentPass(), 0u);

  auto restored = PartitionQueue::FromJson(q.ToJson());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->total(), 6u);
  EXPECT_EQ(restored->finished(), 1u);
  auto first = restored->Acquire(3);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->partition.id, held->partition.id);
  EXPECT_EQ(first->partition.skip_lines, 6u);
  EXPECT_EQ(first->partition.file, "f.tsv");
  EXPECT_EQ(first->partition.begin, held->partition.begin);
  // The rest come in their original order, then the next pass.
  size_t left = 0;
  while (restored->Acquire(3)) ++left;
  EXPECT_EQ(left, 4u);  // one of pass 0, three of pass 1
  // The lines trained before the cut are part of the record.
  EXPECT_EQ(restored->trained().at(held->partition.id).front(), std::make_pair(uint64_t{0}, uint64_t{6}));
}

TEST(PartitionQueueTest, InconsistentJsonIsRefused) {
  PartitionQueue q(ThreeParts(), 1);
  auto j = q.ToJson();
  j["total"] = 5;
  EXPECT_FALSE(PartitionQueue::FromJson(j).ok());
  EXPECT_FALSE(PartitionQueue::FromJson(nlohmann::json::object()).ok());
}

}  // namespace
}  // namespace embedps::scheduler
