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
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ps/checkpoint/file_format.h"

namespace embedps::ps::checkpoint {

// Where one block lies in its file.
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

  // Reads every block from the first, checking each against its checksum
  // and the header (table index, sizes), and the block and row counts
  // against the footer at the end. Calls fn(block, payload) for blocks of
  // the types in `types` (payload: block.payload_bytes bytes, valid during
  // the call); other blocks are checked too but not handed out. An error
  // from fn stops the walk and is returned.
  using BlockFn = std::function<Status(const BlockHeader& block, const char* payload)>;
  Status ForEachBlock(const std::vector<BlockType>& types, const BlockFn& fn);

  // Reads every block header, not the payloads (one small read per block),
  // checking each against the header and the file, and the block and row
  // counts against the footer: the file's layout, before any payload is
  // read.
  StatusOr<std::vector<BlockRef>> ScanBlocks() const;
  // Reads the payload of `block` (from ScanBlocks) into `out` and checks
  // its checksum. Safe to call from another thread than the one that
  // opened the file, one call at a time.
  Status ReadBlock(const BlockRef& block, std::vector<char>* out) const;

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
};

// Reads every block of `reader`'s file, checking each checksum; DataLoss
// naming the first damaged one.
Status VerifyAllBlocks(FileReader& reader);

}  // namespace embedps::ps::checkpoint
