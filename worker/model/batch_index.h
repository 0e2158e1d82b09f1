// Maps the features of a batch to unique rows of one table: each key is
// pulled once, and the gradients of repeated keys add up in its row.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/data/example.h"
#include "worker/model/key_dedup.h"

namespace embedps::worker {

class BatchIndex {
 public:
  // Indexes every feature of every example, plus `extra_keys` (keys the
  // model reads for every batch, such as a global bias), which get the
  // first slots in order.
  void Build(const std::vector<data::Example>& batch, const std::vector<uint64_t>& extra_keys = {});

  const std::vector<uint64_t>& keys() const { return dedup_.unique_keys(); }
  // Slots of example i's features, parallel to batch[i].keys.
  const uint32_t* slots(size_t i) const { return &slots_[offsets_[i]]; }

 private:
  KeyDedup dedup_;
  std::vector<uint64_t> keys_;  // every feature of the batch, in order
  std::vector<uint32_t> slots_;
  std::vector<size_t> offsets_;
};

}  // namespace embedps::worker
