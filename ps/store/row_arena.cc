#include "ps/store/row_arena.h"

namespace embedps::ps {

RowArena::RowArena(size_t row_bytes) : row_bytes_((row_bytes + 3) & ~size_t{3}) {}

uint32_t RowArena::Allocate() {
  if (!free_.empty()) {
    const uint32_t row = free_.back();
    free_.pop_back();
    return row;
  }
  if ((next_ & kChunkMask) == 0) {
    // new char[] without () leaves the memory untouched, so untouched pages
    // of a fresh chunk cost no resident memory.
    chunks_.emplace_back(new char[kChunkRows * row_bytes_]);
  }
  return next_++;
}

}  // namespace embedps::ps
