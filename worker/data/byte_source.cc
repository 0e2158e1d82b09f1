#include "worker/data/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include <zlib.h>

namespace embedps::data {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& file, int err) {
  std::string msg = what + " " + file + ": " + std::strerror(err);
  return err == ENOENT ? NotFound(msg) : Unavailable(msg);
}

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// [begin, end) of a plain file, read with pread.
class RangeSource : public ByteSource {
 public:
  RangeSource(Partition p, int fd) : part_(std::move(p)), fd_(fd), pos_(part_.begin) {}

  StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n, part_.end - pos_));
    if (want == 0) return size_t{0};
    while (true) {
      const ssize_t got = ::pread(fd_.get(), buf, want, static_cast<off_t>(pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return ErrnoStatus("cannot read", part_.file, errno);
      if (got == 0) {
        return DataLoss(part_.file + " ended at byte " + std::to_string(pos_) +
                        ", inside partition [" + std::to_string(part_.begin) + ", " +
                        std::to_string(part_.end) + "); was it truncated?");
      }
      pos_ += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
  }

 private:
  const Partition part_;
  Fd fd_;
  uint64_t pos_;
};

// The decompressed bytes of a whole gzip file (concatenated members too).
class GzipSource : public ByteSource {
 public:
  GzipSource(std::string file, gzFile gz) : file_(std::move(file)), gz_(gz) {}
  ~GzipSource() override { gzclose(gz_); }

  StatusOr<size_t> Read(char* buf, size_t n) override {
    const unsigned want = static_cast<unsigned>(std::min<size_t>(n, INT_MAX));
    const int got = gzread(gz_, buf, want);
    int err = Z_OK;
    const char* msg = gzerror(gz_, &err);
    // gzread returns what it decoded before a truncation and then 0 with
    // Z_BUF_ERROR, which must not pass for a clean end of file.
    if (got < 0 || (err != Z_OK && err != Z_STREAM_END)) {
      if (err == Z_ERRNO) return ErrnoStatus("cannot read", file_, errno);
      return DataLoss(file_ + ": corrupt or truncated gzip data (" + msg + ")");
    }
    return static_cast<size_t>(got);
  }

 private:
  const std::string file_;
  gzFile gz_;
};

// InvalidArgument unless partition `p` of a file of `size` bytes is sane and
// starts at a line start.
Status CheckRange(const Partition& p, int fd, uint64_t size) {
  if (p.end < p.begin) {
    return InvalidArgument(p.file + ": partition end " + std::to_string(p.end) +
                           " is before begin " + std::to_string(p.begin));
  }
  if (p.end > size) {
    return InvalidArgument(p.file + ": partition end " + std::to_string(p.end) +
                           " is past the file size " + std::to_string(size));
  }
  if (p.begin == 0) return Status::OK();
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
  return Status::OK();
}

}  // namespace

StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const Partition& p) {
  Fd fd(::open(p.file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("cannot open", p.file, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat", p.file, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  unsigned char magic[2] = {0, 0};
  const bool gzip = ::pread(fd.get(), magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gzip) {
    RETURN_IF_ERROR(CheckRange(p, fd.get(), size));
    ::posix_fadvise(fd.get(), static_cast<off_t>(p.begin), static_cast<off_t>(p.end - p.begin),
                    POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<ByteSource>(new RangeSource(p, fd.release()));
  }
  if (p.begin != 0 || p.end != size) {
    return InvalidArgument(p.file + " is gzip-compressed and can only be read whole, not as [" +
                           std::to_string(p.begin) + ", " + std::to_string(p.end) + ")");
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  gzFile gz = gzdopen(fd.get(), "rb");
  if (gz == nullptr) return ResourceExhausted("cannot start decompressing " + p.file);
  fd.release();  // gzclose closes it now
  gzbuffer(gz, 1 << 20);
  return std::unique_ptr<ByteSource>(new GzipSource(p.file, gz));
}

}  // namespace embedps::data
