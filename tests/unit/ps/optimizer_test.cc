// Optimizer steps checked against values computed by hand, plus state
// layouts, gradient clipping, config validation and the no-allocation promise
// of Apply.
#include "ps/optimizer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <string>
#include <vector>

// Global operator new is replaced for this test binary so that a test can
// count the allocations made inside Optimizer::Apply (which must be none).
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_count_allocations.load(std::memory_order_relaxed)) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// noinline: once inlined, GCC sees free() applied to the result of operator
// new and warns (-Wmismatched-new-delete), although both are ours.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace embedps::ps {
namespace {

// Tight relative tolerance: the optimizers compute in float, the expectations
// in double.
#define EXPECT_REL_NEAR(actual, expected) \
  EXPECT_NEAR((actual), (expected), 1e-6 * std::fabs(static_cast<double>(expected)))

std::unique_ptr<Optimizer> Make(const OptimizerConfig& c) {
  auto o = MakeOptimizer(c);
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return std::move(o).value();
}

OptimizerConfig Config(const std::string& name, float learning_rate) {
  OptimizerConfig c;
  c.name = name;
  c.learning_rate = learning_rate;
  return c;
}

uint32_t AdamStep(const float* state, uint32_t dim) {
  uint32_t t;
  std::memcpy(&t, state + 2 * dim, sizeof(t));
  return t;
}

const char* const kAllNames[] = {"sgd", "adagrad", "rowwise_adagrad", "adam", "ftrl"};

// ---------------------------------------------------------------- SGD

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

// ---------------------------------------------------------------- Adagrad

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

TEST(OptimizerTest, FactorLearningRateStepsAllButTheFirstCoordinate) {
  for (const char* name : {"adagrad", "rowwise_adagrad"}) {
    OptimizerConfig c = Config(name, 1.0f);
    c.initial_accumulator = 1.0f;
    c.factor_learning_rate = 0.25f;
    auto ada = Make(c);
    OptimizerConfig plain_config = Config(name, 1.0f);
    plain_config.initial_accumulator = 1.0f;
    auto plain = Make(plain_config);
    float w[3] = {0, 0, 0}, acc[3], pw[3] = {0, 0, 0}, pacc[3];
    ada->InitState(acc, 3);
    plain->InitState(pacc, 3);
    const float g[3] = {3.0f, 3.0f, -1.0f};
    ada->Apply(w, acc, g, 3);
    plain->Apply(pw, pacc, g, 3);
    // The linear weight steps as with one rate, the factors a quarter as far.
    EXPECT_FLOAT_EQ(w[0], pw[0]) << name;
    EXPECT_NEAR(w[1], 0.25f * pw[1], 1e-6) << name;
    EXPECT_NEAR(w[2], 0.25f * pw[2], 1e-6) << name;
    EXPECT_LT(w[1], 0.0f) << name;
  }
  for (const char* name : {"sgd", "adam", "ftrl"}) {
    OptimizerConfig c = Config(name, 0.1f);
    c.factor_learning_rate = 0.01f;
    EXPECT_FALSE(MakeOptimizer(c).ok()) << name;
  }
  OptimizerConfig negative = Config("adagrad", 0.1f);
  negative.factor_learning_rate = -1.0f;
  EXPECT_FALSE(MakeOptimizer(negative).ok());
}

TEST(OptimizerTest, AdagradWithL2TwoSteps) {
  OptimizerConfig c = Config("adagrad", 1.5f);
  c.initial_accumulator = 5.0f;
  c.l2 = 0.75f;
  auto ada = Make(c);
  float w = 2.0f, acc;
  ada->InitState(&acc, 1);

  const float g1 = 0.5f;
  ada->Apply(&w, &acc, &g1, 1);
  // g' = 0.5 + 0.75*2 = 2; acc = 5 + 2^2 = 9; w = 2 - 1.5*2/sqrt(9) = 2 - 1 = 1
  EXPECT_FLOAT_EQ(acc, 9.0f);
  EXPECT_FLOAT_EQ(w, 1.0f);

  const float g2 = 3.25f;
  ada->Apply(&w, &acc, &g2, 1);
  // g' = 3.25 + 0.75*1 = 4; acc = 9 + 16 = 25; w = 1 - 1.5*4/sqrt(25) = 1 - 1.2 = -0.2
  EXPECT_FLOAT_EQ(acc, 25.0f);
  EXPECT_FLOAT_EQ(w, -0.2f);
}

// ---------------------------------------------------------------- Row-wise Adagrad

TEST(OptimizerTest, RowwiseAdagradTwoSteps) {
  OptimizerConfig c = Config("rowwise_adagrad", 0.3f);
  c.initial_accumulator = 1.0f;
  auto ada = Make(c);
  float w[2] = {1.0f, -1.0f}, acc = -1.0f;
  ada->InitState(&acc, 2);
  EXPECT_FLOAT_EQ(acc, 1.0f);

  const float g1[2] = {4.0f, 0.0f};
  ada->Apply(w, &acc, g1, 2);
  // acc = 1 + (16 + 0)/2 = 9; step = 0.3/sqrt(9) = 0.1
  // w = {1 - 0.1*4, -1 - 0.1*0} = {0.6, -1}
  EXPECT_FLOAT_EQ(acc, 9.0f);
  EXPECT_FLOAT_EQ(w[0], 0.6f);
  EXPECT_FLOAT_EQ(w[1], -1.0f);

  const float g2[2] = {4.0f, 4.0f};
  ada->Apply(w, &acc, g2, 2);
  // acc = 9 + (16 + 16)/2 = 25; step = 0.3/5 = 0.06
  // w = {0.6 - 0.06*4, -1 - 0.06*4} = {0.36, -1.24}
  EXPECT_FLOAT_EQ(acc, 25.0f);
  EXPECT_FLOAT_EQ(w[0], 0.36f);
  EXPECT_FLOAT_EQ(w[1], -1.24f);
}

TEST(OptimizerTest, RowwiseAdagradWithL2) {
  OptimizerConfig c = Config("rowwise_adagrad", 1.0f);
  c.initial_accumulator = 0.5f;
  c.l2 = 0.5f;
  auto ada = Make(c);
  float w[2] = {2.0f, -2.0f}, acc;
  ada->InitState(&acc, 2);
  const float g[2] = {2.0f, 0.0f};
  ada->Apply(w, &acc, g, 2);
  // g' = {2 + 0.5*2, 0 + 0.5*(-2)} = {3, -1}; acc = 0.5 + (9 + 1)/2 = 5.5
  // w = {2 - 3/sqrt(5.5), -2 + 1/sqrt(5.5)}
  EXPECT_FLOAT_EQ(acc, 5.5f);
  EXPECT_REL_NEAR(w[0], 2.0 - 3.0 / std::sqrt(5.5));
  EXPECT_REL_NEAR(w[1], -2.0 + 1.0 / std::sqrt(5.5));
}

// ---------------------------------------------------------------- Adam

// Betas 0.5 and 0.75 are exact in float, so the hand arithmetic below is
// exactly what the optimizer computes up to rounding of the last ops.
OptimizerConfig HandAdamConfig() {
  OptimizerConfig c = Config("adam", 0.1f);
  c.beta1 = 0.5f;
  c.beta2 = 0.75f;
  c.epsilon = 1e-8f;
  return c;
}

TEST(OptimizerTest, AdamBiasCorrectionFirstTwoSteps) {
  auto adam = Make(HandAdamConfig());
  float w = 1.0f, state[3];
  adam->InitState(state, 1);
  EXPECT_EQ(AdamStep(state, 1), 0u);

  const float g1 = 2.0f;
  adam->Apply(&w, state, &g1, 1);
  // t = 1: m = 0.5*0 + 0.5*2 = 1; v = 0.75*0 + 0.25*4 = 1
  // m_hat = 1/(1 - 0.5) = 2; v_hat = 1/(1 - 0.75) = 4
  // w = 1 - 0.1*2/(sqrt(4) + 1e-8) = 0.9000000005
  EXPECT_EQ(AdamStep(state, 1), 1u);
  EXPECT_FLOAT_EQ(state[0], 1.0f);
  EXPECT_FLOAT_EQ(state[1], 1.0f);
  EXPECT_REL_NEAR(w, 1.0 - 0.2 / (2.0 + 1e-8));

  const float g2 = 1.0f;
  const double w1 = 1.0 - 0.2 / (2.0 + 1e-8);
  adam->Apply(&w, state, &g2, 1);
  // t = 2: m = 0.5*1 + 0.5*1 = 1; v = 0.75*1 + 0.25*1 = 1
  // m_hat = 1/(1 - 0.5^2) = 4/3; v_hat = 1/(1 - 0.75^2) = 1/0.4375 = 16/7
  // sqrt(v_hat) = 4/sqrt(7) = 1.5118579; m_hat/sqrt(v_hat) = sqrt(7)/3 = 0.8819171
  // w = 0.9000000005 - 0.1*0.8819171 = 0.8118083
  EXPECT_EQ(AdamStep(state, 1), 2u);
  EXPECT_FLOAT_EQ(state[0], 1.0f);
  EXPECT_FLOAT_EQ(state[1], 1.0f);
  EXPECT_REL_NEAR(w, w1 - 0.1 * (4.0 / 3.0) / (4.0 / std::sqrt(7.0) + 1e-8));
  EXPECT_NEAR(w, 0.8118083, 1e-6);
}

TEST(OptimizerTest, AdamStepCountIsPerRow) {
  auto adam = Make(HandAdamConfig());
  // Two rows of one table share the optimizer; row A is pushed twice, row B
  // once, with the same gradient as A's second push.
  float w_a = 1.0f, w_b = 1.0f, state_a[3], state_b[3];
  adam->InitState(state_a, 1);
  adam->InitState(state_b, 1);
  const float two = 2.0f, one = 1.0f;
  adam->Apply(&w_a, state_a, &two, 1);
  adam->Apply(&w_a, state_a, &one, 1);
  adam->Apply(&w_b, state_b, &one, 1);

  EXPECT_EQ(AdamStep(state_a, 1), 2u);
  EXPECT_EQ(AdamStep(state_b, 1), 1u);
  // Row B at its own t = 1: m = 0.5, v = 0.25, m_hat = 0.5/0.5 = 1,
  // v_hat = 0.25/0.25 = 1, w = 1 - 0.1*1/(1 + 1e-8) = 0.9.
  // (Had B used the table's third step, m_hat = 0.5/0.875 and
  // v_hat = 0.25/0.578125, giving w = 0.9131.)
  EXPECT_FLOAT_EQ(state_b[0], 0.5f);
  EXPECT_FLOAT_EQ(state_b[1], 0.25f);
  EXPECT_REL_NEAR(w_b, 1.0 - 0.1 / (1.0 + 1e-8));
  EXPECT_NEAR(w_a, 0.8118083, 1e-6);
}

TEST(OptimizerTest, AdamFirstStepIsLearningRateTimesSignWithDefaultBetas) {
  // With bias correction, t = 1 gives m_hat = g and v_hat = g^2 for any betas,
  // so each coordinate moves by lr * g / (|g| + eps).
  OptimizerConfig c = Config("adam", 0.01f);
  auto adam = Make(c);
  float w[3] = {0.5f, -0.25f, 0.0f};
  std::vector<float> state(adam->StateFloats(3));
  adam->InitState(state.data(), 3);
  const float g[3] = {0.3f, -2.0f, 1e-3f};
  adam->Apply(w, state.data(), g, 3);
  for (int i = 0; i < 3; ++i) {
    const double step = 0.01 * g[i] / (std::fabs(g[i]) + 1e-8);
    EXPECT_NEAR(w[i], (i == 0 ? 0.5 : i == 1 ? -0.25 : 0.0) - step, 1e-6 * 0.01) << i;
  }
}

TEST(OptimizerTest, AdamStepCountSaturates) {
  auto adam = Make(HandAdamConfig());
  float w = 1.0f, state[3];
  adam->InitState(state, 1);
  const uint32_t almost = std::numeric_limits<uint32_t>::max() - 1;
  std::memcpy(&state[2], &almost, sizeof(almost));
  const float g = 1.0f;
  adam->Apply(&w, state, &g, 1);
  adam->Apply(&w, state, &g, 1);
  // Wrapping to t = 0 would divide by 1 - beta^0 = 0.
  EXPECT_EQ(AdamStep(state, 1), std::numeric_limits<uint32_t>::max());
  EXPECT_TRUE(std::isfinite(w));
}

// ---------------------------------------------------------------- FTRL

TEST(OptimizerTest, FtrlL1KeepsWeightExactlyZeroUntilZExceedsL1) {
  OptimizerConfig c = Config("ftrl", 1.0f);  // alpha = 1
  c.ftrl_beta = 1.0f;
  c.l1 = 1.0f;
  c.l2 = 0.0f;
  auto ftrl = Make(c);
  float w = 0.0f, state[2] = {-1.0f, -1.0f};  // state = {z, n}
  ftrl->InitState(state, 1);
  EXPECT_EQ(state[0], 0.0f);
  EXPECT_EQ(state[1], 0.0f);

  const float g1 = 0.6f;
  ftrl->Apply(&w, state, &g1, 1);
  // n = 0 + 0.36 = 0.36; sigma = (sqrt(0.36) - sqrt(0))/1 = 0.6
  // z = 0 + 0.6 - 0.6*0 = 0.6; |z| <= l1 = 1 -> w = 0
  EXPECT_REL_NEAR(state[0], 0.6);
  EXPECT_REL_NEAR(state[1], 0.36);
  EXPECT_EQ(w, 0.0f);
  EXPECT_FALSE(std::signbit(w));

  const float g2 = -0.8f;
  ftrl->Apply(&w, state, &g2, 1);
  // n = 0.36 + 0.64 = 1; sigma = (1 - 0.6)/1 = 0.4
  // z = 0.6 - 0.8 - 0.4*0 = -0.2; |z| <= 1 -> w stays 0
  EXPECT_NEAR(state[0], -0.2, 1e-7);  // a difference of O(1) terms: absolute
  EXPECT_REL_NEAR(state[1], 1.0);
  EXPECT_EQ(w, 0.0f);

  const float g3 = -2.4f;
  ftrl->Apply(&w, state, &g3, 1);
  // n = 1 + 5.76 = 6.76; sqrt(n) = 2.6; sigma = (2.6 - 1)/1 = 1.6
  // z = -0.2 - 2.4 - 1.6*0 = -2.6; |z| > 1 ->
  // w = -(z - sign(z)*l1) / ((beta + sqrt(n))/alpha + l2)
  //   = -(-2.6 + 1) / ((1 + 2.6)/1 + 0) = 1.6/3.6 = 0.4444444
  EXPECT_REL_NEAR(state[0], -2.6);
  EXPECT_REL_NEAR(state[1], 6.76);
  EXPECT_REL_NEAR(w, 1.6 / 3.6);

  const float g4 = 0.5f;
  ftrl->Apply(&w, state, &g4, 1);
  // The z update now sees the non-zero weight:
  // n = 6.76 + 0.25 = 7.01; sqrt(n) = 2.6476405; sigma = 2.6476405 - 2.6 = 0.0476405
  // z = -2.6 + 0.5 - 0.0476405*0.4444444 = -2.1211735
  // w = -(-2.1211735 + 1) / (1 + 2.6476405) = 1.1211735/3.6476405 = 0.3073695
  const double sqrt_n = std::sqrt(7.01);
  const double z = -2.6 + 0.5 - (sqrt_n - 2.6) * (1.6 / 3.6);
  EXPECT_REL_NEAR(state[0], z);
  EXPECT_REL_NEAR(state[1], 7.01);
  EXPECT_REL_NEAR(w, -(z + 1.0) / (1.0 + sqrt_n));
  EXPECT_NEAR(w, 0.3073695, 1e-6);
}

TEST(OptimizerTest, FtrlUsesStoredWeightAndL2AndCanReturnToZero) {
  OptimizerConfig c = Config("ftrl", 0.5f);  // alpha = 0.5
  c.ftrl_beta = 1.0f;
  c.l1 = 0.1f;
  c.l2 = 0.2f;
  auto ftrl = Make(c);
  float w = 0.3f, state[2];  // a row initialised to a non-zero weight
  ftrl->InitState(state, 1);

  const float g1 = 1.0f;
  ftrl->Apply(&w, state, &g1, 1);
  // n = 1; sigma = (1 - 0)/0.5 = 2; z = 0 + 1 - 2*0.3 = 0.4
  // w = -(0.4 - 0.1) / ((1 + 1)/0.5 + 0.2) = -0.3/4.2 = -1/14 = -0.0714286
  EXPECT_REL_NEAR(state[0], 0.4);
  EXPECT_FLOAT_EQ(state[1], 1.0f);
  EXPECT_REL_NEAR(w, -1.0 / 14.0);

  const float g2 = -0.5f;
  ftrl->Apply(&w, state, &g2, 1);
  // n = 1.25; sqrt(n) = 1.1180340; sigma = (1.1180340 - 1)/0.5 = 0.2360680
  // z = 0.4 - 0.5 - 0.2360680*(-1/14) = -0.1 + 0.0168620 = -0.0831380
  // |z| <= 0.1 -> w = 0 exactly
  const double z = 0.4 - 0.5 + (std::sqrt(1.25) - 1.0) / 0.5 / 14.0;
  EXPECT_NEAR(state[0], z, 1e-7);  // a difference of O(1) terms: absolute
  EXPECT_FLOAT_EQ(state[1], 1.25f);
  EXPECT_EQ(w, 0.0f);
}

TEST(OptimizerTest, FtrlCoordinatesAreIndependent) {
  OptimizerConfig c = Config("ftrl", 1.0f);
  auto ftrl = Make(c);  // l1 = l2 = 0, beta = 1
  float w[2] = {0.0f, 0.0f}, state[4];
  ftrl->InitState(state, 2);
  const float g[2] = {3.0f, 0.0f};
  ftrl->Apply(w, state, g, 2);
  // Coordinate 0: n = 9, z = 3, w = -3/(1 + 3) = -0.75. Coordinate 1: z = n = 0
  // and l1 = 0, so |z| <= l1 and w = 0.
  EXPECT_FLOAT_EQ(w[0], -0.75f);
  EXPECT_EQ(w[1], 0.0f);
  EXPECT_FLOAT_EQ(state[0], 3.0f);  // z[0]
  EXPECT_EQ(state[1], 0.0f);        // z[1]
  EXPECT_FLOAT_EQ(state[2], 9.0f);  // n[0]
  EXPECT_EQ(state[3], 0.0f);        // n[1]
}

// ---------------------------------------------------------------- Clipping

TEST(OptimizerTest, ClippingScalesLongGradientToClipNorm) {
  OptimizerConfig c = Config("sgd", 1.0f);
  c.clip_norm = 1.0f;
  auto sgd = Make(c);
  float w[2] = {0.0f, 0.0f};
  const float g[2] = {3.0f, 4.0f};
  sgd->Apply(w, nullptr, g, 2);
  // |g| = 5 > 1 -> g = {3, 4} * 1/5 = {0.6, 0.8}; w = -g
  EXPECT_FLOAT_EQ(w[0], -0.6f);
  EXPECT_FLOAT_EQ(w[1], -0.8f);
}

TEST(OptimizerTest, ClippingLeavesShortGradientUnchanged) {
  OptimizerConfig c = Config("sgd", 1.0f);
  c.clip_norm = 1.0f;
  auto sgd = Make(c);
  float w[2] = {0.0f, 0.0f};
  const float g[2] = {0.3f, 0.4f};  // |g| = 0.5 <= 1
  sgd->Apply(w, nullptr, g, 2);
  EXPECT_EQ(w[0], -0.3f);
  EXPECT_EQ(w[1], -0.4f);

  float v[2] = {0.0f, 0.0f};
  const float on_the_norm[2] = {1.0f, 0.0f};  // |g| = 1, not above clip_norm
  sgd->Apply(v, nullptr, on_the_norm, 2);
  EXPECT_EQ(v[0], -1.0f);
  EXPECT_EQ(v[1], 0.0f);
}

TEST(OptimizerTest, ClippingHappensBeforeL2) {
  OptimizerConfig c = Config("sgd", 1.0f);
  c.clip_norm = 1.0f;
  c.l2 = 0.5f;
  auto sgd = Make(c);
  float w[2] = {1.0f, 1.0f};
  const float g[2] = {3.0f, 4.0f};
  sgd->Apply(w, nullptr, g, 2);
  // clipped g = {0.6, 0.8}; g' = g + 0.5*w = {1.1, 1.3}; w = 1 - g' = {-0.1, -0.3}
  EXPECT_FLOAT_EQ(w[0], -0.1f);
  EXPECT_FLOAT_EQ(w[1], -0.3f);
}

TEST(OptimizerTest, ClippingHandlesGradientWhoseSquareOverflowsFloat) {
  OptimizerConfig c = Config("sgd", 1.0f);
  c.clip_norm = 1.0f;
  auto sgd = Make(c);
  float w[2] = {0.0f, 0.0f};
  const float g[2] = {3e38f, 3e38f};  // finite, but g^2 is not
  sgd->Apply(w, nullptr, g, 2);
  EXPECT_REL_NEAR(w[0], -std::sqrt(0.5));
  EXPECT_REL_NEAR(w[1], -std::sqrt(0.5));
}

// Every optimizer must see the clipped gradient: pushing 10x a gradient of
// norm 1 with clip_norm = 1 must match pushing the unit gradient unclipped.
TEST(OptimizerTest, ClippingAppliesToEveryOptimizer) {
  for (const char* name : kAllNames) {
    SCOPED_TRACE(name);
    OptimizerConfig plain = Config(name, 0.1f);
    OptimizerConfig clipped = plain;
    clipped.clip_norm = 1.0f;
    auto a = Make(plain);
    auto b = Make(clipped);
    float wa[2] = {0.5f, -0.5f}, wb[2] = {0.5f, -0.5f};
    std::vector<float> sa(a->StateFloats(2)), sb(b->StateFloats(2));
    a->InitState(sa.data(), 2);
    b->InitState(sb.data(), 2);
    const float unit[2] = {0.6f, -0.8f}, big[2] = {6.0f, -8.0f};
    for (int step = 0; step < 2; ++step) {
      a->Apply(wa, sa.data(), unit, 2);
      b->Apply(wb, sb.data(), big, 2);
    }
    for (int i = 0; i < 2; ++i) {
      EXPECT_NEAR(wb[i], wa[i], 1e-6) << i;
      EXPECT_NE(wb[i], 0.5f * (i == 0 ? 1 : -1)) << "weight did not move";
    }
  }
}

// ---------------------------------------------------------------- State layout

TEST(OptimizerTest, StateFloats) {
  for (uint32_t dim : {1u, 8u, 1024u}) {
    SCOPED_TRACE(dim);
    EXPECT_EQ(Make(Config("sgd", 0.1f))->StateFloats(dim), 0u);
    EXPECT_EQ(Make(Config("adagrad", 0.1f))->StateFloats(dim), dim);
    EXPECT_EQ(Make(Config("rowwise_adagrad", 0.1f))->StateFloats(dim), 1u);
    EXPECT_EQ(Make(Config("adam", 0.1f))->StateFloats(dim), 2 * dim + 1);
    EXPECT_EQ(Make(Config("ftrl", 0.1f))->StateFloats(dim), 2 * dim);
  }
}

TEST(OptimizerTest, InitStateWritesExactlyStateFloats) {
  const uint32_t dim = 3;
  for (const char* name : kAllNames) {
    SCOPED_TRACE(name);
    OptimizerConfig c = Config(name, 0.1f);
    c.initial_accumulator = 0.25f;
    auto opt = Make(c);
    const uint32_t n = opt->StateFloats(dim);
    std::vector<float> state(n + 1, -7.0f);  // one guard float past the end
    opt->InitState(state.data(), dim);
    EXPECT_EQ(state[n], -7.0f) << "wrote past the state";
    for (uint32_t i = 0; i < n; ++i) {
      const float expected = std::string(name).find("adagrad") != std::string::npos ? 0.25f : 0.0f;
      EXPECT_EQ(state[i], expected) << i;  // Adam's t = 0 has the bits of 0.0f
    }
  }
}

// ---------------------------------------------------------------- No allocation

TEST(OptimizerTest, ApplyDoesNotAllocate) {
  const uint32_t dim = 1024;
  for (const char* name : kAllNames) {
    SCOPED_TRACE(name);
    OptimizerConfig c = Config(name, 0.01f);
    c.clip_norm = 0.5f;
    c.l1 = 0.01f;
    c.l2 = 0.01f;
    auto opt = Make(c);
    std::vector<float> w(dim, 0.1f), grad(dim, 0.2f), state(opt->StateFloats(dim));
    opt->InitState(state.data(), dim);
    g_allocations = 0;
    g_count_allocations = true;
    for (int step = 0; step < 3; ++step) opt->Apply(w.data(), state.data(), grad.data(), dim);
    g_count_allocations = false;
    EXPECT_EQ(g_allocations.load(), 0);
  }
}

// ---------------------------------------------------------------- Validation

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

struct BadConfigCase {
  const char* what;
  std::function<void(OptimizerConfig*)> mutate;
  const char* message;  // expected substring of the error message
};

TEST(OptimizerTest, ValidationNamesTheBadHyperParameter) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const BadConfigCase cases[] = {
      {"unknown name", [](OptimizerConfig* c) { c->name = "rmsprop"; },
       "unknown optimizer 'rmsprop' (valid: sgd, adagrad, rowwise_adagrad, adam, ftrl)"},
      {"zero lr", [](OptimizerConfig* c) { c->learning_rate = 0; }, "learning_rate must be in (0, 1000]"},
      {"negative lr", [](OptimizerConfig* c) { c->learning_rate = -0.1f; },
       "learning_rate must be in (0, 1000], got -0.1"},
      // A typo for 1e-3 that would turn every row into NaNs at once.
      {"huge lr", [](OptimizerConfig* c) { c->learning_rate = 1e30f; }, "learning_rate must be in (0, 1000]"},
      {"nan lr", [=](OptimizerConfig* c) { c->learning_rate = nan; },
       "learning_rate must be finite"},
      {"inf lr", [=](OptimizerConfig* c) { c->learning_rate = inf; },
       "learning_rate must be finite"},
      {"negative l2", [](OptimizerConfig* c) { c->l2 = -1; }, "l2 must be >= 0"},
      {"negative clip", [](OptimizerConfig* c) { c->clip_norm = -1; }, "clip_norm must be >= 0"},
      {"inf clip", [=](OptimizerConfig* c) { c->clip_norm = inf; }, "clip_norm must be finite"},
      {"adagrad zero acc", [](OptimizerConfig* c) { c->initial_accumulator = 0; },
       "initial_accumulator must be > 0"},
      {"rowwise negative acc",
       [](OptimizerConfig* c) {
         c->name = "rowwise_adagrad";
         c->initial_accumulator = -1;
       },
       "optimizer 'rowwise_adagrad': initial_accumulator must be > 0"},
      {"adam beta1 = 1",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->beta1 = 1.0f;
       },
       "optimizer 'adam': beta1 must be in [0, 1), got 1"},
      {"adam negative beta1",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->beta1 = -0.5f;
       },
       "beta1 must be in [0, 1)"},
      {"adam beta2 = 1",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->beta2 = 1.0f;
       },
       "beta2 must be in [0, 1)"},
      {"adam beta2 > 1",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->beta2 = 1.5f;
       },
       "beta2 must be in [0, 1)"},
      {"adam zero epsilon",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->epsilon = 0;
       },
       "epsilon must be > 0"},
      {"adam negative epsilon",
       [](OptimizerConfig* c) {
         c->name = "adam";
         c->epsilon = -1e-8f;
       },
       "epsilon must be > 0"},
      {"ftrl negative l1",
       [](OptimizerConfig* c) {
         c->name = "ftrl";
         c->l1 = -0.1f;
       },
       "optimizer 'ftrl': l1 must be >= 0"},
      {"ftrl negative l2",
       [](OptimizerConfig* c) {
         c->name = "ftrl";
         c->l2 = -0.1f;
       },
       "l2 must be >= 0"},
      {"ftrl zero beta",
       [](OptimizerConfig* c) {
         c->name = "ftrl";
         c->ftrl_beta = 0;
       },
       "ftrl_beta must be > 0"},
      {"nan in a field sgd ignores",
       [=](OptimizerConfig* c) {
         c->name = "sgd";
         c->beta1 = nan;
       },
       "beta1 must be finite"},
  };
  for (const BadConfigCase& bad : cases) {
    SCOPED_TRACE(bad.what);
    OptimizerConfig c;
    bad.mutate(&c);
    const Status status = ValidateOptimizerConfig(c);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(bad.message), std::string::npos) << status.message();
    auto made = MakeOptimizer(c);
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.status().message(), status.message());
  }
}

TEST(OptimizerTest, ValidationAcceptsDefaultsAndEdgeValues) {
  for (const char* name : kAllNames) {
    EXPECT_TRUE(ValidateOptimizerConfig(Config(name, 0.05f)).ok()) << name;
  }
  OptimizerConfig c = Config("adam", 0.001f);
  c.beta1 = 0.0f;  // no momentum: allowed
  c.beta2 = 0.0f;
  EXPECT_TRUE(ValidateOptimizerConfig(c).ok());
  c = Config("ftrl", 0.1f);
  c.l1 = 0.0f;
  c.l2 = 0.0f;
  EXPECT_TRUE(ValidateOptimizerConfig(c).ok());
  c = Config("sgd", 0.1f);
  c.beta1 = 1.0f;  // out of range but unused by sgd
  c.clip_norm = 0.0f;
  EXPECT_TRUE(ValidateOptimizerConfig(c).ok());
}

TEST(OptimizerTest, AdamWithZeroBetasStepsBySign) {
  // beta1 = beta2 = 0: m = g, v = g^2 and the corrections are 1 at every t,
  // so each step is lr * g / (|g| + eps); checks log(0) = -inf is handled.
  OptimizerConfig c = Config("adam", 0.5f);
  c.beta1 = 0.0f;
  c.beta2 = 0.0f;
  auto adam = Make(c);
  float w = 0.0f, state[3];
  adam->InitState(state, 1);
  const float g = -4.0f;
  adam->Apply(&w, state, &g, 1);
  adam->Apply(&w, state, &g, 1);
  // Two steps of +0.5 * 4/(4 + 1e-8) each.
  EXPECT_REL_NEAR(w, 2 * 0.5 * 4.0 / (4.0 + 1e-8));
}

}  // namespace
}  // namespace embedps::ps
