// Where a reader's bytes come from: a byte range of a plain file, or the whole
// decompressed stream of a gzip file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/partition.h"
#include "common/status.h"

namespace embedps::data {

// A sequential stream of bytes. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; 0 only at the end of the stream.
  // Unavailable for an I/O error, DataLoss for a file that ended early or a
  // corrupt gzip stream; errors name the file.
  [[nodiscard]] virtual StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Opens the bytes of partition `p`: its byte range of a plain file, or, for
// a gzip file (detected from its magic bytes, whatever its name), the whole
// decompressed file, which must then be the partition [0, file size).
// NotFound for a missing file; InvalidArgument for a range past the end of
// the file, end < begin, begin not at a line start, or part of a gzip file.
[[nodiscard]] StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const Partition& p);

}  // namespace embedps::data
