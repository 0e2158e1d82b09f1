#include "worker/model/key_dedup.h"

#include <algorithm>

#include "common/hash.h"

namespace embedps::worker {

void KeyDedup::Reset(size_t expected_keys) {
  // Keep the load factor at or below one half.
  size_t capacity = 16;
  while (capacity < expected_keys * 2) capacity <<= 1;
  if (table_.size() != capacity) table_.assign(capacity, kEmpty);
  else std::fill(table_.begin(), table_.end(), kEmpty);
  mask_ = capacity - 1;
  unique_.clear();
}

uint32_t KeyDedup::Insert(uint64_t key) {
  for (uint64_t i = Mix64(key) & mask_;; i = (i + 1) & mask_) {
    const uint32_t slot = table_[i];
    if (slot == kEmpty) {
      table_[i] = static_cast<uint32_t>(unique_.size());
      unique_.push_back(key);
      return table_[i];
    }
    if (unique_[slot] == key) return slot;
  }
}

}  // namespace embedps::worker
