// The dense layers' matrix products on oneDNN: C = A * B (+ C) with float32
// inputs and outputs, computed in float32 or in bfloat16 with float32
// accumulation. oneDNN picks the kernel for the CPU at run time (AMX, then
// AVX-512 BF16, then AVX-512 or AVX2 for float32), so the binaries need no
// newer CPU than the build's baseline. Master weights and the optimizer
// stay float32 on the servers: only the worker's products round to bf16.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/status.h"

namespace embedps::worker {

enum class DensePrecision { kFp32, kBf16 };

const char* DensePrecisionName(DensePrecision p);  // "fp32", "bf16"

// Whether this CPU runs bf16 matrix products natively (AVX-512 BF16 or
// AMX), as oneDNN sees it.
bool CpuHasBf16();

// --dense_precision: "auto" (bf16 where the CPU has it, else fp32), "bf16"
// (InvalidArgument where it has not: emulating it would be slower than
// fp32), "fp32".
[[nodiscard]] StatusOr<DensePrecision> ResolveDensePrecision(std::string_view flag);

// How a matrix's elements are stored.
enum class DenseType : uint8_t { kF32, kBf16 };

// A row-major matrix view: `rows` x `cols`, row r at data + r * stride
// elements, or its transpose when `transposed` (then rows/cols are the
// transpose's). bfloat16 data is uint16_t bits.
struct MatrixRef {
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
  int64_t stride = 0;  // elements between rows of the stored matrix
  bool transposed = false;
  DenseType type = DenseType::kF32;
};

// Where a product goes: row-major, `stride` elements between rows.
struct DenseOutput {
  void* data = nullptr;
  int64_t stride = 0;
  DenseType type = DenseType::kF32;
};

// What a product does after the multiply, fused into it: C = relu(A B +
// bias), or C += A B when `accumulate` (then no bias or relu).
struct DenseEpilogue {
  const float* bias = nullptr;  // one float32 per column of C
  bool relu = false;
  bool accumulate = false;
};

// The precision new dense layers use: set once from --dense_precision at
// start; unset, "auto" resolved on first use.
void SetDensePrecision(DensePrecision p);
DensePrecision CurrentDensePrecision();
// oneDNN's threads per product (OpenMP); a worker keeps it at 1 so its
// processes do not fight over the cores.
void SetDenseThreads(int threads);

// Runs the products of one thread; primitives are built once per shape and
// kept. Not thread-safe.
class DenseMatmul {
 public:
  explicit DenseMatmul(DensePrecision precision);
  ~DenseMatmul();
  DenseMatmul(const DenseMatmul&) = delete;
  DenseMatmul& operator=(const DenseMatmul&) = delete;

  DensePrecision precision() const { return precision_; }
  // C (a.rows x b.cols) = epilogue(a * b). In bf16, float32 inputs are
  // rounded to bfloat16 first and bfloat16 ones used as they are; in fp32
  // every input must be float32. The output may be bfloat16 in bf16 only.
  void Multiply(const MatrixRef& a, const MatrixRef& b, const DenseOutput& c, const DenseEpilogue& epilogue);
  // Float32 C (leading dimension c_stride) = a * b, or += when `accumulate`.
  void Multiply(const MatrixRef& a, const MatrixRef& b, float* c, int64_t c_stride, bool accumulate);
  // oneDNN's name for the kernel of the last product ("brg:avx512_core_bf16").
  const std::string& last_kernel() const { return last_kernel_; }

 private:
  struct Impl;
  DensePrecision precision_;
  std::unique_ptr<Impl> impl_;
  std::string last_kernel_;
};

}  // namespace embedps::worker
