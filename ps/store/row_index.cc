#include "ps/store/row_index.h"

#include <algorithm>

namespace embedps::ps {

namespace {
constexpr size_t kInitialCapacity = 1024;
}  // namespace

RowIndex::RowIndex() { Allocate(kInitialCapacity); }

void RowIndex::Allocate(size_t capacity) {
  buffer_ = AllocateHuge(capacity * sizeof(Entry));
  slots_ = reinterpret_cast<Entry*>(buffer_.get());
  for (size_t i = 0; i < capacity; ++i) slots_[i].row = kNoRow;
  mask_ = capacity - 1;
  // Any odd multiple works; what matters is that capacities differ in salt.
  salt_ = Mix64(capacity) | 1;
}

uint32_t RowIndex::Find(uint64_t key) const {
  for (size_t i = Slot(key);; i = (i + 1) & mask_) {
    const Entry& e = slots_[i];
    if (e.row == kNoRow) return kNoRow;
    if (e.key == key) return e.row;
  }
}

void RowIndex::Insert(uint64_t key, uint32_t row) {
  if ((size_ + 1) * 4 > capacity() * 3) Grow();
  size_t i = Slot(key);
  while (slots_[i].row != kNoRow) i = (i + 1) & mask_;
  slots_[i].key = key;
  slots_[i].row = row;
  ++size_;
}

uint32_t RowIndex::Erase(uint64_t key) {
  size_t i = Slot(key);
  while (true) {
    if (slots_[i].row == kNoRow) return kNoRow;
    if (slots_[i].key == key) break;
    i = (i + 1) & mask_;
  }
  const uint32_t erased = slots_[i].row;
  // Backward-shift: pull later members of the probe run into the hole so
  // lookups never stop early at it.
  size_t hole = i;
  for (size_t j = (i + 1) & mask_; slots_[j].row != kNoRow; j = (j + 1) & mask_) {
    const size_t home = Slot(slots_[j].key);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_after_hole) {
      slots_[hole].key = slots_[j].key;
      slots_[hole].row = slots_[j].row;
      hole = j;
    }
  }
  slots_[hole].row = kNoRow;
  --size_;
  return erased;
}

void RowIndex::Grow() { Rehash(capacity() * 2); }

void RowIndex::Reserve(size_t rows) {
  size_t want = capacity();
  while (rows * 4 > want * 3) want *= 2;
  if (want > capacity()) Rehash(want);
}

double RowIndex::MeanProbeLength() const {
  if (size_ == 0) return 0;
  uint64_t total = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    if (slots_[i].row != kNoRow) total += (i - Slot(slots_[i].key)) & mask_;
  }
  return static_cast<double>(total) / size_;
}

void RowIndex::Rehash(size_t new_capacity) {
  const size_t old_capacity = capacity();
  HugeBuffer old_buffer = std::move(buffer_);
  const Entry* old = reinterpret_cast<const Entry*>(old_buffer.get());
  Allocate(new_capacity);
  for (size_t j = 0; j < old_capacity; ++j) {
    if (old[j].row == kNoRow) continue;
    size_t i = Slot(old[j].key);
    while (slots_[i].row != kNoRow) i = (i + 1) & mask_;
    slots_[i] = old[j];
  }
}

}  // namespace embedps::ps
