// The dense layers' elementwise loops around the matrix products: float32
// to bfloat16 conversion and the backward pass through a ReLU and a bias.
// They are built twice (the build's baseline and AVX-512) and the loader
// picks the copy the CPU runs (GCC's target_clones), so the binaries still
// run on any x86-64-v3 CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedps::worker {

// float32 -> bfloat16 bits, rounding to nearest even; a NaN stays a NaN.
void FloatToBf16(const float* src, uint16_t* dst, size_t n);

// bfloat16 bits -> float32 (exact).
void Bf16ToFloat(const uint16_t* src, float* dst, size_t n);

// The gradient of a layer's pre-activation from that of its output, for an
// n x m row-major block d (dense rows):
//   - ReLU: d[i][j] = 0 where the layer's output act[i][j] is not > 0
//     (act: float32 when act_f32, else bfloat16 bits, same shape; neither:
//     no ReLU);
//   - bias: bias_grad[j] = sum_i d[i][j] (overwritten);
//   - d16, when given, receives d in bfloat16 for the products that follow.
void ReluBiasBackward(float* d, const float* act_f32, const uint16_t* act_bf16, int64_t n, int64_t m,
                      float* bias_grad, uint16_t* d16);

}  // namespace embedps::worker
