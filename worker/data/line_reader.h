// Splits a ByteSource into lines. Reads in large blocks and splits lines in
// place: per-line std::getline is several times too slow for the >1M lines/s
// a worker needs to keep the servers busy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/partition.h"
#include "common/status.h"
#include "worker/data/byte_source.h"

namespace embedps::data {

// Reads the lines of one partition in order. Not thread-safe.
class LineReader {
 public:
  // Opens partition `p` (see OpenByteSource for the errors); `buffer_bytes`
  // is the initial block size (a longer line grows the buffer).
  [[nodiscard]] static StatusOr<std::unique_ptr<LineReader>> Open(const Partition& p,
                                                                 size_t buffer_bytes);
  // The whole of `file` (plain or gzip) as one partition.
  [[nodiscard]] static StatusOr<std::unique_ptr<LineReader>> OpenWholeFile(const std::string& file,
                                                                          size_t buffer_bytes);
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets *line to the next line (without its newline; a '\r' before it is
  // kept) and *line_no to its 1-based line number in the file; returns false
  // at the end. The view is valid until the next call. The last line need
  // not end in a newline.
  [[nodiscard]] StatusOr<bool> Next(std::string_view* line, uint64_t* line_no);

  // Bytes consumed so far, newlines included (decompressed bytes for gzip).
  uint64_t bytes_read() const { return bytes_; }
  const std::string& file() const { return file_; }

 private:
  LineReader(std::unique_ptr<ByteSource> source, std::string file, uint64_t first_line,
             size_t buffer_bytes);
  // Moves the unconsumed tail to the buffer's front and reads more after it.
  Status Refill();

  std::unique_ptr<ByteSource> source_;
  const std::string file_;
  std::vector<char> buf_;
  size_t pos_ = 0;  // next unconsumed byte in buf_
  size_t len_ = 0;  // valid bytes in buf_
  bool eof_ = false;
  uint64_t next_line_no_;
  uint64_t bytes_ = 0;
};

}  // namespace embedps::data
