// The embedding table: deterministic first-touch rows, pulls and pushes,
// rejection of non-finite gradients, and export.
#include "ps/embedding_table.h"

#include <gtest/gtest.h>

#include <cmath>

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

TEST(EmbeddingTableTest, RejectsBadConfig) {
  EXPECT_FALSE(EmbeddingTable::Create(Config(0, 0.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(2000, 0.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(1, -1.0f)).ok());
  EXPECT_FALSE(EmbeddingTable::Create(Config(1, 0.0f, "bogus")).ok());
}

}  // namespace
}  // namespace embedps::ps
