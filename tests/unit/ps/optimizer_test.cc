// SGD and Adagrad steps checked against values computed by hand.
#include "ps/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace embedps::ps {
namespace {

std::unique_ptr<Optimizer> Make(const OptimizerConfig& c) {
  auto o = MakeOptimizer(c);
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return std::move(o).value();
}

TEST(OptimizerTest, SgdStep) {
  OptimizerConfig c;
  c.name = "sgd";
  c.learning_rate = 0.1f;
  auto sgd = Make(c);
  EXPECT_EQ(sgd->StateFloats(4), 0u);
  float w[2] = {1.0f, -2.0f};
  const float g[2] = {0.5f, -3.0f};
  sgd->Apply(w, nullptr, g, 2);
  // 1 - 0.1*0.5 = 0.95; -2 - 0.1*(-3) = -1.7
  EXPECT_FLOAT_EQ(w[0], 0.95f);
  EXPECT_FLOAT_EQ(w[1], -1.7f);
}

TEST(OptimizerTest, SgdWithL2) {
  OptimizerConfig c;
  c.name = "sgd";
  c.learning_rate = 0.5f;
  c.l2 = 0.1f;
  auto sgd = Make(c);
  float w = 2.0f;
  const float g = 1.0f;
  sgd->Apply(&w, nullptr, &g, 1);
  // 2 - 0.5 * (1 + 0.1*2) = 1.4
  EXPECT_FLOAT_EQ(w, 1.4f);
}

TEST(OptimizerTest, AdagradTwoSteps) {
  OptimizerConfig c;
  c.name = "adagrad";
  c.learning_rate = 0.1f;
  c.initial_accumulator = 0.1f;
  auto ada = Make(c);
  ASSERT_EQ(ada->StateFloats(1), 1u);
  float w = 0.0f, acc = -1.0f;
  ada->InitState(&acc, 1);
  EXPECT_FLOAT_EQ(acc, 0.1f);

  const float g1 = 2.0f;
  ada->Apply(&w, &acc, &g1, 1);
  // acc = 0.1 + 4 = 4.1; w = 0 - 0.1 * 2 / sqrt(4.1) = -0.0987730...
  EXPECT_FLOAT_EQ(acc, 4.1f);
  EXPECT_NEAR(w, -0.2 / std::sqrt(4.1), 1e-7);

  const float g2 = -1.0f;
  const double w1 = -0.2 / std::sqrt(4.1);
  ada->Apply(&w, &acc, &g2, 1);
  // acc = 5.1; w = w1 + 0.1 / sqrt(5.1)
  EXPECT_FLOAT_EQ(acc, 5.1f);
  EXPECT_NEAR(w, w1 + 0.1 / std::sqrt(5.1), 1e-6);
}

TEST(OptimizerTest, AdagradIsPerCoordinate) {
  OptimizerConfig c;
  c.learning_rate = 1.0f;
  c.initial_accumulator = 1.0f;
  auto ada = Make(c);
  float w[2] = {0, 0}, acc[2];
  ada->InitState(acc, 2);
  const float g[2] = {3.0f, 0.0f};
  ada->Apply(w, acc, g, 2);
  // Coordinate 0: acc 10, w = -3/sqrt(10); coordinate 1 untouched.
  EXPECT_NEAR(w[0], -3.0 / std::sqrt(10.0), 1e-6);
  EXPECT_FLOAT_EQ(acc[0], 10.0f);
  EXPECT_FLOAT_EQ(w[1], 0.0f);
  EXPECT_FLOAT_EQ(acc[1], 1.0f);
}

TEST(OptimizerTest, RejectsBadConfigs) {
  OptimizerConfig c;
  c.name = "rmsprop-ish";
  EXPECT_FALSE(MakeOptimizer(c).ok());
  c.name = "sgd";
  c.learning_rate = 0;
  EXPECT_FALSE(MakeOptimizer(c).ok());
  c.learning_rate = NAN;
  EXPECT_FALSE(MakeOptimizer(c).ok());
  c = OptimizerConfig{};
  c.initial_accumulator = 0;
  EXPECT_FALSE(MakeOptimizer(c).ok());
}

}  // namespace
}  // namespace embedps::ps
