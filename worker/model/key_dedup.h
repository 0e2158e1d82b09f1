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
  uint32_t Insert(uint64_t key) { return InsertHashed(key, Home(key)); }
  // Insert() of keys[0..n), slots to slots[0..n); prefetches the table a
  // few keys ahead, which hides most of the cache misses of a big batch.
  void InsertAll(const uint64_t* keys, size_t n, uint32_t* slots);
  const std::vector<uint64_t>& unique_keys() const { return unique_; }

 private:
  // The key sits next to its slot so a probe costs one cache line, not a
  // second, dependent load from unique_. An entry belongs to the current
  // batch only if it carries the batch's generation, so Reset() need not
  // clear the table.
  struct Entry {
    uint64_t key;
    uint32_t slot;  // index into unique_
    uint32_t generation;
  };
  uint64_t Home(uint64_t key) const;
  uint32_t InsertHashed(uint64_t key, uint64_t home);

  std::vector<Entry> table_;
  std::vector<uint64_t> unique_;
  uint64_t mask_ = 0;
  uint32_t generation_ = 0;
};

}  // namespace embedps::worker
