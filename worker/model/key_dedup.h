// Maps the keys of a batch to a dense list of unique keys, so that each row
// is pulled once and the gradients of repeated keys are summed before they
// are pushed. Uses an open-addressing table that is reused across batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedps::worker {

class KeyDedup {
 public:
  // Clears the state for a batch of about `expected_keys` (with repeats).
  void Reset(size_t expected_keys);
  // Returns the slot of `key` in unique_keys(), adding it if new.
  uint32_t Insert(uint64_t key);
  const std::vector<uint64_t>& unique_keys() const { return unique_; }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  std::vector<uint32_t> table_;  // slot index into unique_, or kEmpty
  std::vector<uint64_t> unique_;
  uint64_t mask_ = 0;
};

}  // namespace embedps::worker
