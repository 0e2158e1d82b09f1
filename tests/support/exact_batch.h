// Push batches whose effect a test can check exactly: distinct keys strided
// through a small key space, and gradients that are small integers (times a
// power-of-two scale), so float sums of them are exact in any order.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace embedps::testing {

struct ExactBatch {
  std::vector<uint32_t> indices;  // into the key space
  std::vector<uint64_t> keys;     // key_of(index)
  std::vector<int> units;         // gradient / scale, in -4..4
  std::vector<float> grads;
};

// min_keys + rng() % extra_keys distinct indices starting at a random one
// and stepping by 7 (key_space must not be a multiple of 7); the unit
// gradient of index k is (k + salt) % 9 - 4.
ExactBatch MakeExactBatch(std::mt19937_64& rng, uint32_t min_keys, uint32_t extra_keys, uint32_t key_space,
                          uint64_t salt, float scale, uint64_t (*key_of)(uint32_t));

}  // namespace embedps::testing
