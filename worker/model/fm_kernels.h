// The factorization machine's per-example loops (FmModel, and DeepFM through
// it), written as plain loops over the factors and built twice, for the
// build's baseline and for AVX-512 (GCC's target_clones picks at load
// time): with 16 factors a row's vector is one AVX-512 register.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedps::worker {

// One example's features: n rows [w, v_0..v_{k-1}] of `dim` = k + 1 floats
// at rows + slots[j] * dim, with values x_j.
struct FmExample {
  const float* rows;
  uint32_t dim;
  const uint32_t* slots;
  const float* values;
  size_t n;
};

// sum = sum_j x_j v_j (k floats, overwritten); returns the FM score without
// the global bias: sum_j w_j x_j + (|sum|^2 - sum_j x_j^2 |v_j|^2) / 2.
float FmForward(const FmExample& ex, float* sum);

// Adds g * d(score)/d(row) into grads (laid out as rows): g x_j to w_j and
// g x_j (sum - x_j v_j) to v_j.
void FmBackward(const FmExample& ex, const float* sum, float g, float* grads);

}  // namespace embedps::worker
