// Reads checkpoint blocks on a thread of its own, checking each checksum,
// a few blocks ahead of the caller, and hands them over in order: reading
// and checking one block overlaps loading the ones before. (Checking on
// the loading thread instead measured slower: loading is the longer job.)
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/file_reader.h"

namespace embedps::ps::checkpoint {

// One walk: the blocks of `type` of one file, in file order (the file is
// read front to back; the other blocks' headers are checked, their
// payloads skipped).
struct BlockWalk {
  FileReader* file;
  BlockType type;
  size_t file_index;  // the caller's: which file of its list
};

// Calls fn(walk, block, payload) for each block of each walk, walks in
// order (payload valid during the call). The first error, from reading
// (DataLoss for damage) or from fn, stops everything and is returned; the
// reading thread is joined before this returns.
Status ReadAheadEach(const std::vector<BlockWalk>& walks,
                     const std::function<Status(const BlockWalk& walk, const BlockRef& block,
                                                const char* payload)>& fn);

}  // namespace embedps::ps::checkpoint
