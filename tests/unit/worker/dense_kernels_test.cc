// The dense layers' elementwise loops (worker/model/dense_kernels.h):
// bfloat16 rounding to nearest even with NaN and infinity kept, and the
// fused backward pass through ReLU and bias, against plain references, at
// lengths that leave vector remainders.
#include "worker/model/dense_kernels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace embedps::worker {
namespace {

float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

float Bf16Value(uint16_t b) { return FromBits(static_cast<uint32_t>(b) << 16); }

TEST(DenseKernelsTest, RoundsToNearestEven) {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even
  // mantissa (1); 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 and
  // goes up. Just above a half rounds up, just below rounds down.
  const std::vector<std::pair<float, float>> cases = {
      {1.0f + std::ldexp(1.0f, -8), 1.0f},
      {1.0f + 3 * std::ldexp(1.0f, -8), 1.0f + std::ldexp(1.0f, -6)},
      {FromBits(0x3f808001u), 1.0f + std::ldexp(1.0f, -7)},
      {FromBits(0x3f807fffu), 1.0f},
      {-2.5f, -2.5f},
      {0.0f, 0.0f},
      {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()},
      {-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()},
      // The largest float rounds past bf16's largest finite value.
      {std::numeric_limits<float>::max(), std::numeric_limits<float>::infinity()},
  };
  std::vector<float> in;
  for (const auto& c : cases) in.push_back(c.first);
  std::vector<uint16_t> out(in.size());
  FloatToBf16(in.data(), out.data(), in.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(Bf16Value(out[i]), cases[i].second) << "case " << i << ": " << cases[i].first;
  }
}

TEST(DenseKernelsTest, NanStaysNan) {
  // A NaN whose payload is all in the low bits would round to infinity if
  // treated as a number.
  std::vector<float> in = {FromBits(0x7f800001u), FromBits(0xff80ffffu), std::numeric_limits<float>::quiet_NaN()};
  std::vector<uint16_t> out(in.size());
  FloatToBf16(in.data(), out.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE(std::isnan(Bf16Value(out[i]))) << i;
  EXPECT_TRUE(std::signbit(Bf16Value(out[1])));
}

TEST(DenseKernelsTest, LongArraysMatchTheScalarDefinition) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 10.0f);
  for (size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000}, size_t{4099}}) {
    std::vector<float> in(n), back(n);
    for (float& x : in) x = normal(rng);
    std::vector<uint16_t> out(n);
    FloatToBf16(in.data(), out.data(), n);
    Bf16ToFloat(out.data(), back.data(), n);
    for (size_t i = 0; i < n; ++i) {
      // Within half a unit in the last of bf16's 8 mantissa bits, and
      // exactly the truncation or the next value up.
      ASSERT_LE(std::fabs(back[i] - in[i]), std::fabs(in[i]) * std::ldexp(1.0f, -8)) << n << " " << i;
      uint32_t u;
      std::memcpy(&u, &in[i], sizeof(u));
      const uint16_t down = static_cast<uint16_t>(u >> 16);
      ASSERT_TRUE(out[i] == down || out[i] == static_cast<uint16_t>(down + 1)) << n << " " << i;
      ASSERT_EQ(back[i], Bf16Value(out[i]));
    }
  }
}

TEST(DenseKernelsTest, ReluBiasBackwardMasksSumsAndRounds) {
  const int64_t n = 5, m = 19;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> d0(n * m), act(n * m);
  for (float& x : d0) x = normal(rng);
  for (float& x : act) x = normal(rng);
  act[3] = 0.0f;  // exactly zero: no gradient (ReLU's output was clipped)
  std::vector<uint16_t> act16(n * m);
  FloatToBf16(act.data(), act16.data(), act.size());

  std::vector<float> want(n * m), want_bias(m, 0.0f);
  for (int64_t i = 0; i < n * m; ++i) want[i] = act[i] > 0 ? d0[i] : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) want_bias[j] += want[i * m + j];
  }

  for (int variant = 0; variant < 3; ++variant) {  // float32 act, bf16 act, no ReLU
    std::vector<float> d = d0, bias(m, 123.0f);  // the bias gradient is overwritten
    std::vector<uint16_t> d16(n * m);
    ReluBiasBackward(d.data(), variant == 0 ? act.data() : nullptr, variant == 1 ? act16.data() : nullptr, n, m,
                     bias.data(), d16.data());
    for (int64_t i = 0; i < n * m; ++i) {
      const float expect = variant == 2 ? d0[i] : want[i];
      ASSERT_EQ(d[i], expect) << variant << " " << i;
      uint16_t b;
      FloatToBf16(&expect, &b, 1);
      ASSERT_EQ(d16[i], b) << variant << " " << i;
    }
    for (int64_t j = 0; j < m; ++j) {
      float expect = 0;
      for (int64_t i = 0; i < n; ++i) expect += variant == 2 ? d0[i * m + j] : want[i * m + j];
      EXPECT_NEAR(bias[j], expect, 1e-5) << variant << " " << j;
    }
  }
  EXPECT_EQ(want[3], 0.0f);
}

}  // namespace
}  // namespace embedps::worker
