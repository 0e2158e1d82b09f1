#include "ps/store/row_index.h"

#include <algorithm>

namespace embedps::ps {

namespace {
constexpr size_t kInitialCapacity = 1024;
}  // namespace

RowIndex::RowIndex()
    : keys_(new uint64_t[kInitialCapacity]),
      rows_(new uint32_t[kInitialCapacity]),
      mask_(kInitialCapacity - 1) {
  std::fill(rows_.get(), rows_.get() + kInitialCapacity, kNoRow);
}

uint32_t RowIndex::Find(uint64_t key) const {
  for (size_t i = Slot(key);; i = (i + 1) & mask_) {
    const uint32_t row = rows_[i];
    if (row == kNoRow) return kNoRow;
    if (keys_[i] == key) return row;
  }
}

void RowIndex::Insert(uint64_t key, uint32_t row) {
  if ((size_ + 1) * 4 > capacity() * 3) Grow();
  size_t i = Slot(key);
  while (rows_[i] != kNoRow) i = (i + 1) & mask_;
  keys_[i] = key;
  rows_[i] = row;
  ++size_;
}

uint32_t RowIndex::Erase(uint64_t key) {
  size_t i = Slot(key);
  while (true) {
    if (rows_[i] == kNoRow) return kNoRow;
    if (keys_[i] == key) break;
    i = (i + 1) & mask_;
  }
  const uint32_t erased = rows_[i];
  // Backward-shift: pull later members of the probe run into the hole so
  // lookups never stop early at it.
  size_t hole = i;
  for (size_t j = (i + 1) & mask_; rows_[j] != kNoRow; j = (j + 1) & mask_) {
    const size_t home = Slot(keys_[j]);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_after_hole) {
      keys_[hole] = keys_[j];
      rows_[hole] = rows_[j];
      hole = j;
    }
  }
  rows_[hole] = kNoRow;
  --size_;
  return erased;
}

void RowIndex::Grow() {
  const size_t old_capacity = capacity();
  std::unique_ptr<uint64_t[]> old_keys = std::move(keys_);
  std::unique_ptr<uint32_t[]> old_rows = std::move(rows_);
  const size_t capacity = old_capacity * 2;
  keys_.reset(new uint64_t[capacity]);
  rows_.reset(new uint32_t[capacity]);
  std::fill(rows_.get(), rows_.get() + capacity, kNoRow);
  mask_ = capacity - 1;
  for (size_t j = 0; j < old_capacity; ++j) {
    if (old_rows[j] == kNoRow) continue;
    size_t i = Slot(old_keys[j]);
    while (rows_[i] != kNoRow) i = (i + 1) & mask_;
    keys_[i] = old_keys[j];
    rows_[i] = old_rows[j];
  }
}

}  // namespace embedps::ps
