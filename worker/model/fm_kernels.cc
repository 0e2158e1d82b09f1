#include "worker/model/fm_kernels.h"

namespace embedps::worker {

__attribute__((target_clones("avx512f", "default"))) float FmForward(const FmExample& ex, float* sum) {
  const uint32_t k = ex.dim - 1;
  for (uint32_t c = 0; c < k; ++c) sum[c] = 0.0f;
  float linear = 0.0f, squares = 0.0f;
  for (size_t j = 0; j < ex.n; ++j) {
    const float* row = ex.rows + size_t{ex.slots[j]} * ex.dim;
    const float x = ex.values[j];
    linear += row[0] * x;
    const float* v = row + 1;
    float norm = 0.0f;
    for (uint32_t c = 0; c < k; ++c) {
      sum[c] += x * v[c];
      norm += v[c] * v[c];
    }
    squares += x * x * norm;
  }
  float total = 0.0f;
  for (uint32_t c = 0; c < k; ++c) total += sum[c] * sum[c];
  return linear + 0.5f * (total - squares);
}

__attribute__((target_clones("avx512f", "default"))) void FmBackward(const FmExample& ex, const float* sum, float g,
                                                                        float* grads) {
  const uint32_t k = ex.dim - 1;
  for (size_t j = 0; j < ex.n; ++j) {
    const size_t at = size_t{ex.slots[j]} * ex.dim;
    const float x = ex.values[j], gx = g * x;
    grads[at] += gx;
    const float* v = ex.rows + at + 1;
    float* out = grads + at + 1;
    for (uint32_t c = 0; c < k; ++c) out[c] += gx * (sum[c] - x * v[c]);
  }
}

}  // namespace embedps::worker
