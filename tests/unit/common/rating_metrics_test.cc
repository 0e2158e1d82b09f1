// Ranking metrics against hand-computed values and their definitions.
#include "common/rating_metrics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace embedps {
namespace {

TEST(RankAmongTest, CountsHigherScoresAndSplitsTies) {
  EXPECT_DOUBLE_EQ(RankAmong(0.9f, {0.1f, 0.2f, 0.3f}), 0.0);
  EXPECT_DOUBLE_EQ(RankAmong(0.2f, {0.1f, 0.5f, 0.3f}), 2.0);
  EXPECT_DOUBLE_EQ(RankAmong(0.5f, {0.5f, 0.5f, 0.1f, 0.9f}), 2.0);  // 1 higher + 2 ties / 2
  // A constant model ranks the positive in the middle of 100 candidates.
  EXPECT_DOUBLE_EQ(RankAmong(1.0f, std::vector<float>(99, 1.0f)), 49.5);
}

TEST(HitAndNdcgTest, HandComputed) {
  EXPECT_EQ(HitAtK(0, 10), 1.0);
  EXPECT_EQ(HitAtK(9, 10), 1.0);
  EXPECT_EQ(HitAtK(9.5, 10), 1.0);
  EXPECT_EQ(HitAtK(10, 10), 0.0);
  EXPECT_DOUBLE_EQ(NdcgAtK(0, 10), 1.0);
  EXPECT_DOUBLE_EQ(NdcgAtK(1, 10), 1.0 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(NdcgAtK(6, 10), 1.0 / 3.0);  // log2(8) = 3
  EXPECT_EQ(NdcgAtK(10, 10), 0.0);
}

// With one held-out item among 100 ranked uniformly at random, HR@10 is
// 10/100: the level the NCF integration test must clear by far.
TEST(HitAndNdcgTest, RandomRankingGivesTheChanceLevel) {
  double hits = 0;
  for (int rank = 0; rank < 100; ++rank) hits += HitAtK(rank, 10);
  EXPECT_DOUBLE_EQ(hits / 100, 0.1);
}

TEST(PrecisionRecallTest, HandComputed) {
  const std::vector<uint64_t> ranked = {5, 3, 9, 1, 7};
  const std::vector<uint64_t> relevant = {3, 7, 8};
  EXPECT_DOUBLE_EQ(PrecisionAtK(ranked, relevant, 2), 0.5);        // {3}
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 2), 1.0 / 3);
  EXPECT_DOUBLE_EQ(PrecisionAtK(ranked, relevant, 5), 2.0 / 5);    // {3, 7}
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 5), 2.0 / 3);
  // A list shorter than k still divides by k: empty slots are misses.
  EXPECT_DOUBLE_EQ(PrecisionAtK(ranked, relevant, 10), 2.0 / 10);
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 10), 2.0 / 3);
}

TEST(PrecisionRecallTest, EdgeCases) {
  EXPECT_EQ(PrecisionAtK({1, 2}, {1}, 0), 0.0);
  EXPECT_EQ(RecallAtK({1, 2}, {}, 2), 0.0);
  EXPECT_EQ(PrecisionAtK({}, {1}, 3), 0.0);
  // One relevant item (leave-one-out): recall@K is the hit, precision@K the hit / K.
  EXPECT_DOUBLE_EQ(RecallAtK({4, 2, 6}, {6}, 3), 1.0);
  EXPECT_DOUBLE_EQ(PrecisionAtK({4, 2, 6}, {6}, 3), 1.0 / 3);
}

}  // namespace
}  // namespace embedps
