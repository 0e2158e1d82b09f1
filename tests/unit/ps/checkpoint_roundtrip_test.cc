// Checkpoint round trips: every row's weights, optimizer state and stamp
// come back exactly (and training continues identically), a checkpoint of
// two servers restores onto three, and delta chains with pushes, new rows
// and evicted rows restore the state at the last cut.
#include <gtest/gtest.h>

#include <set>

#include "common/shard_map.h"
#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

namespace embedps::ps::checkpoint {
namespace {

using embedps::testing::ScratchDir;

struct RoundTripCase {
  const char* name;
  uint32_t dim;
  const char* optimizer;
  bool fp16;
  uint64_t evict_after_steps;  // > 0: rows carry a last-step stamp
};

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, RowsStateAndStepsComeBackExactly) {
  const RoundTripCase& p = GetParam();
  TableConfig c = TestConfig("emb", p.dim, p.optimizer);
  c.fp16 = p.fp16;
  c.evict_after_steps = p.evict_after_steps;
  auto source = NewTable(c);
  const auto keys = KeyRange(1, 3000);
  PushRandom(*source, keys, 3, 1);
  // Later pushes to some rows only, so stamps and Adam's t differ per row.
  PushRandom(*source, std::vector<uint64_t>(keys.begin(), keys.begin() + 500), 4, 2);
  std::vector<float> pulled(10 * p.dim);
  source->Pull(keys.data() + 2900, 10, pulled.data());

  ScratchDir dir;
  const WriteStats w = WriteCheckpoint({source.get()}, FullCut(1), dir.File("full.ckpt"));
  EXPECT_EQ(w.rows, 3000u);
  EXPECT_EQ(w.tombstones, 0u);
  ASSERT_TRUE(Verify(dir.File("full.ckpt")).ok());

  auto restored = NewTable(c);
  auto r = Restore({{dir.File("full.ckpt")}}, OwnAll, {restored.get()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_loaded, 3000u);
  EXPECT_EQ(r->rows_skipped, 0u);
  EXPECT_EQ(r->bytes_read, w.bytes);
  EXPECT_EQ(Dump(*restored), Dump(*source));
  EXPECT_EQ(restored->Stats().steps, source->Stats().steps);

  // Training goes on identically from the restored table.
  PushRandom(*source, keys, 2, 3);
  PushRandom(*restored, keys, 2, 3);
  EXPECT_EQ(Dump(*restored), Dump(*source));
  EXPECT_EQ(source->EvictIdle(), restored->EvictIdle());
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, RoundTripTest,
    ::testing::Values(RoundTripCase{"adagrad", 8, "adagrad", false, 0},
                      RoundTripCase{"adam", 5, "adam", false, 0},
                      RoundTripCase{"ftrl", 4, "ftrl", false, 0},
                      RoundTripCase{"rowwise_adagrad_stamped", 6, "rowwise_adagrad", false, 3},
                      RoundTripCase{"fp16_odd_dim_adam_stamped", 7, "adam", true, 5}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CheckpointTopologyTest, TwoServersRestoreOntoThree) {
  const TableConfig a = TestConfig("user", 4, "adagrad", 0);
  const TableConfig b = TestConfig("item", 3, "adam", 1);
  const ShardMap two = ShardMap::Balanced(2, 64, 1).value();
  const ShardMap three = ShardMap::Balanced(3, 64, 2).value();
  ScratchDir dir;
  std::vector<std::string> files;
  std::map<uint32_t, Rows> original;  // table -> rows over both servers
  for (uint32_t rank = 0; rank < 2; ++rank) {
    auto ta = NewTable(a), tb = NewTable(b);
    std::vector<uint64_t> mine;
    for (uint64_t k : KeyRange(1, 4000)) {
      if (two.ServerOf(k) == rank) mine.push_back(k);
    }
    PushRandom(*ta, mine, 2, rank);
    PushRandom(*tb, std::vector<uint64_t>(mine.begin(), mine.begin() + mine.size() / 2), 3, rank);
    for (const auto& [k, v] : Dump(*ta)) original[0][k] = v;
    for (const auto& [k, v] : Dump(*tb)) original[1][k] = v;
    files.push_back(dir.File("s" + std::to_string(rank) + ".ckpt"));
    WriteCheckpoint({ta.get(), tb.get()}, FullCut(9, rank), files.back());
  }
  std::map<uint32_t, Rows> merged;
  uint64_t loaded = 0;
  for (uint32_t rank = 0; rank < 3; ++rank) {
    auto ta = NewTable(a), tb = NewTable(b);
    auto owned = [&](uint32_t, uint64_t key) { return three.ServerOf(key) == rank; };
    auto r = Restore({files}, owned, {ta.get(), tb.get()});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->rows_loaded + r->rows_skipped, original[0].size() + original[1].size());
    loaded += r->rows_loaded;
    for (uint32_t t = 0; t < 2; ++t) {
      for (const auto& [k, v] : Dump(t == 0 ? *ta : *tb)) {
        EXPECT_EQ(three.ServerOf(k), rank);
        EXPECT_TRUE(merged[t].emplace(k, v).second) << "key " << k << " restored twice";
      }
    }
  }
  EXPECT_EQ(loaded, original[0].size() + original[1].size());
  EXPECT_EQ(merged, original);
}

// Weights of every row (Export), by key.
std::map<uint64_t, std::vector<float>> Weights(const EmbeddingTable& t) {
  const ModelShard m = t.Export();
  std::map<uint64_t, std::vector<float>> out;
  for (size_t i = 0; i < m.keys.size(); ++i) {
    out[m.keys[i]].assign(m.values.begin() + i * m.dim, m.values.begin() + (i + 1) * m.dim);
  }
  return out;
}

TEST(CheckpointDeltaTest, ChainWithPushesNewRowsAndEvictionsRestoresTheLastCut) {
  TableConfig c = TestConfig("emb", 4, "adagrad");
  c.evict_after_steps = 4;
  auto t = NewTable(c);
  ScratchDir dir;
  const auto base = KeyRange(1, 2000);
  PushRandom(*t, base, 1, 1);
  const WriteStats full = WriteCheckpoint({t.get()}, FullCut(1), dir.File("c1"));
  EXPECT_EQ(full.rows, 2000u);
  EXPECT_EQ(t->Stats().changed_since_cut, 0u);

  // Delta 1: a quarter of the rows pushed, new rows, and every row not
  // pushed in the last 5 steps evicted.
  const std::vector<uint64_t> hot(base.begin(), base.begin() + 500);
  const auto fresh = KeyRange(5000, 300);
  PushRandom(*t, hot, 5, 2);
  PushRandom(*t, fresh, 1, 3);
  const size_t evicted = t->EvictIdle();
  EXPECT_EQ(evicted, 1500u);
  EXPECT_EQ(t->Stats().changed_since_cut, 800u);
  const WriteStats d1 = WriteCheckpoint({t.get()}, DeltaCut(2, 1), dir.File("c2"));
  EXPECT_EQ(d1.rows, 800u);
  EXPECT_EQ(d1.tombstones, 1500u);
  const auto weights_at_2 = Weights(*t);

  // Delta 2: an evicted key comes back, a few rows change, more go.
  // base[20] is evicted and comes back within the same interval.
  PushRandom(*t, fresh, 5, 4);
  PushRandom(*t, {base[1900], base[10]}, 1, 5);
  EXPECT_EQ(t->EvictIdle(), 499u);  // the hot rows but base[10]
  PushRandom(*t, {base[20]}, 1, 6);
  const WriteStats d2 = WriteCheckpoint({t.get()}, DeltaCut(3, 2), dir.File("c3"));
  EXPECT_EQ(d2.rows, 303u);  // the fresh rows, base[1900], base[10], base[20]
  EXPECT_EQ(d2.tombstones, 499u);

  auto r2 = NewTable(c);
  ASSERT_TRUE(Restore({{dir.File("c1")}, {dir.File("c2")}}, OwnAll, {r2.get()}).ok());
  EXPECT_EQ(Weights(*r2), weights_at_2);
  auto r3 = NewTable(c);
  auto st = Restore({{dir.File("c1")}, {dir.File("c2")}, {dir.File("c3")}}, OwnAll, {r3.get()});
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->rows_loaded, t->size());
  EXPECT_EQ(Dump(*r3), Dump(*t));

  // Restored rows count as unchanged: a delta right after the restore is
  // empty, and a delta after a push holds just that row.
  EXPECT_EQ(WriteCheckpoint({r3.get()}, DeltaCut(4, 3), dir.File("c4")).rows, 0u);
  PushRandom(*r3, {fresh[0]}, 1, 6);
  EXPECT_EQ(WriteCheckpoint({r3.get()}, DeltaCut(5, 4), dir.File("c5")).rows, 1u);
}

TEST(CheckpointDeltaTest, DeltaNeedsACompleteEarlierCutAndOneCutAtATime) {
  auto t = NewTable(TestConfig("emb", 2, "sgd"));
  PushRandom(*t, KeyRange(1, 10), 1, 1);
  auto delta = Cut({t.get()}, DeltaCut(2, 1));
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(delta.status().message().find("full checkpoint"), std::string::npos);

  auto first = Cut({t.get()}, FullCut(1));
  ASSERT_TRUE(first.ok());
  auto second = Cut({t.get()}, FullCut(2));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  // A writer dropped without writing leaves no base for a delta either.
  first->reset();
  EXPECT_FALSE(Cut({t.get()}, DeltaCut(2, 1)).ok());
  EXPECT_TRUE(Cut({t.get()}, FullCut(3)).ok());
}

TEST(CheckpointTopologyTest, ChainLinksAreChecked) {
  auto t = NewTable(TestConfig("emb", 2, "sgd"));
  PushRandom(*t, KeyRange(1, 10), 1, 1);
  ScratchDir dir;
  WriteCheckpoint({t.get()}, FullCut(1), dir.File("c1"));
  WriteCheckpoint({t.get()}, DeltaCut(2, 1), dir.File("c2"));
  WriteCheckpoint({t.get()}, DeltaCut(3, 2), dir.File("c3"));
  auto fresh = NewTable(TestConfig("emb", 2, "sgd"));
  // A delta first, and a delta whose base is not the previous element.
  auto r = Restore({{dir.File("c2")}}, OwnAll, {fresh.get()});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  r = Restore({{dir.File("c1")}, {dir.File("c3")}}, OwnAll, {fresh.get()});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("relative to checkpoint 2"), std::string::npos);
  EXPECT_EQ(fresh->size(), 0u);
}

}  // namespace
}  // namespace embedps::ps::checkpoint
