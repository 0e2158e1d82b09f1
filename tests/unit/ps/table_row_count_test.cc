// The row accounting server limits rely on: approx_rows() follows creation
// and eviction exactly when no request is running, CountMissing() counts the
// keys a request would add, and bytes_per_live_row() matches Stats().
#include <gtest/gtest.h>

#include <vector>

#include "ps/embedding_table.h"

namespace embedps::ps {
namespace {

TEST(TableRowCountTest, FollowsCreationAndEviction) {
  TableConfig c;
  c.dim = 4;
  c.optimizer.name = "sgd";
  c.evict_after_steps = 2;
  auto t = EmbeddingTable::Create(c).value();
  std::vector<uint64_t> keys = {1, 2, 3, 4, 5};
  EXPECT_EQ(t->CountMissing(keys.data(), keys.size()), 5u);
  std::vector<float> out(keys.size() * 4);
  t->Pull(keys.data(), 3, out.data());
  EXPECT_EQ(t->approx_rows(), 3u);
  EXPECT_EQ(t->CountMissing(keys.data(), keys.size()), 2u);
  const std::vector<uint64_t> same = {4, 4, 4};  // duplicates count each time: a bound, not exact
  EXPECT_EQ(t->CountMissing(same.data(), same.size()), 3u);

  std::vector<float> grads(keys.size() * 4, 0.5f);
  ASSERT_TRUE(t->Push(keys.data(), keys.size(), grads.data()).ok());
  EXPECT_EQ(t->approx_rows(), 5u);
  EXPECT_EQ(t->approx_rows(), t->size());
  EXPECT_EQ(t->bytes_per_live_row(), t->Stats().bytes_per_live_row);

  // Three more pushes to key 1 only: the other rows go idle and are evicted.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t->Push(keys.data(), 1, grads.data()).ok());
  EXPECT_EQ(t->EvictIdle(), 4u);
  EXPECT_EQ(t->approx_rows(), 1u);
  EXPECT_EQ(t->approx_rows(), t->size());
}

}  // namespace
}  // namespace embedps::ps
