// Fast validation of float arrays on the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace embedps {

// True when no element is NaN or infinite. Tests the exponent bits without
// branching so the loop vectorizes; gradients are checked with it on every
// push.
inline bool AllFinite(const float* values, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof(bits));
    bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  return bad == 0;
}

}  // namespace embedps
