// A fuzz input as a file: the bytes in an anonymous in-memory file, reached
// through /proc/self/fd, for targets whose parser opens a path.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace embedps::fuzz {

class MemfdInput {
 public:
  MemfdInput(const uint8_t* data, size_t size) : fd_(memfd_create("fuzz-input", MFD_CLOEXEC)) {
    size_t done = 0;
    while (fd_ >= 0 && done < size) {
      const ssize_t n = write(fd_, data + done, size - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ok_ = fd_ >= 0 && done == size;
  }
  ~MemfdInput() {
    if (fd_ >= 0) close(fd_);
  }
  MemfdInput(const MemfdInput&) = delete;
  MemfdInput& operator=(const MemfdInput&) = delete;

  // False when the file could not be made or written.
  bool ok() const { return ok_; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
  bool ok_ = false;
};

}  // namespace embedps::fuzz
