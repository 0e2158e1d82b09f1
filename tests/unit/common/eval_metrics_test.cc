#include "common/eval_metrics.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace embedps {
namespace {

// O(n^2) definition of AUC: the fraction of (positive, negative) pairs ranked
// correctly, ties counting half.
double BruteForceAuc(const std::vector<float>& s, const std::vector<float>& y) {
  double credit = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (y[i] < 0.5f) continue;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j] > 0.5f) continue;
      pairs += 1;
      credit += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
    }
  }
  return credit / pairs;
}

TEST(RocAucTest, HandComputedCases) {
  EXPECT_DOUBLE_EQ(RocAuc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(RocAuc({0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc({0.9f, 0.8f, 0.2f, 0.1f}, {0, 0, 1, 1}), 0.0);
}

TEST(RocAucTest, TiesGetHalfCredit) {
  // Positives {0.5, 0.9}, negatives {0.1, 0.5}: 1 + 0.5 + 1 + 1 of 4 pairs.
  EXPECT_DOUBLE_EQ(RocAuc({0.1f, 0.5f, 0.5f, 0.9f}, {0, 1, 0, 1}), 0.875);
  EXPECT_DOUBLE_EQ(RocAuc({0.5f, 0.5f, 0.5f, 0.5f}, {0, 1, 0, 1}), 0.5);
  // Three positives tied with two negatives, one negative below them all.
  EXPECT_DOUBLE_EQ(RocAuc({0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.1f}, {1, 1, 1, 0, 0, 0}),
                   (3 * (1 + 0.5 * 2)) / 9.0);
}

TEST(RocAucTest, OneClassAbsentIsHalf) {
  EXPECT_DOUBLE_EQ(RocAuc({0.1f, 0.7f}, {1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({0.1f, 0.7f}, {0, 0}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({}, {}), 0.5);
}

TEST(RocAucTest, MatchesBruteForceWithManyTies) {
  std::mt19937 rng(42);
  std::vector<float> s, y;
  for (int i = 0; i < 3000; ++i) {
    const int bucket = static_cast<int>(rng() % 20);  // few distinct scores
    s.push_back(bucket / 20.0f);
    y.push_back((rng() % 100) < static_cast<unsigned>(20 + 3 * bucket) ? 1.0f : 0.0f);
  }
  EXPECT_NEAR(RocAuc(s, y), BruteForceAuc(s, y), 1e-12);
}

TEST(RocAucTest, MillionsOfExamples) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> noise(0, 1);
  const size_t n = 3'000'000;
  std::vector<float> s(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    y[i] = (rng() & 1) ? 1.0f : 0.0f;
    s[i] = y[i] + noise(rng);  // separation of one standard deviation
  }
  // Theory: P(N(1,1) > N(0,1)) = Phi(1/sqrt(2)) = 0.76025.
  EXPECT_NEAR(RocAuc(s, y), 0.76025, 0.002);
}

TEST(RocAucTest, NanScoresRankLowest) {
  EXPECT_DOUBLE_EQ(RocAuc({std::nanf(""), 0.3f}, {0, 1}), 1.0);
}

TEST(LogLossTest, Values) {
  EXPECT_NEAR(LogLoss({0.5f}, {1}), std::log(2.0), 1e-9);
  EXPECT_NEAR(LogLoss({0.9f, 0.2f}, {1, 0}), -(std::log(0.9) + std::log(0.8)) / 2, 1e-7);
  // Clipped to 1e-7: a confident miss costs -ln(1e-7), not infinity.
  EXPECT_NEAR(LogLoss({0.0f}, {1}), -std::log(1e-7), 1e-6);
  EXPECT_NEAR(LogLoss({1.0f}, {0}), -std::log(1e-7), 1e-3);
  EXPECT_EQ(LogLoss({}, {}), 0);
}

TEST(LogLossTest, FromLogitIsStableAndConsistent) {
  EXPECT_NEAR(LogLossFromLogit(0, 1), std::log(2.0), 1e-12);
  EXPECT_NEAR(LogLossFromLogit(100, 0), 100, 1e-9);
  EXPECT_NEAR(LogLossFromLogit(-100, 1), 100, 1e-9);
  EXPECT_LT(LogLossFromLogit(100, 1), 1e-40);
  EXPECT_TRUE(std::isfinite(LogLossFromLogit(-1e6, 1)));
  for (double z : {-3.0, -0.5, 0.25, 2.0}) {
    for (float y : {0.0f, 1.0f}) {
      const float p = 1.0f / (1.0f + std::exp(static_cast<float>(-z)));
      EXPECT_NEAR(LogLossFromLogit(z, y), LogLoss({p}, {y}), 1e-6);
    }
  }
}

TEST(SigmoidTest, Values) {
  EXPECT_FLOAT_EQ(Sigmoid(0), 0.5f);
  EXPECT_NEAR(Sigmoid(2), 1 / (1 + std::exp(-2.0)), 1e-7);
  EXPECT_NEAR(Sigmoid(-2), 1 / (1 + std::exp(2.0)), 1e-7);
  EXPECT_EQ(Sigmoid(1000), 1.0f);
  EXPECT_EQ(Sigmoid(-1000), 0.0f);
  EXPECT_FALSE(std::isnan(Sigmoid(-1e30f)));
}

}  // namespace
}  // namespace embedps
