// The dense layers' products on oneDNN (worker/model/dense_matmul.h): every
// orientation the MLP uses, with and without accumulation, against a plain
// reference, in float32 (to float32 rounding) and bf16 (to bf16's 8-bit
// mantissa); the bf16 kernel is the one that ran where the CPU has it.
#include "worker/model/dense_matmul.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace embedps::worker {
namespace {

struct Matrix {
  int64_t rows, cols;
  std::vector<float> v;
  float at(int64_t r, int64_t c) const { return v[r * cols + c]; }
};

Matrix Random(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix m{rows, cols, std::vector<float>(rows * cols)};
  for (float& x : m.v) x = normal(rng);
  return m;
}

// op(a) * op(b) + c0 by the definition, in double.
std::vector<double> Reference(const Matrix& a, bool ta, const Matrix& b, bool tb, const std::vector<float>& c0) {
  const int64_t m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols, n = tb ? b.rows : b.cols;
  std::vector<double> c(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = c0.empty() ? 0.0 : c0[i * n + j];
      for (int64_t p = 0; p < k; ++p) s += double(ta ? a.at(p, i) : a.at(i, p)) * (tb ? b.at(j, p) : b.at(p, j));
      c[i * n + j] = s;
    }
  }
  return c;
}

MatrixRef Ref(const Matrix& m, bool transposed) {
  return transposed ? MatrixRef{m.v.data(), m.cols, m.rows, m.cols, true}
                    : MatrixRef{m.v.data(), m.rows, m.cols, m.cols, false};
}

void CheckProducts(DensePrecision precision, double tolerance) {
  DenseMatmul mm(precision);
  const int64_t m = 37, k = 53, n = 29;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const bool accumulate : {false, true}) {
        const Matrix a = ta ? Random(k, m, 1) : Random(m, k, 1);
        const Matrix b = tb ? Random(n, k, 2) : Random(k, n, 2);
        std::vector<float> c = Random(m, n, 3).v;
        const std::vector<double> want = Reference(a, ta, b, tb, accumulate ? c : std::vector<float>());
        // Twice: the second call reuses the cached primitive.
        for (int repeat = 0; repeat < 2; ++repeat) {
          std::vector<float> got = accumulate ? c : std::vector<float>(m * n, 7.0f);
          mm.Multiply(Ref(a, ta), Ref(b, tb), got.data(), n, accumulate);
          double worst = 0;
          for (int64_t i = 0; i < m * n; ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
          // Sums of k products of unit normals are about sqrt(k) in size.
          EXPECT_LE(worst, tolerance * std::sqrt(double(k)))
              << DensePrecisionName(precision) << " ta=" << ta << " tb=" << tb << " accumulate=" << accumulate;
        }
      }
    }
  }
}

TEST(DenseMatmulTest, Float32MatchesTheReference) { CheckProducts(DensePrecision::kFp32, 1e-5); }

TEST(DenseMatmulTest, Bfloat16MatchesTheReferenceToItsPrecision) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 matrix instructions (AVX-512 BF16 or AMX)";
  CheckProducts(DensePrecision::kBf16, 2e-2);
  // Not float32 in disguise: the error is bf16's, and the kernel says so.
  DenseMatmul mm(DensePrecision::kBf16);
  const Matrix a = Random(16, 64, 4), b = Random(64, 8, 5);
  std::vector<float> c(16 * 8);
  mm.Multiply(Ref(a, false), Ref(b, false), c.data(), 8, false);
  const std::vector<double> want = Reference(a, false, b, false, {});
  double worst = 0;
  for (size_t i = 0; i < c.size(); ++i) worst = std::max(worst, std::fabs(c[i] - want[i]));
  EXPECT_GT(worst, 1e-4);
  EXPECT_NE(mm.last_kernel().find("bf16"), std::string::npos) << mm.last_kernel();
}

TEST(DenseMatmulTest, PrecisionFlag) {
  EXPECT_EQ(ResolveDensePrecision("fp32").value(), DensePrecision::kFp32);
  EXPECT_EQ(ResolveDensePrecision("auto").value(), CpuHasBf16() ? DensePrecision::kBf16 : DensePrecision::kFp32);
  auto bf16 = ResolveDensePrecision("bf16");
  if (CpuHasBf16()) {
    EXPECT_EQ(bf16.value(), DensePrecision::kBf16);
  } else {
    EXPECT_EQ(bf16.status().code(), StatusCode::kInvalidArgument);
  }
  auto bad = ResolveDensePrecision("fp16");
  EXPECT_EQ(bad.status().message(), "--dense_precision must be auto, bf16 or fp32, not 'fp16'");
}

}  // namespace
}  // namespace embedps::worker
