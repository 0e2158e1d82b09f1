#include "datagen/zipf.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace embedps::datagen {
namespace {

// Normalizing constant sum_{k=1..n} k^-s, summed smallest terms first.
double GeneralizedHarmonic(uint64_t n, double s) {
  double sum = 0;
  for (uint64_t k = n; k >= 1; --k) sum += std::pow(static_cast<double>(k), -s);
  return sum;
}

struct Case {
  uint64_t n;
  double s;
};

class ZipfFrequencyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ZipfFrequencyTest, FirstRanksMatchTheory) {
  const Case c = GetParam();
  ZipfSampler zipf(c.n, c.s);
  std::mt19937_64 rng(12345);
  constexpr int kSamples = 1'000'000;
  constexpr int kRanks = 6;
  std::vector<double> counts(kRanks + 1, 0);
  double upper_half = 0;  // samples above n/2: checks the far tail too
  for (int i = 0; i < kSamples; ++i) {
    const uint64_t k = zipf(rng);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, c.n);
    if (k <= kRanks) counts[k] += 1;
    if (k > c.n / 2) upper_half += 1;
  }
  const double norm = GeneralizedHarmonic(c.n, c.s);
  for (uint64_t k = 1; k <= std::min<uint64_t>(kRanks, c.n); ++k) {
    const double p = std::pow(static_cast<double>(k), -c.s) / norm;
    const double sigma = std::sqrt(p * (1 - p) / kSamples);
    EXPECT_NEAR(counts[k] / kSamples, p, 5 * sigma + 1e-9) << "rank " << k;
  }
  if (c.n <= 100000) {
    double p_upper = 0;
    for (uint64_t k = c.n / 2 + 1; k <= c.n; ++k) p_upper += std::pow(static_cast<double>(k), -c.s);
    p_upper /= norm;
    EXPECT_NEAR(upper_half / kSamples, p_upper, 5 * std::sqrt(p_upper / kSamples) + 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ZipfFrequencyTest,
                         ::testing::Values(Case{1000, 1.1}, Case{5'000'000, 1.05},
                                           Case{10, 0.5}, Case{100, 1.0}, Case{50000, 2.5},
                                           Case{3, 1.2}, Case{2000, 0.8}));

TEST(ZipfTest, SingleRank) {
  ZipfSampler zipf(1, 1.1);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(zipf(rng), 1u);
}

TEST(ZipfTest, DeterministicForASeed) {
  ZipfSampler zipf(1'000'000, 1.1);
  std::mt19937_64 a(99), b(99);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(zipf(a), zipf(b));
}

TEST(ZipfTest, HugeVocabularyIsFast) {
  // O(1) per sample: 2M draws over 1e12 ranks must not take seconds.
  ZipfSampler zipf(1'000'000'000'000ULL, 1.05);
  std::mt19937_64 rng(5);
  uint64_t max_seen = 0;
  for (int i = 0; i < 2'000'000; ++i) max_seen = std::max(max_seen, zipf(rng));
  EXPECT_GT(max_seen, 1'000'000u);  // the tail is actually reached
}

}  // namespace
}  // namespace embedps::datagen
