#include "ps/checkpoint/durable_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace embedps::ps::checkpoint {
namespace {
constexpr size_t kBufferBytes = 1u << 20;
// Appends at least this big skip the buffer.
constexpr size_t kDirectBytes = 64u << 10;
// Writeback is started after each this many bytes, so the disk writes
// while the rest of the file is produced and Commit's fsync waits for the
// tail only.
constexpr uint64_t kWritebackBytes = 8u << 20;
}  // namespace

StatusOr<std::unique_ptr<DurableFile>> DurableFile::Create(const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  return std::unique_ptr<DurableFile>(new DurableFile(path, fd));
}

DurableFile::DurableFile(std::string path, int fd)
    : path_(std::move(path)), tmp_(path_ + ".tmp"), fd_(fd) {
  buffer_.reserve(kBufferBytes);
}

DurableFile::~DurableFile() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(tmp_.c_str());
}

Status DurableFile::Error(const char* step, int err) const {
  const std::string text = std::string("cannot ") + step + " " + tmp_ + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) return ResourceExhausted(text);
  return Unavailable(text);
}

Status DurableFile::WriteAll(const char* data, size_t size) {
  // The buffer, then `data`, in one call; the buffer is emptied.
  iovec parts[2] = {{buffer_.data(), buffer_.size()}, {const_cast<char*>(data), size}};
  iovec* next = parts;
  int left = 2;
  while (left > 0) {
    if (next->iov_len == 0) {
      ++next;
      --left;
      continue;
    }
    const ssize_t n = writev(fd_, next, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("write", errno);
    written_ += static_cast<uint64_t>(n);
    // Past what a short write took.
    for (size_t done = static_cast<size_t>(n); done > 0;) {
      const size_t step = std::min(done, next->iov_len);
      next->iov_base = static_cast<char*>(next->iov_base) + step;
      next->iov_len -= step;
      done -= step;
      if (next->iov_len == 0) {
        ++next;
        --left;
      }
    }
  }
  buffer_.clear();
  StartWriteback();
  return Status::OK();
}

void DurableFile::StartWriteback() {
  if (written_ - writeback_from_ < kWritebackBytes) return;
  // Asynchronous (SYNC_FILE_RANGE_WRITE alone): only starts the writes.
  // Errors are not lost: Commit's fsync reports them.
  sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                  static_cast<off_t>(written_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
  writeback_from_ = written_;
}

Status DurableFile::Flush() { return WriteAll(nullptr, 0); }

Status DurableFile::Append(const void* data, size_t size) {
  bytes_ += size;
  if (size < kDirectBytes && buffer_.size() + size <= kBufferBytes) {
    buffer_.append(static_cast<const char*>(data), size);
    return Status::OK();
  }
  if (size >= kDirectBytes) return WriteAll(static_cast<const char*>(data), size);
  RETURN_IF_ERROR(Flush());
  buffer_.append(static_cast<const char*>(data), size);
  return Status::OK();
}

Status DurableFile::Commit() {
  RETURN_IF_ERROR(Flush());
  // A full disk may only show here (delayed allocation), so fsync's and
  // close's errors count.
  if (fsync(fd_) != 0) return Error("fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return Error("close", errno);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Unavailable("cannot rename " + tmp_ + " to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  // The rename is durable only once the directory is synced.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Unavailable("cannot open directory " + dir + ": " + std::strerror(errno));
  const int rc = fsync(dfd);
  const int err = errno;
  close(dfd);
  if (rc != 0) return Unavailable("cannot fsync directory " + dir + ": " + std::strerror(err));
  return Status::OK();
}

}  // namespace embedps::ps::checkpoint
