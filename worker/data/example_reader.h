// Streams the examples of one Partition in any input format: lines from a
// LineReader (plain byte range or whole gzip file), parsed by the format's
// line parser, with malformed lines counted by a BadLineCounter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/partition.h"
#include "common/status.h"
#include "worker/data/bad_lines.h"
#include "worker/data/csv_schema.h"
#include "worker/data/example.h"
#include "worker/data/format.h"
#include "worker/data/line_reader.h"

namespace embedps::data {

// Reads the examples of one partition in order. Not thread-safe; one per
// thread.
class ExampleReader {
 public:
  // NotFound for a missing file; InvalidArgument for a bad range (past the end
  // of the file, end < begin, begin not at a line start, part of a gzip file)
  // or bad options.
  [[nodiscard]] static StatusOr<std::unique_ptr<ExampleReader>> Open(const Partition& p,
                                                                    Format format,
                                                                    const ReaderOptions& opts);
  ExampleReader(const ExampleReader&) = delete;
  ExampleReader& operator=(const ExampleReader&) = delete;

  // Fills (*out)[0..n) with the next n <= max_rows (> 0) examples and resizes
  // *out to n; returns n, 0 at the end of the partition. The examples already
  // in *out are overwritten in place, so a batch vector reused across calls
  // does not allocate. Malformed lines are skipped and counted; blank lines
  // and a format's header line are skipped silently. Returns InvalidArgument
  // naming the file, bad count and threshold when the bad-line fraction
  // passes max_bad_line_fraction; errors are sticky.
  [[nodiscard]] StatusOr<size_t> NextBatch(size_t max_rows, std::vector<Example>* out);

  // Non-blank lines seen so far, good and bad (a header not included).
  uint64_t lines_read() const { return counter_.lines(); }
  // Malformed lines seen so far.
  uint64_t bad_lines() const { return counter_.bad(); }
  // Blank lines and the file's header line skipped so far.
  uint64_t skipped_lines() const { return skipped_; }
  const std::string& first_bad_line() const { return counter_.first_bad(); }
  // Bytes consumed so far, newlines included (decompressed bytes for gzip).
  uint64_t bytes_read() const { return lines_->bytes_read(); }
  // Physical lines of the partition consumed so far, counted from its start
  // (skipped lines included): where a resumed lease would start reading.
  uint64_t position() const { return position_; }
  Format format() const { return format_; }
  // csv files: the schema read from the file's header; null otherwise.
  const CsvSchema* csv_schema() const { return csv_ ? &*csv_ : nullptr; }

 private:
  ExampleReader(std::unique_ptr<LineReader> lines, Format format, std::optional<CsvSchema> csv,
                const ReaderOptions& opts);
  // Fills *ex from the next data line; false at the end.
  StatusOr<bool> ReadOne(Example* ex);

  std::unique_ptr<LineReader> lines_;
  const Format format_;
  const std::optional<CsvSchema> csv_;
  const LineParser parse_;  // every format but csv
  BadLineCounter counter_;
  bool end_checked_ = false;
  uint64_t first_line_ = 1;
  uint64_t position_ = 0;
  uint64_t skipped_ = 0;
  Status error_;  // sticky: once the partition failed, every call fails
};

}  // namespace embedps::data
