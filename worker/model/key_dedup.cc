#include "worker/model/key_dedup.h"

#include <algorithm>

#include "common/hash.h"

namespace embedps::worker {

void KeyDedup::Reset(size_t expected_keys) {
  // Keep the load factor at or below one half.
  // The table never shrinks: a short last batch must not cost two
  // reallocations.
  size_t capacity = std::max<size_t>(16, table_.size());
  while (capacity < expected_keys * 2) capacity <<= 1;
  if (table_.size() != capacity || ++generation_ == 0) {
    // Generation 0 marks never-used entries.
    table_.assign(capacity, Entry{0, 0, 0});
    generation_ = 1;
  }
  mask_ = capacity - 1;
  unique_.clear();
}

uint64_t KeyDedup::Home(uint64_t key) const { return Mix64(key) & mask_; }

uint32_t KeyDedup::InsertHashed(uint64_t key, uint64_t home) {
  for (uint64_t i = home;; i = (i + 1) & mask_) {
    Entry& e = table_[i];
    if (e.generation != generation_) {
      e.key = key;
      e.generation = generation_;
      e.slot = static_cast<uint32_t>(unique_.size());
      unique_.push_back(key);
      return e.slot;
    }
    if (e.key == key) return e.slot;
  }
}

void KeyDedup::InsertAll(const uint64_t* keys, size_t n, uint32_t* slots) {
  constexpr size_t kAhead = 8;
  uint64_t homes[kAhead];
  for (size_t i = 0; i < std::min(n, kAhead); ++i) {
    homes[i] = Home(keys[i]);
    __builtin_prefetch(&table_[homes[i]]);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t home = homes[i % kAhead];
    if (i + kAhead < n) {
      const uint64_t next = Home(keys[i + kAhead]);
      __builtin_prefetch(&table_[next]);
      homes[i % kAhead] = next;
    }
    slots[i] = InsertHashed(keys[i], home);
  }
}

}  // namespace embedps::worker
