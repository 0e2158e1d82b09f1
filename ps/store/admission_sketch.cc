#include "ps/store/admission_sketch.h"

#include <algorithm>

#include "common/hash.h"

namespace embedps::ps {

AdmissionSketch::AdmissionSketch(uint32_t width) {
  uint64_t w = 64;
  while (w < width) w <<= 1;
  counters_.assign(w * kRows, 0);
  mask_ = w - 1;
}

uint32_t AdmissionSketch::Increment(uint64_t key) {
  // Conservative update: raise only the counters at the current minimum,
  // which keeps collision noise down.
  uint8_t* cells[kRows];
  uint32_t low = 255;
  uint64_t h = Mix64(key ^ 0xad317751ULL);
  for (int r = 0; r < kRows; ++r) {
    cells[r] = &counters_[r * (mask_ + 1) + (h & mask_)];
    low = std::min<uint32_t>(low, *cells[r]);
    h = Mix64(h + r + 1);
  }
  if (low == 255) return 255;
  for (uint8_t* c : cells) {
    if (*c == low) *c = static_cast<uint8_t>(low + 1);
  }
  return low + 1;
}

}  // namespace embedps::ps
