// The exported-model file: one table's rows from one server, as written at
// the end of training and read by `embedps eval`. Layout (little-endian):
//   "EPSMODEL" | u32 version=1 | u32 table | u32 dim | u32 reserved | u64 rows
//   | rows x u64 key | rows*dim x f32 weights | u64 checksum of all before it
// Files are written to a temporary name and renamed, so a reader never sees a
// half-written file; a damaged one fails its checksum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace embedps {

struct ModelShard {
  uint32_t table = 0;
  uint32_t dim = 0;
  std::vector<uint64_t> keys;
  std::vector<float> values;  // keys.size() * dim, row-major
};

// Writes `shard` atomically to `path`. Unavailable on I/O errors.
Status WriteModelShard(const std::string& path, const ModelShard& shard);

// Reads and verifies a file written by WriteModelShard. NotFound for a
// missing file, DataLoss for a truncated or corrupt one.
StatusOr<ModelShard> ReadModelShard(const std::string& path);

// Checksum used by the model file (and later checkpoint) formats.
uint64_t ChecksumBytes(const void* data, size_t size, uint64_t seed);

}  // namespace embedps
