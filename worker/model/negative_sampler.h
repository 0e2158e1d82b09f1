// Negative sampling for implicit feedback (NCF): every observed
// (user, item) becomes a positive, and for each positive `negatives` copies
// with a random other item become negatives. Items are drawn uniformly from
// the items this sampler has seen so far, so no item list is needed up front
// (from the second epoch on it is every training item).
#pragma once

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "worker/data/example.h"

namespace embedps::worker {

class NegativeSampler {
 public:
  // Items are field `item_field` of an example.
  NegativeSampler(uint32_t negatives, uint64_t seed, uint16_t item_field = 1);

  // Rewrites *batch in place: labels of the given examples become 1, and
  // negatives (label 0) are appended. A sampled item equal to the positive's
  // is redrawn (a few times), so negatives are almost never the same pair.
  void Expand(std::vector<data::Example>* batch);

  size_t known_items() const { return items_.size(); }

 private:
  uint32_t negatives_;
  uint16_t item_field_;
  std::mt19937_64 rng_;
  std::vector<std::pair<uint64_t, uint64_t>> items_;  // (item id, its key)
  std::unordered_map<uint64_t, size_t> index_;         // item id -> position in items_
};

}  // namespace embedps::worker
