// Internal to EmbeddingTable (embedding_table*.cc): one stripe of a table
// and the state of a checkpoint cut. Not for other modules.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "ps/embedding_table.h"

namespace embedps::ps {

// A cut in progress: the copy of every stripe as it was at the cut. A copy
// is made under that stripe's lock, by the writer or by the first request
// that would change the stripe first.
struct EmbeddingTable::CutState {
  CutState(bool delta, uint64_t step, size_t stripes) : delta(delta), step(step), copies(stripes) {}
  const bool delta;
  const uint64_t step;  // the table's push counter at the cut
  std::vector<StripeCopy> copies;  // [stripe]; each guarded by its stripe's lock
  std::atomic<int64_t> max_stall_ns{0};
};

struct EmbeddingTable::Stripe {
  Stripe(uint32_t index, size_t row_bytes, bool admission)
      : index_in_table(index), arena(row_bytes), sketch(admission ? kSketchWidth : 1) {}
  static constexpr uint32_t kSketchWidth = 1 << 14;

  // Marks `row` changed since the last cut (only while track_changes; the
  // bitmap covers every row the arena has handed out, see CoverArena).
  void MarkChanged(uint32_t row) { changed[row >> 6] |= uint64_t{1} << (row & 63); }
  // Grows the bitmap to cover every row id the arena has handed out; call
  // after each Allocate while tracking, so MarkChanged needs no check.
  void CoverArena() {
    const size_t words = (arena.rows_handed_out() + 63) / 64;
    if (words > changed.size()) changed.resize(std::max(words, changed.size() * 3 / 2), 0);
  }
  bool IsChanged(uint32_t row) const {
    const size_t word = row >> 6;
    return word < changed.size() && ((changed[word] >> (row & 63)) & 1);
  }
  void ClearChanged(uint32_t row) {
    const size_t word = row >> 6;
    if (word < changed.size()) changed[word] &= ~(uint64_t{1} << (row & 63));
  }

  const uint32_t index_in_table;
  std::mutex mu;  // guards everything below
  RowIndex index;
  RowArena arena;
  AdmissionSketch sketch;
  // Non-null while a cut is running and this stripe is not copied yet: the
  // stripe must be copied before anything in it changes.
  CutState* cut = nullptr;
  // Change tracking for delta checkpoints, on from the first cut (or
  // restore): rows changed since the last cut (bit per arena row id) and
  // keys removed since then.
  bool track_changes = false;
  std::vector<uint64_t> changed;
  std::vector<uint64_t> removed;
};

}  // namespace embedps::ps
