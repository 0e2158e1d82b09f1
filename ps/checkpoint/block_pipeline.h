// Reads checkpoint blocks on a thread of its own, checking each checksum,
// a few blocks ahead of the caller, and hands them over in the order
// listed: reading and checking one block overlaps loading the one before.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/file_reader.h"

namespace embedps::ps::checkpoint {

struct BlockTask {
  const FileReader* file;
  const BlockRef* block;
  size_t file_index;  // the caller's: which file of its list
};

// Calls fn(task, payload) for each task in order (payload valid during the
// call). The first error, from reading (DataLoss for a bad checksum) or
// from fn, stops the walk and is returned; the reading thread is joined
// before this returns.
Status ReadAheadEach(const std::vector<BlockTask>& tasks,
                     const std::function<Status(const BlockTask& task, const char* payload)>& fn);

}  // namespace embedps::ps::checkpoint
