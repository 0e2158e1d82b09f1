// Fixed-size rows allocated from large chunks, addressed by a 32-bit row id.
// Rows never move once allocated (chunks are never reallocated), freed rows
// are reused first, and there is no per-row heap allocation.
//
// Chunks are carved from slabs that double with the arena up to about
// 8 MiB: a small table stays in small mallocs, and a big table's rows sit
// on transparent huge pages, reached without a TLB miss per row.
//
// Not thread-safe; guarded by the owning stripe's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ps/store/huge_pages.h"

namespace embedps::ps {

class RowArena {
 public:
  // `row_bytes` is rounded up to a multiple of 4.
  explicit RowArena(size_t row_bytes);

  // A new row id (contents unspecified).
  uint32_t Allocate();
  // Returns `row` for reuse.
  void Free(uint32_t row) { free_.push_back(row); }

  char* Row(uint32_t row) {
    return chunks_[row >> kChunkShift] + (row & kChunkMask) * row_bytes_;
  }
  const char* Row(uint32_t row) const {
    return chunks_[row >> kChunkShift] + (row & kChunkMask) * row_bytes_;
  }

  size_t row_bytes() const { return row_bytes_; }
  size_t live_rows() const { return next_ - free_.size(); }
  // Row ids handed out so far are below this.
  uint32_t rows_handed_out() const { return next_; }
  size_t MemoryBytes() const { return reserved_bytes_ + free_.capacity() * sizeof(uint32_t); }

 private:
  // 4,096 rows per chunk: small enough that a lightly used table (or stripe)
  // wastes little, large enough that the chunk table stays tiny.
  static constexpr uint32_t kChunkShift = 12;
  static constexpr uint32_t kChunkRows = 1u << kChunkShift;
  static constexpr uint32_t kChunkMask = kChunkRows - 1;

  static constexpr size_t kSlabBytes = size_t{8} << 20;

  void AddChunk();

  size_t row_bytes_;
  uint32_t next_ = 0;  // rows handed out from chunks so far
  std::vector<char*> chunks_;      // into slabs_
  std::vector<HugeBuffer> slabs_;  // owners of the chunk memory
  size_t slab_chunks_ = 0;         // chunks slabs_.back() holds
  size_t slab_used_ = 0;           // of which handed out
  size_t reserved_bytes_ = 0;
  std::vector<uint32_t> free_;
};

}  // namespace embedps::ps
