// An open-addressing hash index from 64-bit keys to 32-bit row ids, with
// linear probing and backward-shift deletion (no tombstones). Keys may take
// any 64-bit value: emptiness is marked by the row id, not the key.
// The slot hash is salted by the capacity: an index walked in slot order
// (a checkpoint, or the old array while growing) hands its keys to an
// index of another capacity in random order. With one hash for all
// capacities, refilling a smaller index that grows from keys in slot order
// piled them into one ever-longer probe run (a restore 40 times slower per
// stripe than with the index sized first).
// A slot packs key and row into 12 bytes, so a probe touches one cache line
// (rarely two) and the table grows at 3/4 load: a populated index costs
// 16-32 bytes per key.
//
// Not thread-safe; the embedding table guards each index with its stripe's
// lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/hash.h"
#include "ps/store/huge_pages.h"

namespace embedps::ps {

class RowIndex {
 public:
  static constexpr uint32_t kNoRow = 0xffffffffu;

  RowIndex();

  // The row of `key`, or kNoRow.
  uint32_t Find(uint64_t key) const;
  // Inserts key -> row; the key must not be present.
  void Insert(uint64_t key, uint32_t row);
  // Removes `key`; returns its row or kNoRow when absent.
  uint32_t Erase(uint64_t key);

  // Makes room for `rows` keys in all without growing again.
  void Reserve(size_t rows);

  size_t size() const { return size_; }
  size_t capacity() const { return mask_ + 1; }
  size_t MemoryBytes() const { return capacity() * sizeof(Entry); }
  // Mean distance of a key from its home slot, in slots (0 when empty): how
  // far lookups probe.
  double MeanProbeLength() const;

  // Calls fn(key, row) for every entry. The index must not change meanwhile.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].row != kNoRow) fn(slots_[i].key, slots_[i].row);
    }
  }

  // Hints the CPU to fetch the first probe slot of `key`.
  void Prefetch(uint64_t key) const {
    __builtin_prefetch(&slots_[Slot(key)]);
  }

 private:
  struct __attribute__((packed)) Entry {
    uint64_t key;
    uint32_t row;
  };

  size_t Slot(uint64_t key) const { return Mix64(key ^ salt_) & mask_; }
  void Grow();
  // Moves every key into a new array of `capacity` slots.
  void Rehash(size_t capacity);

  void Allocate(size_t capacity);

  uint64_t salt_ = 0;  // a function of the capacity
  HugeBuffer buffer_;  // the slots
  Entry* slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace embedps::ps
