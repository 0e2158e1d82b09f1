// Reading one checkpoint file: the header and footer on open, then the
// blocks in order, each checked against its checksums. Sizes read from the
// file are bounded by the file's real size before anything is allocated,
// so a damaged or hostile file cannot make it allocate much or read past
// the end. Errors are DataLoss naming the file and what is wrong (NotFound
// for a missing file).
//
// Not thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/file_format.h"

namespace embedps::ps::checkpoint {

// One block of a file, as the walk found it.
struct BlockRef {
  BlockHeader header;
  uint64_t index = 0;           // 0 for the first block of the file
  uint64_t payload_offset = 0;  // bytes from the start of the file
};

class FileReader {
 public:
  // Opens `path` and checks its header and footer.
  static StatusOr<FileReader> Open(const std::string& path);
  FileReader(FileReader&& other) noexcept;
  FileReader& operator=(FileReader&&) = delete;
  ~FileReader();

  const FileHeader& header() const { return header_; }
  const Footer& footer() const { return footer_; }
  uint64_t file_bytes() const { return file_bytes_; }

  // A walk of the blocks in file order, one at a time: Next reads the next
  // block's header (checked against the header and the file) and, when its
  // type is `want` (or for every block when `want` is empty), its payload
  // into *payload, checked against its checksum; other payloads are
  // skipped unread. Returns false at the end, once the footer's block and
  // row counts matched the walk; Rewind starts over. The walk reads the
  // file front to back, so the kernel's read-ahead keeps the disk busy.
  void Rewind();
  StatusOr<bool> Next(BlockRef* block, std::vector<char>* payload, std::optional<BlockType> want);

 private:
  FileReader(std::string path, int fd, uint64_t file_bytes);
  Status ReadAt(uint64_t offset, char* out, size_t size) const;
  Status ReadHeaderAndFooter();
  // Checks a block header against the file: table known, payload size
  // matching its count and within the file.
  Status CheckBlock(const BlockHeader& b, uint64_t index, uint64_t offset) const;

  std::string path_;
  int fd_;
  uint64_t file_bytes_;
  uint64_t blocks_start_ = 0;  // offset of the first block
  FileHeader header_;
  Footer footer_;
  // The walk: where the next block header is, and what it has seen.
  uint64_t offset_ = 0;
  uint64_t index_ = 0;
  uint64_t rows_ = 0;
  uint64_t tombstones_ = 0;
};

// Reads every block of `reader`'s file, checking each checksum; DataLoss
// naming the first damaged one.
Status VerifyAllBlocks(FileReader& reader);

}  // namespace embedps::ps::checkpoint
