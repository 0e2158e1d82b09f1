#include "tests/support/exact_batch.h"

namespace embedps::testing {

ExactBatch MakeExactBatch(std::mt19937_64& rng, uint32_t min_keys, uint32_t extra_keys, uint32_t key_space,
                          uint64_t salt, float scale, uint64_t (*key_of)(uint32_t)) {
  const uint32_t n = min_keys + static_cast<uint32_t>(rng() % extra_keys);
  const uint32_t first = static_cast<uint32_t>(rng() % key_space);
  ExactBatch b;
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t k = static_cast<uint32_t>((first + uint64_t{j} * 7) % key_space);
    b.indices.push_back(k);
    b.keys.push_back(key_of(k));
    b.units.push_back(static_cast<int>((k + salt) % 9) - 4);
    b.grads.push_back(scale * static_cast<float>(b.units.back()));
  }
  return b;
}

}  // namespace embedps::testing
