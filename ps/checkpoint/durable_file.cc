#include "ps/checkpoint/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace embedps::ps::checkpoint {
namespace {
constexpr size_t kBufferBytes = 1u << 20;
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
  while (size > 0) {
    const ssize_t n = write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("write", errno);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

Status DurableFile::Flush() {
  Status st = WriteAll(buffer_.data(), buffer_.size());
  buffer_.clear();
  return st;
}

Status DurableFile::Append(const void* data, size_t size) {
  bytes_ += size;
  if (buffer_.size() + size <= kBufferBytes) {
    buffer_.append(static_cast<const char*>(data), size);
    return Status::OK();
  }
  RETURN_IF_ERROR(Flush());
  if (size >= kBufferBytes) return WriteAll(static_cast<const char*>(data), size);
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
