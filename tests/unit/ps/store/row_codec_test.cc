// The row codec (ps/store/row_codec.h): float32 round trips exactly, fp16
// within 2^-11 relative, int8 within (max - min) / 510 absolute and exactly
// for constant rows; non-finite values and fp16 overflow are refused.
#include "ps/store/row_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace embedps::ps {
namespace {

std::vector<float> Decode(RowEncoding e, const std::vector<float>& row) {
  std::vector<uint8_t> bytes(EncodedRowBytes(e, static_cast<uint32_t>(row.size())));
  const Status st = EncodeRow(e, row.data(), static_cast<uint32_t>(row.size()), bytes.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<float> back(row.size());
  DecodeRow(e, bytes.data(), static_cast<uint32_t>(row.size()), back.data());
  return back;
}

// Rows like a table's: weights around zero, then one-signed optimizer
// state (Adagrad's accumulators) of another scale.
std::vector<float> TableRow(std::mt19937& rng, uint32_t dim) {
  std::normal_distribution<float> weight(0.0f, 0.05f);
  std::exponential_distribution<float> accumulator(2.0f);
  std::vector<float> row;
  for (uint32_t i = 0; i < dim; ++i) row.push_back(weight(rng));
  for (uint32_t i = 0; i < dim; ++i) row.push_back(0.1f + accumulator(rng));
  return row;
}

TEST(RowCodecTest, SizesAndNames) {
  EXPECT_EQ(EncodedRowBytes(RowEncoding::kFloat32, 16), 64u);
  EXPECT_EQ(EncodedRowBytes(RowEncoding::kFloat16, 16), 32u);
  EXPECT_EQ(EncodedRowBytes(RowEncoding::kInt8, 16), 24u);
  for (RowEncoding e : {RowEncoding::kFloat32, RowEncoding::kFloat16, RowEncoding::kInt8}) {
    EXPECT_EQ(ParseRowEncoding(RowEncodingName(e)).value(), e);
  }
  EXPECT_EQ(ParseRowEncoding("int4").status().code(), StatusCode::kInvalidArgument);
}

TEST(RowCodecTest, Float32IsExact) {
  std::mt19937 rng(1);
  for (uint32_t dim : {1u, 7u, 16u, 64u}) {
    const std::vector<float> row = TableRow(rng, dim);
    EXPECT_EQ(Decode(RowEncoding::kFloat32, row), row);
  }
  const std::vector<float> extremes = {std::numeric_limits<float>::max(), -std::numeric_limits<float>::denorm_min(),
                                       0.0f, -0.0f};
  const std::vector<float> back = Decode(RowEncoding::kFloat32, extremes);
  for (size_t i = 0; i < extremes.size(); ++i) EXPECT_EQ(std::signbit(back[i]), std::signbit(extremes[i]));
  EXPECT_EQ(back, extremes);
}

TEST(RowCodecTest, Float16IsWithinItsPrecision) {
  std::mt19937 rng(2);
  for (uint32_t dim : {1u, 9u, 32u}) {
    const std::vector<float> row = TableRow(rng, dim);
    const std::vector<float> back = Decode(RowEncoding::kFloat16, row);
    for (size_t i = 0; i < row.size(); ++i) {
      // Normal fp16 values: half an ulp of an 11-bit significand; the
      // smallest weights may be fp16 subnormals (absolute 2^-25).
      EXPECT_LE(std::fabs(back[i] - row[i]), std::max(std::fabs(row[i]) * std::ldexp(1.0f, -11), std::ldexp(1.0f, -25)))
          << dim << " " << i << " " << row[i];
    }
  }
}

TEST(RowCodecTest, Int8IsWithinHalfAStepOfItsRange) {
  std::mt19937 rng(3);
  for (uint32_t dim : {1u, 5u, 16u, 128u}) {
    for (int trial = 0; trial < 50; ++trial) {
      const std::vector<float> row = TableRow(rng, dim);
      const std::vector<float> back = Decode(RowEncoding::kInt8, row);
      const float lo = *std::min_element(row.begin(), row.end()), hi = *std::max_element(row.begin(), row.end());
      const double bound = (double(hi) - lo) / 510.0 * (1 + 1e-5) + 1e-7;
      for (size_t i = 0; i < row.size(); ++i) {
        ASSERT_LE(std::fabs(double(back[i]) - row[i]), bound) << dim << " " << i;
      }
      // The extremes themselves come back (to float rounding).
      EXPECT_NEAR(*std::min_element(back.begin(), back.end()), lo, 1e-6);
      EXPECT_NEAR(*std::max_element(back.begin(), back.end()), hi, 1e-5 * (hi - lo) + 1e-6);
    }
  }
  // A constant row (a fresh zero row, or all-equal accumulators) is exact.
  const std::vector<float> constant(16, 0.1f);
  EXPECT_EQ(Decode(RowEncoding::kInt8, constant), constant);
  // A range wider than float's largest value does not overflow.
  const std::vector<float> wide = {-3e38f, 3e38f, 0.0f};
  const std::vector<float> back = Decode(RowEncoding::kInt8, wide);
  for (size_t i = 0; i < wide.size(); ++i) {
    EXPECT_TRUE(std::isfinite(back[i]));
    EXPECT_LE(std::fabs(double(back[i]) - wide[i]), 6e38 / 510 * 1.0001);
  }
}

TEST(RowCodecTest, RefusesWhatCannotComeBack) {
  std::vector<uint8_t> out(64);
  for (RowEncoding e : {RowEncoding::kFloat32, RowEncoding::kFloat16, RowEncoding::kInt8}) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      const std::vector<float> row = {1.0f, bad, 2.0f};
      const Status st = EncodeRow(e, row.data(), 3, out.data());
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << RowEncodingName(e);
      EXPECT_NE(st.message().find("value 1"), std::string::npos) << st.message();
    }
  }
  const std::vector<float> big = {1.0f, 70000.0f};
  const Status st = EncodeRow(RowEncoding::kFloat16, big.data(), 2, out.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("fp16"), std::string::npos);
  // The same row is fine in int8 and float32.
  EXPECT_TRUE(EncodeRow(RowEncoding::kInt8, big.data(), 2, out.data()).ok());
  EXPECT_TRUE(EncodeRow(RowEncoding::kFloat32, big.data(), 2, out.data()).ok());
}

}  // namespace
}  // namespace embedps::ps
