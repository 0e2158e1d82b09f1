#include "ps/store/row_arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace embedps::ps {

RowArena::RowArena(size_t row_bytes) : row_bytes_((row_bytes + 3) & ~size_t{3}) {}

void RowArena::AddChunk() {
  const size_t chunk_bytes = kChunkRows * row_bytes_;
  if (slab_used_ == slab_chunks_) {
    // Neither allocation touches the memory, so pages of a fresh slab cost
    // no resident memory until rows are written to them.
    if (chunks_.empty()) {
      slab_chunks_ = 1;
      char* p = static_cast<char*>(std::malloc(chunk_bytes));
      if (p == nullptr) throw std::bad_alloc();
      slabs_.emplace_back(p);
    } else {
      slab_chunks_ = std::max<size_t>(1, kSlabBytes / chunk_bytes);
      slabs_.push_back(AllocateHuge(slab_chunks_ * chunk_bytes));
    }
    slab_used_ = 0;
    reserved_bytes_ += slab_chunks_ * chunk_bytes;
  }
  chunks_.push_back(slabs_.back().get() + slab_used_ * chunk_bytes);
  ++slab_used_;
}

uint32_t RowArena::Allocate() {
  if (!free_.empty()) {
    const uint32_t row = free_.back();
    free_.pop_back();
    return row;
  }
  if ((next_ & kChunkMask) == 0) AddChunk();
  return next_++;
}

}  // namespace embedps::ps
