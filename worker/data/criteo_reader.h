// Streams the examples of one Partition of a Criteo TSV file. Reads in large
// blocks and splits lines in place: per-line std::getline is several times too
// slow for the >1M lines/s a worker needs to keep the servers busy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/partition.h"
#include "common/status.h"
#include "worker/data/criteo_parser.h"

namespace embedps::data {

// How a reader tolerates malformed input and how much it buffers.
struct ReaderOptions {
  // Fail when bad/lines exceeds this, checked once >= min_lines_for_check
  // lines were read, and at the end of the partition. Real click logs have a
  // few broken lines; many broken lines mean the wrong file or format.
  double max_bad_line_fraction = 0.01;
  uint64_t min_lines_for_check = 1000;
  // The first N bad lines are LOG(WARNING)'d as "file:LINE: reason".
  int log_first_bad_lines = 5;
  size_t buffer_bytes = 4 << 20;
};

// Reads the lines of one partition in order. Not thread-safe; one per thread.
class CriteoReader {
 public:
  // NotFound for a missing file; InvalidArgument for a bad range (past the end
  // of the file, end < begin, or begin not at a line start) or bad options.
  [[nodiscard]] static StatusOr<std::unique_ptr<CriteoReader>> Open(
      const Partition& p, const ReaderOptions& opts);
  ~CriteoReader();
  CriteoReader(const CriteoReader&) = delete;
  CriteoReader& operator=(const CriteoReader&) = delete;

  // Appends up to max_rows (> 0) parsed examples to *out (cleared first);
  // returns how many; 0 at end of partition. Malformed lines are skipped and counted;
  // blank lines are skipped silently. Returns InvalidArgument naming the file,
  // bad count and threshold when the bad-line fraction passes
  // max_bad_line_fraction; errors are sticky.
  [[nodiscard]] StatusOr<size_t> NextBatch(size_t max_rows, std::vector<CriteoExample>* out);

  // Non-blank lines seen so far, good and bad.
  uint64_t lines_read() const { return lines_; }
  // Malformed lines seen so far.
  uint64_t bad_lines() const { return bad_; }
  // Bytes of the partition consumed so far, newlines included.
  uint64_t bytes_read() const { return bytes_; }

 private:
  CriteoReader(const Partition& p, const ReaderOptions& opts, int fd);

  // Sets *line to the next line of the partition (without its newline);
  // returns false at the end of the partition.
  StatusOr<bool> NextLine(std::string_view* line);
  // Moves the unconsumed tail to the buffer's front and reads more after it.
  Status Refill();
  // Counts a malformed line and logs the first few.
  void RecordBadLine(uint64_t line_no, const Status& why);
  // InvalidArgument when too many lines were bad.
  Status CheckBadFraction() const;

  const Partition part_;
  const ReaderOptions opts_;
  const int fd_;
  std::vector<char> buf_;
  size_t pos_ = 0;       // next unconsumed byte in buf_
  size_t len_ = 0;       // valid bytes in buf_
  uint64_t file_pos_;    // next file offset to read
  uint64_t next_line_no_;
  uint64_t lines_ = 0;
  uint64_t bad_ = 0;
  uint64_t bytes_ = 0;
  uint64_t last_bad_line_no_ = 0;
  std::string last_bad_reason_;
  bool end_checked_ = false;
  Status error_;  // sticky: once the partition failed, every call fails
};

}  // namespace embedps::data
