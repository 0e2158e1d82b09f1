// Data partitions: the unit of input work the scheduler hands to workers.
// A partition is a byte range of one file that holds whole lines, so a worker
// can read it without coordinating with the readers of its neighbours. A
// gzip file is always one partition covering the whole file: a compressed
// stream can only be decoded from its start.
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
  // Lines at the start already trained (a lease resumed after a worker
  // died, or from a checkpoint): readers skip them.
  uint64_t skip_lines = 0;
};

// Splits `file` into about `count` partitions of similar byte size, cut
// exactly at line starts, in one sequential pass over the file. NotFound if the
// file is missing, InvalidArgument if it is empty or count == 0. Returns fewer
// partitions than asked when the file has too few lines; ids are 0..n-1 in file
// order and the partitions cover the file exactly. A gzip file gives one
// partition [0, compressed size) whatever the count.
[[nodiscard]] StatusOr<std::vector<Partition>> PlanPartitions(const std::string& file,
                                                              uint32_t count);

// Plans about `count` partitions over several files (each entry of `inputs`
// a file, a comma-separated list or a glob; see ExpandInputs). Each plain file
// gets a share of `count` proportional to its size, at least one; a gzip file
// is one partition. Empty files are skipped, but InvalidArgument when every
// file is empty. Ids are 0..n-1 in file order.
[[nodiscard]] StatusOr<std::vector<Partition>> PlanInputPartitions(
    const std::vector<std::string>& inputs, uint32_t count);

}  // namespace embedps
