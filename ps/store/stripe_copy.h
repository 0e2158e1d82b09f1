// The rows of one table stripe as they were at a checkpoint cut, in the
// record layout of checkpoint files: each record is the row's u64 key
// followed by the row's bytes exactly as the table stores them (weights,
// optimizer state, last-step stamp when the table tracks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace embedps::ps {

struct StripeCopy {
  // count x (8 + row_bytes); not zero-filled first, as copying a stripe is
  // what a request may wait on.
  std::unique_ptr<char[]> records;
  uint64_t count = 0;
  std::vector<uint64_t> removed;  // deltas: keys removed since the previous cut
};

}  // namespace embedps::ps
