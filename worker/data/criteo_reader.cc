#include "worker/data/criteo_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <glog/logging.h>

namespace embedps::data {
namespace {

// Floor on the buffer so a zero option cannot stall reading; tests use tiny
// buffers on purpose to exercise refills and buffer growth.
constexpr size_t kMinBufferBytes = 64;

Status ErrnoStatus(const std::string& what, const std::string& file, int err) {
  std::string msg = what + " " + file + ": " + std::strerror(err);
  return err == ENOENT ? NotFound(msg) : Unavailable(msg);
}

}  // namespace

StatusOr<std::unique_ptr<CriteoReader>> CriteoReader::Open(const Partition& p,
                                                           const ReaderOptions& opts) {
  if (!(opts.max_bad_line_fraction >= 0 && opts.max_bad_line_fraction <= 1)) {
    return InvalidArgument("max_bad_line_fraction must be in [0, 1]");
  }
  if (p.first_line == 0) return InvalidArgument("partition first_line is 1-based");
  if (p.end < p.begin) {
    return InvalidArgument(p.file + ": partition end " + std::to_string(p.end) +
                           " is before begin " + std::to_string(p.begin));
  }
  int fd = ::open(p.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", p.file, errno);
  // Owns fd from here on, so early returns close it.
  std::unique_ptr<CriteoReader> reader(new CriteoReader(p, opts, fd));

  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("cannot stat", p.file, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (p.end > size) {
    return InvalidArgument(p.file + ": partition end " + std::to_string(p.end) +
                           " is past the file size " + std::to_string(size));
  }
  if (p.begin > 0) {
    // A partition starting mid-line would parse a fragment as a bad line and
    // its neighbour would parse the same line again.
    char prev = 0;
    if (::pread(fd, &prev, 1, static_cast<off_t>(p.begin - 1)) != 1) {
      return ErrnoStatus("cannot read", p.file, errno);
    }
    if (prev != '\n') {
      return InvalidArgument(p.file + ": partition begin " + std::to_string(p.begin) +
                             " is not at a line start");
    }
  }
  ::posix_fadvise(fd, static_cast<off_t>(p.begin), static_cast<off_t>(p.end - p.begin),
                  POSIX_FADV_SEQUENTIAL);
  return reader;
}

CriteoReader::CriteoReader(const Partition& p, const ReaderOptions& opts, int fd)
    : part_(p),
      opts_(opts),
      fd_(fd),
      buf_(std::max(opts.buffer_bytes, kMinBufferBytes)),
      file_pos_(p.begin),
      next_line_no_(p.first_line) {}

CriteoReader::~CriteoReader() { ::close(fd_); }

Status CriteoReader::Refill() {
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
  }
  // A line longer than the buffer: grow rather than split it.
  if (len_ == buf_.size()) buf_.resize(buf_.size() * 2);
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(buf_.size() - len_, part_.end - file_pos_));
  while (true) {
    ssize_t n = ::pread(fd_, buf_.data() + len_, want, static_cast<off_t>(file_pos_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read", part_.file, errno);
    if (n == 0) {
      return DataLoss(part_.file + " ended at byte " + std::to_string(file_pos_) +
                      ", inside partition [" + std::to_string(part_.begin) + ", " +
                      std::to_string(part_.end) + "); was it truncated?");
    }
    len_ += static_cast<size_t>(n);
    file_pos_ += static_cast<uint64_t>(n);
    return Status::OK();
  }
}

StatusOr<bool> CriteoReader::NextLine(std::string_view* line) {
  while (true) {
    const char* start = buf_.data() + pos_;
    const size_t avail = len_ - pos_;
    if (const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail))) {
      const size_t n = static_cast<size_t>(nl - start);
      *line = std::string_view(start, n);
      pos_ += n + 1;
      bytes_ += n + 1;
      return true;
    }
    if (file_pos_ >= part_.end) {
      if (avail == 0) return false;
      // The file's last line need not end in a newline.
      *line = std::string_view(start, avail);
      pos_ = len_;
      bytes_ += avail;
      return true;
    }
    RETURN_IF_ERROR(Refill());
  }
}

void CriteoReader::RecordBadLine(uint64_t line_no, const Status& why) {
  ++bad_;
  last_bad_line_no_ = line_no;
  last_bad_reason_ = why.message();
  if (bad_ <= static_cast<uint64_t>(std::max(opts_.log_first_bad_lines, 0))) {
    LOG(WARNING) << part_.file << ":" << line_no << ": " << why.message();
  }
}

Status CriteoReader::CheckBadFraction() const {
  if (lines_ == 0) return Status::OK();
  const double fraction = static_cast<double>(bad_) / static_cast<double>(lines_);
  if (fraction <= opts_.max_bad_line_fraction) return Status::OK();
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.2f%%", 100 * fraction);
  return InvalidArgument(part_.file + ": " + std::to_string(bad_) + " of " +
                         std::to_string(lines_) + " lines malformed (" + pct +
                         "), above max_bad_line_fraction " +
                         std::to_string(opts_.max_bad_line_fraction) + "; last at line " +
                         std::to_string(last_bad_line_no_) + ": " + last_bad_reason_);
}

StatusOr<size_t> CriteoReader::NextBatch(size_t max_rows, std::vector<CriteoExample>* out) {
  out->clear();
  if (!error_.ok()) return error_;
  // 0 means "end of partition" to callers, so it cannot also mean "asked for 0".
  if (max_rows == 0) return InvalidArgument("NextBatch needs max_rows > 0");
  while (out->size() < max_rows) {
    std::string_view line;
    StatusOr<bool> got = NextLine(&line);
    if (!got.ok()) {
      error_ = got.status();
      return error_;
    }
    if (!*got) {
      // The end-of-partition check catches small partitions that never
      // reached min_lines_for_check.
      if (!end_checked_) {
        end_checked_ = true;
        error_ = CheckBadFraction();
        if (!error_.ok()) {
          out->clear();
          return error_;
        }
      }
      break;
    }
    const uint64_t line_no = next_line_no_++;
    if (line.empty() || (line.size() == 1 && line[0] == '\r')) continue;
    ++lines_;
    out->emplace_back();
    Status parsed = ParseCriteoLine(line, &out->back());
    if (!parsed.ok()) {
      out->pop_back();
      RecordBadLine(line_no, parsed);
    }
    // The fraction only rises on a bad line, and first becomes checkable when
    // the line count reaches the minimum.
    if (lines_ >= opts_.min_lines_for_check &&
        (!parsed.ok() || lines_ == opts_.min_lines_for_check)) {
      error_ = CheckBadFraction();
      if (!error_.ok()) {
        out->clear();
        return error_;
      }
    }
  }
  return out->size();
}

}  // namespace embedps::data
