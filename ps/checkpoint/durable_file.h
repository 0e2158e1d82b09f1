// A file that appears at its path complete or not at all: bytes go to
// "<path>.tmp", and Commit() fsyncs it, renames it over `path` and fsyncs
// the directory. Destroying an uncommitted file (an error on the way, a
// full disk) removes the temporary, leaving `path` as it was.
//
// Not thread-safe. Errors are Unavailable (ResourceExhausted for a full
// disk) and name the file, the step and the system's reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace embedps::ps::checkpoint {

class DurableFile {
 public:
  static StatusOr<std::unique_ptr<DurableFile>> Create(const std::string& path);
  ~DurableFile();
  DurableFile(const DurableFile&) = delete;
  DurableFile& operator=(const DurableFile&) = delete;

  // Appends (small pieces buffered; large ones go straight through, with
  // the buffer in front of them).
  Status Append(const void* data, size_t size);
  Status Commit();
  uint64_t bytes() const { return bytes_; }

 private:
  DurableFile(std::string path, int fd);
  Status Flush();
  // Writes the buffer and then `size` bytes of `data`.
  Status WriteAll(const char* data, size_t size);
  // Starts the disk's writes of what was written since the last start, in
  // the background, once that is big enough.
  void StartWriteback();
  Status Error(const char* step, int err) const;

  const std::string path_;
  const std::string tmp_;
  int fd_;
  bool committed_ = false;
  uint64_t bytes_ = 0;      // appended
  uint64_t written_ = 0;    // handed to the kernel
  uint64_t writeback_from_ = 0;
  std::string buffer_;
};

}  // namespace embedps::ps::checkpoint
