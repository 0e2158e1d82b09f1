// The embedding table: deterministic first-touch rows, pulls and pushes,
// rejection of non-finite gradients, and export.
#include "ps/embedding_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>
#include <thread>

namespace embedps::ps {
namespace {

TableConfig Config(uint32_t dim, float init_scale, const char* opt = "sgd") {
  TableConfig c;
  c.dim = dim;
  c.init_scale = init_scale;
  c.seed = 11;
  c.optimizer.name = opt;
  c.optimizer.learning_rate = 1.0f;
  return c;
}

TEST(EmbeddingTableTest, FirstTouchIsDeterministicAndBounded) {
  auto a = EmbeddingTable::Create(Config(4, 0.5f)).value();
  auto b = EmbeddingTable::Create(Config(4, 0.5f)).value();
  const uint64_t keys[2] = {12345, 0xffffffffffffffffULL};
  float ra[8], rb[8];
  a->Pull(keys, 2, ra);
  // Create in the opposite order on the other table: rows must not depend on it.
  b->Pull(&keys[1], 1, rb + 4);
  b->Pull(&keys[0], 1, rb);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ra[i], rb[i]);
    EXPECT_LE(std::fabs(ra[i]), 0.5f);
  }
  EXPECT_NE(ra[0], ra[4]);
  EXPECT_EQ(a->size(), 2u);
}

TEST(EmbeddingTableTest, ReadOnlyPullCreatesNoRows) {
  auto table = EmbeddingTable::Create(Config(3, 0.5f)).value();
  const uint64_t keys[2] = {7, 8};
  float ro[6], created[6];
  table->Pull(keys, 2, ro, /*read_only=*/true);
  EXPECT_EQ(table->size(), 0u);  // initial values, nothing stored
  table->Pull(keys, 2, created);
  EXPECT_EQ(table->size(), 2u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ro[i], created[i]);
  // An existing row reads as it is, updates included.
  const float grad[3] = {1, 1, 1};
  ASSERT_TRUE(table->Push(keys, 1, grad).ok());
  table->Pull(keys, 2, ro, /*read_only=*/true);
  EXPECT_EQ(ro[0], created[0] - 1.0f);
  EXPECT_EQ(ro[3], created[3]);
  const uint64_t other = 9;
  table->Pull(&other, 1, ro, /*read_only=*/true);
  EXPECT_EQ(table->size(), 2u);
}

TEST(EmbeddingTableTest, SeedChangesInitialValues) {
  auto a = EmbeddingTable::Create(Config(2, 1.0f)).value();
  TableConfig other = Config(2, 1.0f);
  other.seed = 12;
  auto b = EmbeddingTable::Create(other).value();
  float va[2], vb[2];
  a->InitialValue(7, va);
  b->InitialValue(7, vb);
  EXPECT_NE(va[0], vb[0]);
}

TEST(EmbeddingTableTest, PushThenPullSeesUpdate) {
  auto t = EmbeddingTable::Create(Config(2, 0.0f)).value();
  const uint64_t keys[2] = {1, 2};
  const float grads[4] = {0.5f, -1.0f, 2.0f, 0.0f};
  ASSERT_TRUE(t->Push(keys, 2, grads).ok());
  ASSERT_TRUE(t->Push(keys, 1, grads).ok());
  float out[4];
  t->Pull(keys, 2, out);
  // SGD lr 1 from zero: key 1 got its gradient twice.
  EXPECT_FLOAT_EQ(out[0], -1.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  EXPECT_FLOAT_EQ(out[2], -2.0f);
  EXPECT_FLOAT_EQ(out[3], 0.0f);
}

TEST(EmbeddingTableTest, NonFiniteGradientRejectedWithoutSideEffects) {
  auto t = EmbeddingTable::Create(Config(1, 0.0f, "adagrad")).value();
  const uint64_t keys[2] = {1, 2};
  const float good[2] = {1.0f, 1.0f};
  ASSERT_TRUE(t->Push(keys, 2, good).ok());
  float before[2];
  t->Pull(keys, 2, before);
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    const float grads[2] = {0.25f, bad};
    Status st = t->Push(keys, 2, grads);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  }
  float after[2];
  t->Pull(keys, 2, after);
  EXPECT_EQ(before[0], after[0]);
  EXPECT_EQ(before[1], after[1]);
}

TEST(EmbeddingTableTest, ExportHasEveryRow) {
  auto t = EmbeddingTable::Create(Config(3, 0.1f)).value();
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 1000; ++k) keys.push_back(k * 7919);
  std::vector<float> vals(keys.size() * 3);
  t->Pull(keys.data(), keys.size(), vals.data());
  ModelShard shard = t->Export();
  ASSERT_EQ(shard.keys.size(), 1000u);
  ASSERT_EQ(shard.values.size(), 3000u);
  for (size_t i = 0; i < shard.keys.size(); ++i) {
    float expect[3];
    t->InitialValue(shard.keys[i], expect);
    for (int d = 0; d < 3; ++d) EXPECT_EQ(shard.values[i * 3 + d], expect[d]);
  }
}

TEST(EmbeddingTableTest, NormalInitializerHasTheRequestedSpread) {
  TableConfig c = Config(8, 0.1f);
  c.init = Initializer::kNormal;
  auto t = EmbeddingTable::Create(c).value();
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  float v[8];
  for (int k = 0; k < n; ++k) {
    t->InitialValue(static_cast<uint64_t>(k), v);
    for (float x : v) {
      sum += x;
      sum_sq += x * x;
    }
  }
  const double mean = sum / (n * 8), stddev = std::sqrt(sum_sq / (n * 8) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(stddev, 0.1, 0.002);
  c.init = Initializer::kZeros;
  auto z = EmbeddingTable::Create(c).value();
  z->InitialValue(5, v);
  for (float x : v) EXPECT_EQ(x, 0.0f);
}

TEST(EmbeddingTableTest, PushWithOutputReturnsUpdatedRows) {
  auto t = EmbeddingTable::Create(Config(2, 0.0f)).value();
  const uint64_t keys[2] = {10, 20};
  const float grads[4] = {1, 2, 3, 4};
  float out[4];
  ASSERT_TRUE(t->Push(keys, 2, grads, out).ok());
  EXPECT_EQ(out[0], -1.0f);
  EXPECT_EQ(out[3], -4.0f);
  ASSERT_TRUE(t->Push(keys, 2, grads, out).ok());
  EXPECT_EQ(out[1], -4.0f);
}

TEST(EmbeddingTableTest, Fp16StorageKeepsFloatMath) {
  TableConfig c = Config(3, 0.0f);
  c.fp16 = true;
  c.optimizer.learning_rate = 0.5f;
  auto t = EmbeddingTable::Create(c).value();
  const uint64_t key = 99;
  const float g[3] = {1.0f, -0.25f, 0.001f};
  ASSERT_TRUE(t->Push(&key, 1, g).ok());
  float out[3];
  t->Pull(&key, 1, out);
  EXPECT_EQ(out[0], -0.5f);
  EXPECT_EQ(out[1], 0.125f);
  EXPECT_NEAR(out[2], -0.0005f, 0.0005f / 1024);
  // Half the weight bytes of the float32 table.
  auto f32 = EmbeddingTable::Create(Config(3, 0.0f)).value();
  ASSERT_TRUE(f32->Push(&key, 1, g).ok());
  EXPECT_LT(t->Stats().bytes_per_live_row, f32->Stats().bytes_per_live_row);
}

TEST(EmbeddingTableTest, AdmissionWaitsForTheNthPush) {
  TableConfig c = Config(1, 0.5f);
  c.admit_after = 3;
  auto t = EmbeddingTable::Create(c).value();
  const uint64_t key = 1234;
  float init, out;
  t->InitialValue(key, &init);
  const float g = 1.0f;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(t->Push(&key, 1, &g).ok());
    t->Pull(&key, 1, &out);
    EXPECT_EQ(out, init) << "push " << i + 1 << " must not create the row";
    EXPECT_EQ(t->size(), 0u);
  }
  EXPECT_EQ(t->Stats().pending_pushes, 2u);
  ASSERT_TRUE(t->Push(&key, 1, &g).ok());  // third sighting: admitted and applied
  EXPECT_EQ(t->size(), 1u);
  t->Pull(&key, 1, &out);
  EXPECT_EQ(out, init - 1.0f);
}

TEST(EmbeddingTableTest, IdleRowsAreEvicted) {
  TableConfig c = Config(1, 0.0f);
  c.evict_after_steps = 10;
  auto t = EmbeddingTable::Create(c).value();
  const uint64_t cold = 1, hot = 2;
  const float g = 1.0f;
  ASSERT_TRUE(t->Push(&cold, 1, &g).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(t->Push(&hot, 1, &g).ok());
  EXPECT_EQ(t->EvictIdle(), 1u);
  EXPECT_EQ(t->size(), 1u);
  EXPECT_EQ(t->Stats().evicted, 1u);
  float out;
  t->Pull(&hot, 1, &out);
  EXPECT_EQ(out, -20.0f);
  t->Pull(&cold, 1, &out);  // recreated fresh
  EXPECT_EQ(out, 0.0f);
}

// evict_after_seconds with explicit times (the server passes its clock's
// now every eviction interval): a row untouched for the horizon goes; one
// touched within it stays, also when only pulls touch rows.
TEST(EmbeddingTableTest, RowsUntouchedForTheWallClockHorizonAreEvicted) {
  TableConfig c = Config(1, 0.0f);
  c.evict_after_seconds = 10;
  auto t = EmbeddingTable::Create(c).value();
  const auto t0 = std::chrono::steady_clock::now();
  const auto at = [&](int seconds) { return t0 + std::chrono::seconds(seconds); };
  const uint64_t cold = 1, warm = 2, read_only = 3;
  const float g = 1.0f;
  float out;
  ASSERT_TRUE(t->Push(&cold, 1, &g).ok());
  ASSERT_TRUE(t->Push(&warm, 1, &g).ok());
  t->Pull(&read_only, 1, &out);
  EXPECT_EQ(t->EvictIdle(at(1)), 0u);
  EXPECT_EQ(t->EvictIdle(at(9)), 0u);  // younger than the horizon
  // From second 9 on only `warm` is pushed and `read_only` pulled.
  ASSERT_TRUE(t->Push(&warm, 1, &g).ok());
  t->Pull(&read_only, 1, &out);
  EXPECT_EQ(t->EvictIdle(at(10)), 0u);
  // At 12: `cold` was last touched before the pass at second 1, 11 s ago.
  EXPECT_EQ(t->EvictIdle(at(12)), 1u);
  EXPECT_EQ(t->size(), 2u);
  // At 18 the newest pass at least 10 s back is the one at 1; `warm` and
  // `read_only` were touched after it (at 9), so they stay.
  EXPECT_EQ(t->EvictIdle(at(18)), 0u);
  // At 21 the pass at 10 is 11 s back: rows stamped before it (touched
  // between 9 and 10) have been idle longer than 10 s.
  EXPECT_EQ(t->EvictIdle(at(21)), 2u);
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(t->Stats().evicted, 3u);
  // A row touched now survives a pass now.
  t->Pull(&read_only, 1, &out);
  EXPECT_EQ(t->EvictIdle(at(22)), 0u);
  EXPECT_EQ(t->size(), 1u);
}

TEST(EmbeddingTableTest, MemoryBudgetEvictsLeastRecentlyUsed) {
  TableConfig c = Config(16, 0.0f, "adagrad");
  c.optimizer.learning_rate = 0.1f;
  c.memory_budget_bytes = 1 << 20;
  auto t = EmbeddingTable::Create(c).value();
  const uint64_t per_row = t->Stats().bytes_per_live_row;
  const uint64_t budget_rows = c.memory_budget_bytes / per_row;
  std::vector<float> g(16, 0.5f);
  // Push 2x the budget, one key per step, oldest first.
  for (uint64_t k = 0; k < 2 * budget_rows; ++k) ASSERT_TRUE(t->Push(&k, 1, g.data()).ok());
  const size_t removed = t->EvictIdle();
  EXPECT_GT(removed, budget_rows);
  EXPECT_LE(t->size() * per_row, c.memory_budget_bytes);
  // Survivors are the most recent keys.
  const uint64_t newest = 2 * budget_rows - 1;
  ModelShard shard = t->Export();
  std::set<uint64_t> kept(shard.keys.begin(), shard.keys.end());
  EXPECT_TRUE(kept.count(newest));
  EXPECT_FALSE(kept.count(0));
  for (uint64_t k : kept) EXPECT_GT(k, budget_rows / 2);
}

TEST(EmbeddingTableTest, BudgetNeverWipesRowsTouchedAtTheCurrentStep) {
  // Pull-only traffic stamps every row with the same step; the budget must
  // not then evict everything.
  TableConfig c = Config(16, 0.0f, "adagrad");
  c.memory_budget_bytes = 64 << 10;
  auto t = EmbeddingTable::Create(c).value();
  std::vector<uint64_t> keys(5000);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = i;
  std::vector<float> out(keys.size() * 16);
  t->Pull(keys.data(), keys.size(), out.data());
  EXPECT_EQ(t->EvictIdle(), 0u);
  EXPECT_EQ(t->size(), keys.size());
}

TEST(EmbeddingTableTest, RejectsLimitsTheStoreCannotHonour) {
  TableConfig c = Config(1, 0.0f);
  c.admit_after = 256;
  EXPECT_FALSE(EmbeddingTable::Create(c).ok());
  c = Config(1, 0.0f);
  c.evict_after_steps = uint64_t{1} << 31;
  EXPECT_FALSE(EmbeddingTable::Create(c).ok());
  c = Config(1, 0.0f);
  c.evict_after_seconds = uint64_t{20} * 366 * 24 * 3600;
  auto refused = EmbeddingTable::Create(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("evict_after_seconds"), std::string::npos);
}

// Many threads pushing the same keys: every gradient lands exactly once.
// Also run under ThreadSanitizer (-DEMBEDPS_TSAN=ON).
TEST(EmbeddingTableTest, ConcurrentPushesAndPullsAreExact) {
  auto t = EmbeddingTable::Create(Config(4, 0.0f)).value();
  std::vector<uint64_t> keys(2000);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = i * 0x9e3779b97f4a7c15ULL;
  std::vector<float> grads(keys.size() * 4, 0.25f);
  const int threads = 4, rounds = 50;
  std::vector<std::thread> pool;
  for (int th = 0; th < threads; ++th) {
    pool.emplace_back([&] {
      std::vector<float> out(keys.size() * 4);
      for (int r = 0; r < rounds; ++r) {
        ASSERT_TRUE(t->Push(keys.data(), keys.size(), grads.data()).ok());
        t->Pull(keys.data(), keys.size(), out.data());
      }
    });
  }
  for (auto& th : pool) th.join();
  std::vector<float> out(keys.size() * 4);
  t->Pull(keys.data(), keys.size(), out.data());
  for (float v : out) ASSERT_EQ(v, -0.25f * threads * rounds);
  EXPECT_EQ(t->Stats().steps, static_cast<uint64_t>(threads * rounds));
}

TEST(EmbeddingTableTest, RejectsBadConfig) {
  EXPECT_FALSE(EmbeddingTable::Create(Config(0, 0.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(2000, 0.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(1, -1.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(1, 0.0f, "bogus")).ok());
}

}  // namespace
}  // namespace embedps::ps
