#include "worker/data/line_reader.h"

#include <algorithm>
#include <cstring>

namespace embedps::data {
namespace {

// Floor on the buffer so a zero option cannot stall reading; tests use tiny
// buffers on purpose to exercise refills and buffer growth.
constexpr size_t kMinBufferBytes = 64;

}  // namespace

StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const Partition& p, size_t buffer_bytes) {
  if (p.first_line == 0) return InvalidArgument("partition first_line is 1-based");
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenByteSource(p));
  return std::unique_ptr<LineReader>(
      new LineReader(std::move(source), p.file, p.first_line, buffer_bytes));
}

StatusOr<std::unique_ptr<LineReader>> LineReader::OpenWholeFile(const std::string& file,
                                                                size_t buffer_bytes) {
  ASSIGN_OR_RETURN(std::vector<Partition> parts, PlanPartitions(file, 1));
  return Open(parts[0], buffer_bytes);
}

LineReader::LineReader(std::unique_ptr<ByteSource> source, std::string file, uint64_t first_line,
                       size_t buffer_bytes)
    : source_(std::move(source)),
      file_(std::move(file)),
      buf_(std::max(buffer_bytes, kMinBufferBytes)),
      next_line_no_(first_line) {}

Status LineReader::Refill() {
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
  }
  // A line longer than the buffer: grow rather than split it.
  if (len_ == buf_.size()) buf_.resize(buf_.size() * 2);
  ASSIGN_OR_RETURN(const size_t n, source_->Read(buf_.data() + len_, buf_.size() - len_));
  if (n == 0) eof_ = true;
  len_ += n;
  return Status::OK();
}

StatusOr<bool> LineReader::Next(std::string_view* line, uint64_t* line_no) {
  while (true) {
    const char* start = buf_.data() + pos_;
    const size_t avail = len_ - pos_;
    if (const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail))) {
      const size_t n = static_cast<size_t>(nl - start);
      *line = std::string_view(start, n);
      pos_ += n + 1;
      bytes_ += n + 1;
      *line_no = next_line_no_++;
      return true;
    }
    if (eof_) {
      if (avail == 0) return false;
      *line = std::string_view(start, avail);
      pos_ = len_;
      bytes_ += avail;
      *line_no = next_line_no_++;
      return true;
    }
    RETURN_IF_ERROR(Refill());
  }
}

}  // namespace embedps::data
