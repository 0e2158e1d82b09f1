// Data partitions: the unit of input work the scheduler hands to workers.
// A partition is a byte range of one file that holds whole lines, so a worker
// can read it without coordinating with the readers of its neighbours.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace embedps {

// A contiguous range of whole lines of one file: [begin, end) byte offsets,
// begin at a line start; first_line is the 1-based line number of the line at
// begin (used to report bad lines as "file:LINE").
struct Partition {
  uint32_t id = 0;
  std::string file;
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t first_line = 1;
};

// Splits `file` into about `count` partitions of similar byte size, cut
// exactly at line starts, in one sequential pass over the file. NotFound if the
// file is missing, InvalidArgument if it is empty or count == 0. Returns fewer
// partitions than asked when the file has too few lines; ids are 0..n-1 in file
// order and the partitions cover the file exactly.
[[nodiscard]] StatusOr<std::vector<Partition>> PlanPartitions(const std::string& file,
                                                              uint32_t count);

}  // namespace embedps
