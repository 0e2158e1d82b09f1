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
    // Each slab holds as many chunks as the arena has so far (1, 1, 2, 4,
    // ...) up to about 8 MiB: a stripe of a small table keeps small mallocs,
    // and huge pages (AllocateHuge advises them from 2 MiB) come only once
    // the stripe fills them. A fixed 8 MiB slab made the first row written
    // to it fault in, and zero, a whole 2 MiB page per stripe.
    const size_t cap = std::max<size_t>(1, kSlabBytes / chunk_bytes);
    slab_chunks_ = std::clamp<size_t>(chunks_.size(), 1, cap);
    slabs_.push_back(AllocateHuge(slab_chunks_ * chunk_bytes));
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
