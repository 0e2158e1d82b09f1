// Tolerance for malformed input lines, shared by every reader: count them,
// log the first few as "file:LINE: reason", and fail once too many are bad.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "worker/data/csv_schema.h"

namespace embedps::data {

// How a reader tolerates malformed input and how much it buffers.
struct ReaderOptions {
  // Fail when bad/lines exceeds this, checked once >= min_lines_for_check
  // lines were read, and at the end of the input. Real click logs have a
  // few broken lines; many broken lines mean the wrong file or format.
  double max_bad_line_fraction = 0.01;
  uint64_t min_lines_for_check = 1000;
  // The first N bad lines are LOG(WARNING)'d as "file:LINE: reason".
  int log_first_bad_lines = 5;
  size_t buffer_bytes = 4 << 20;
  // csv files: the columns' roles (resolved against each file's header),
  // and whether a file may lack the label (files to score).
  CsvColumns csv;
  bool csv_label_optional = false;
};

// Counts the good and bad lines of one file or partition. Not thread-safe.
class BadLineCounter {
 public:
  BadLineCounter(std::string file, const ReaderOptions& opts) : file_(std::move(file)), opts_(opts) {}

  // InvalidArgument unless max_bad_line_fraction is in [0, 1].
  [[nodiscard]] static Status CheckOptions(const ReaderOptions& opts);

  // Records one non-blank line and whether it parsed. Returns InvalidArgument
  // (naming the file, the counts, the threshold and the last bad line) when
  // the bad fraction passes the threshold with enough lines read.
  [[nodiscard]] Status Record(uint64_t line_no, const Status& parsed);
  // The same check for the end of the input, whatever the line count.
  [[nodiscard]] Status CheckAtEnd() const { return CheckFraction(); }

  uint64_t lines() const { return lines_; }
  uint64_t bad() const { return bad_; }
  // The first bad line, "FILE:LINE: reason" (empty: none yet).
  const std::string& first_bad() const { return first_bad_; }

 private:
  Status CheckFraction() const;

  const std::string file_;
  const ReaderOptions opts_;
  uint64_t lines_ = 0;
  uint64_t bad_ = 0;
  uint64_t last_bad_line_no_ = 0;
  std::string last_bad_reason_;
  std::string first_bad_;
};

}  // namespace embedps::data
