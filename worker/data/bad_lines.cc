#include "worker/data/bad_lines.h"

#include <algorithm>
#include <cstdio>

#include <glog/logging.h>

namespace embedps::data {

Status BadLineCounter::CheckOptions(const ReaderOptions& opts) {
  if (!(opts.max_bad_line_fraction >= 0 && opts.max_bad_line_fraction <= 1)) {
    return InvalidArgument("max_bad_line_fraction must be in [0, 1]");
  }
  return Status::OK();
}

Status BadLineCounter::Record(uint64_t line_no, const Status& parsed) {
  ++lines_;
  if (!parsed.ok()) {
    ++bad_;
    last_bad_line_no_ = line_no;
    last_bad_reason_ = parsed.message();
    if (first_bad_.empty()) first_bad_ = file_ + ":" + std::to_string(line_no) + ": " + parsed.message();
    if (bad_ <= static_cast<uint64_t>(std::max(opts_.log_first_bad_lines, 0))) {
      LOG(WARNING) << file_ << ":" << line_no << ": " << parsed.message();
    }
  }
  // The fraction only rises on a bad line, and first becomes checkable when
  // the line count reaches the minimum.
  if (lines_ >= opts_.min_lines_for_check && (!parsed.ok() || lines_ == opts_.min_lines_for_check)) {
    return CheckFraction();
  }
  return Status::OK();
}

Status BadLineCounter::CheckFraction() const {
  if (lines_ == 0) return Status::OK();
  const double fraction = static_cast<double>(bad_) / static_cast<double>(lines_);
  if (fraction <= opts_.max_bad_line_fraction) return Status::OK();
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.2f%%", 100 * fraction);
  return InvalidArgument(file_ + ": " + std::to_string(bad_) + " of " + std::to_string(lines_) +
                         " lines malformed (" + pct + "), above max_bad_line_fraction " +
                         std::to_string(opts_.max_bad_line_fraction) + "; last at line " +
                         std::to_string(last_bad_line_no_) + ": " + last_bad_reason_);
}

}  // namespace embedps::data
