// Hash functions shared by the feature hasher, the shard map and the
// deterministic initializers. They must never change: checkpoints, exported
// models and shard assignments depend on their exact output.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace embedps {

// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// 64-bit FNV-1a over bytes, then mixed; good enough for short feature values.
inline uint64_t HashBytes(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ Mix64(seed);
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

// Combines two 64-bit values into one hash (order matters).
inline uint64_t HashCombine(uint64_t a, uint64_t b) {
  return Mix64(a ^ (Mix64(b) + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

// A uniform double in [0, 1) derived from a hash.
inline double HashToUnit(uint64_t h) {
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace embedps
