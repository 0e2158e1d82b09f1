// A count-min sketch of saturating 8-bit counters: how often a key without a
// row has been pushed, so a table can give a key a row only after it has
// been seen N times. Counts can only be overestimated (by collisions), so
// no key waits longer than N pushes; a few rare keys get in early.
//
// Not thread-safe; each table stripe owns one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedps::ps {

class AdmissionSketch {
 public:
  // `width` counters per hash row (rounded up to a power of two), 4 rows.
  explicit AdmissionSketch(uint32_t width);
  // Adds one sighting of `key` and returns its estimated count (<= 255).
  uint32_t Increment(uint64_t key);
  size_t MemoryBytes() const { return counters_.size(); }

 private:
  static constexpr int kRows = 4;
  std::vector<uint8_t> counters_;
  uint64_t mask_;
};

}  // namespace embedps::ps
